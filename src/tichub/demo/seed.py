"""The demo data set: deterministic for a given seed and scale, realistic in shape.

Standards, their titles, products and parameters come from ``data/standards.csv`` (real
standard numbers from the action plan's sectors); labs, names and numbers are invented.
Scale 1 is about 300 institutions; rows are written in bulk so benchmarks can build
millions of scope lines.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from ulid import ULID

from tichub.core import audit, service
from tichub.core.ids import new_id, utcnow
from tichub.core.models import Organisation, OrgKind, Role
from tichub.core.progress import ProgressFactory, bars
from tichub.demo.names import (
    BRANDS,
    CENTRES,
    DISTRICT_WEIGHTS,
    KIND_WORDS,
    PARKS,
    SECTOR_WORDS,
    STREETS,
)
from tichub.registry.credit_code import check_character
from tichub.registry.districts import BY_SLUG
from tichub.registry.models import Institution, Qualification, ScopeLine, SearchDoc
from tichub.registry.search_index import LineWords, docs_for, keys_for, next_seq
from tichub.registry.standards import parse

DATA = Path(__file__).resolve().parent / "data"
BASE_DATE = date(2026, 1, 1)  # fixed, so the same seed always gives the same dates
DEMO_PASSWORD = "tichub-demo-2027"
BATCH = 20_000



@dataclass(frozen=True)
class Standard:
    sector: str
    number: str
    title_zh: str
    title_en: str
    product_zh: str
    product_en: str
    parameters_zh: tuple[str, ...]
    parameters_en: tuple[str, ...]


def load_standards() -> list[Standard]:
    with (DATA / "standards.csv").open(encoding="utf-8") as fh:
        return [
            Standard(r["sector"], r["standard"], r["title_zh"], r["title_en"], r["product_zh"],
                     r["product_en"], tuple(r["parameters_zh"].split(";")),
                     tuple(r["parameters_en"].split(";")))
            for r in csv.DictReader(fh)
        ]


# Demo accounts, listed in the README.
DEMO_USERS = [
    ("operator@demo.tichub.cn", "平台运营 Operator", "TICHub 平台运营中心", OrgKind.operator,
     Role.admin),
    ("regulator@demo.tichub.cn", "市场监管 Regulator", "上海市市场监督管理局（演示）",
     OrgKind.regulator, Role.viewer),
    ("company@demo.tichub.cn", "企业用户 Company", "上海示例储能科技有限公司（演示）",
     OrgKind.enterprise, Role.admin),
]
DEMO_LAB_USERS = [("lab@demo.tichub.cn", "检测机构管理员 Lab admin", Role.admin),
                  ("lab-editor@demo.tichub.cn", "检测机构编辑 Lab editor", Role.editor)]
DEMO_CB_USER = ("cb@demo.tichub.cn", "认证机构管理员 CB admin", Role.admin)


def seed_everything(db: Session, log: Any, *, scale: float = 1.0, rng_seed: int = 2027,
                    progress: ProgressFactory | None = None) -> dict[str, int]:
    """The whole demo: the directory and its evidence registers, then PT, the marketplace,
    carbon and the reports' log, then supervision (planted irregularities, signals, approval,
    an inspection draw with a sanction, complaints, credit tiers), each phase with its own
    progress bar (none of them is silent for seconds)."""
    from tichub.demo.carbon import seed_carbon
    from tichub.demo.evidence import seed_evidence
    from tichub.demo.market import seed_market
    from tichub.demo.pt import seed_pt
    from tichub.demo.registers import seed_registers
    from tichub.demo.reports import seed_reports
    from tichub.demo.signals import run_demo_signals
    from tichub.demo.supervision_bureaus import seed_bureaus, seed_complaints, seed_tiers
    from tichub.supervision.approval.demo import seed_applications
    from tichub.supervision.inspections.demo import seed_inspections

    factory = progress or bars(show=False)
    counts = seed(db, scale=scale, seed=rng_seed, progress=factory)
    phases: list[tuple[str, str, Callable[[], int]]] = [
        # The bureaus first: the supervisors act through the ordinary jurisdiction checks.
        ("bureaus", "supervision bureaus", lambda: len(seed_bureaus(db))),
        # The registers before the reports, whose evidence names their rows.
        ("register entries", "evidence registers", lambda: seed_registers(db)),
        ("PT rounds", "proficiency testing", lambda: seed_pt(db, log, seed=rng_seed)),
        ("orders", "marketplace", lambda: seed_market(db)),
        ("footprint studies", "carbon footprints", lambda: seed_carbon(db, log)),
        ("reports in the log", "reports and the log", lambda: seed_reports(db, log, seed=rng_seed)),
        ("planted irregularities", "irregular evidence in other labs",
         lambda: len(seed_evidence(db, log, seed=rng_seed))),
        ("signals", "fraud signals", lambda: run_demo_signals(db)),
        ("applications", "qualification applications", lambda: seed_applications(db)),
        ("inspections", "a double-random inspection",
         lambda: int(seed_inspections(db, log).get("inspections", 0))),
        ("complaints", "complaints", lambda: seed_complaints(db)),
        # Last: the tiers count the signals, findings and sanctions seeded before.
        ("credit scores", "credit-risk tiers", lambda: seed_tiers(db)),
    ]
    for key, label, run in phases:
        with factory(1, label) as advance:
            counts[key] = run()
            advance(1)
    return counts


def has_data(db: Session) -> bool:
    return bool(db.scalar(select(func.count()).select_from(Institution)))


def credit_code_for(rng: random.Random, district_code: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    org_code = "".join(rng.choice("0123456789") for _ in range(8)) + rng.choice(alphabet[:10])
    first17 = "91" + district_code + org_code
    return first17 + check_character(first17)


class DemoIds:
    """ULIDs from the seed, so the same seed gives the same ids (and stable demo links)."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed * 7919 + 1)
        self._ms = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)

    def next(self) -> str:
        self._ms += 1
        return str(ULID.from_bytes(self._ms.to_bytes(6, "big") + self._rng.randbytes(10)))


def seed(
    db: Session, *, scale: float = 1, seed: int = 2027,
    progress: ProgressFactory | None = None,
) -> dict[str, int]:
    rng = random.Random(seed)
    ids = DemoIds(seed)
    standards = load_standards()
    by_sector: dict[str, list[Standard]] = defaultdict(list)
    for s in standards:
        by_sector[s.sector].append(s)
    n_institutions = max(3, round(300 * scale))
    counts = {"institutions": 0, "qualifications": 0, "scope lines": 0, "users": 0}

    # Accounts first, through the ordinary use cases (argon2 hashes, audit entries).
    for email, name, org_name, demo_kind, role in DEMO_USERS:
        org = service.create_organisation(db, name=org_name, kind=demo_kind)
        service.create_user(db, email=email, password=DEMO_PASSWORD, display_name=name,
                            org=org, role=role)
        counts["users"] += 1
    db.commit()

    factory = progress or bars(show=False)
    pending: dict[str, list[dict[str, Any]]] = defaultdict(list)
    districts = list(DISTRICT_WEIGHTS)
    weights = list(DISTRICT_WEIGHTS.values())
    sectors = sorted(by_sector)
    numbers_used: set[str] = set(db.scalars(select(Institution.credit_code)))
    first_seq = next_seq(db)
    demo_lab_org = demo_cb_org = battery_lab_org = None

    with factory(n_institutions, "institutions") as advance:
        for i in range(n_institutions):
            kind = "certification_body" if rng.random() < 0.12 else (
                "inspection_body" if rng.random() < 0.08 else "lab")
            size = rng.choices(["small", "medium", "large", "leader"], [55, 30, 12, 3])[0]
            district = rng.choices(districts, weights)[0]
            focus = rng.sample(sectors, k={"small": 1, "medium": 2, "large": 3,
                                           "leader": 5}[size])
            brand_zh, brand_en = BRANDS[i % len(BRANDS)]
            sector_zh, sector_en = SECTOR_WORDS[focus[0]]
            kind_zh, kind_en = KIND_WORDS[kind]
            serial = i // len(BRANDS)
            suffix_zh = "" if serial == 0 else f"第{serial + 1}"
            suffix_en = "" if serial == 0 else f" No. {serial + 1}"
            org_id = ids.next()
            org_kind: OrgKind = (OrgKind.certification_body if kind == "certification_body"
                                 else OrgKind.lab)
            pending["organisations"].append({
                "id": org_id, "name": f"上海{brand_zh}{sector_zh}{suffix_zh}{kind_zh}",
                "kind": org_kind.value, "created_at": utcnow()})
            if demo_lab_org is None and org_kind is OrgKind.lab and size != "small":
                demo_lab_org = org_id
            # The demo company makes batteries: its lab, where there is one, tests them.
            if battery_lab_org is None and org_kind is OrgKind.lab and size != "small" \
                    and "batteries" in focus:
                battery_lab_org = org_id
            if demo_cb_org is None and org_kind is OrgKind.certification_body:
                demo_cb_org = org_id
            lat, lon = CENTRES[district]
            inst_id = ids.next()
            inst = Institution(
                id=inst_id, org_id=org_id, seq=first_seq + i, kind=kind,
                name_zh=f"上海{brand_zh}{sector_zh}{suffix_zh}{kind_zh}",
                name_en=f"Shanghai {brand_en} {sector_en}{suffix_en} {kind_en}",
                credit_code="", district=district,
                address=(f"上海市{BY_SLUG[district].zh}{rng.choice(STREETS)}"
                         f"{rng.randint(1, 2999)}号"),
                latitude=round(lat + rng.uniform(-0.05, 0.05), 5),
                longitude=round(lon + rng.uniform(-0.05, 0.05), 5),
                industrial_park=rng.choice(PARKS[district]) if district in PARKS and
                rng.random() < 0.5 else None,
                revenue_tier={"small": "under_10m", "medium": "10m_to_100m",
                              "large": "100m_to_1b", "leader": "over_1b"}[size],
                specialised=size in ("medium", "large") and rng.random() < 0.3,
                headquarters=size == "leader" or (size == "large" and rng.random() < 0.3),
                published=True,
            )
            code = credit_code_for(rng, BY_SLUG[district].code)
            while code in numbers_used:
                code = credit_code_for(rng, BY_SLUG[district].code)
            numbers_used.add(code)
            inst.credit_code = code
            pending["institutions"].append({
                "id": inst_id, "org_id": org_id, "seq": inst.seq, "kind": kind,
                "name_zh": inst.name_zh,
                "name_en": inst.name_en, "credit_code": code, "district": district,
                "address": inst.address, "latitude": inst.latitude, "longitude": inst.longitude,
                "industrial_park": inst.industrial_park, "revenue_tier": inst.revenue_tier,
                "specialised": inst.specialised, "headquarters": inst.headquarters,
                "published": True, "created_at": utcnow(), "updated_at": utcnow()})

            quals = _qualifications(rng, ids, i, kind, size, focus, inst_id)
            pending["qualifications"].extend(
                {k: getattr(q, k) for k in ("id", "institution_id", "kind", "number",
                                            "issued_on", "valid_until", "status")}
                | {"created_at": utcnow()} for q in quals)
            keys = keys_for(inst, quals)
            lines_by_q = _scope(rng, ids, size, focus, by_sector, quals, keys, inst_id, pending)
            for doc in docs_for(inst, quals, lines_by_q):
                pending["search_docs"].append({
                    "id": doc.id, "institution_id": doc.institution_id,
                    "qualification_id": doc.qualification_id,
                    "body": doc.body, "products": doc.products or "",
                    "parameters": doc.parameters or ""})
            counts["institutions"] += 1
            counts["qualifications"] += len(quals)
            if sum(len(v) for v in pending.values()) >= BATCH:
                _flush(db, pending)
            advance(1)
    _flush(db, pending)
    demo_lab_org = battery_lab_org or demo_lab_org
    counts["scope lines"] = db.scalar(select(func.count()).select_from(ScopeLine)) or 0

    # Named demo users inside one lab and one certification body.
    lab_org = service.find_organisation(db, demo_lab_org) if demo_lab_org else None
    cb_org = service.find_organisation(db, demo_cb_org) if demo_cb_org else None
    for email, name, role in DEMO_LAB_USERS:
        if lab_org is not None:
            service.create_user(db, email=email, password=DEMO_PASSWORD, display_name=name,
                                org=lab_org, role=role)
            counts["users"] += 1
    if cb_org is not None:
        email, name, role = DEMO_CB_USER
        service.create_user(db, email=email, password=DEMO_PASSWORD, display_name=name,
                            org=cb_org, role=role)
        counts["users"] += 1
    audit.record(db, action="demo.seeded", object_type="dataset", object_id=new_id(),
                 actor_user_id=None, org_id=None, data={"scale": scale, "seed": seed, **counts})
    db.commit()
    return counts


def _qualifications(rng: random.Random, ids: DemoIds, i: int, kind: str, size: str,
                    focus: list[str], inst_id: str) -> list[Qualification]:
    quals: list[Qualification] = []

    def add(qkind: str, number: str) -> None:
        issued = BASE_DATE - timedelta(days=rng.randint(30, 5 * 365))
        valid_until = issued + timedelta(days=6 * 365)  # CMA and CNAS run six years
        roll = rng.random()
        if roll < 0.06:
            status, valid_until = "valid", BASE_DATE - timedelta(days=rng.randint(1, 400))
        elif roll < 0.09:
            status = "suspended"
        elif roll < 0.10:
            status = "withdrawn"
        else:
            status = "valid"
            valid_until = max(valid_until, BASE_DATE + timedelta(days=rng.randint(400, 2000)))
        quals.append(Qualification(id=ids.next(), institution_id=inst_id, kind=qkind,
                                   number=number, issued_on=issued, valid_until=valid_until,
                                   status=status))

    if kind == "certification_body":
        add("cnas", f"CNAS C{100 + i:03d}")
        return quals
    # A CMA number: year issued, province code 09 for Shanghai, a serial.
    add("cma", f"{rng.randint(15, 25):02d}09{(i * 7919) % 10**8:08d}")
    if size != "small" or rng.random() < 0.4:
        add("cnas", f"CNAS {'I' if kind == 'inspection_body' else 'L'}{1000 + i}")
    if kind == "lab" and size in ("large", "leader") and {"electrical", "batteries"} & set(focus):
        add("cbtl", f"CBTL-CN-SH{i:04d}")
    return quals


def _scope(
    rng: random.Random, ids: DemoIds, size: str, focus: list[str],
    by_sector: dict[str, list[Standard]],
    quals: list[Qualification], keys: dict[str | None, int], inst_id: str,
    pending: dict[str, list[dict[str, Any]]],
) -> dict[str, list[LineWords]]:
    n_standards = {"small": (3, 10), "medium": (8, 25), "large": (20, 60),
                   "leader": (50, 150)}[size]
    pool = [s for sector in focus for s in by_sector[sector]]
    chosen = rng.sample(pool, k=min(len(pool), rng.randint(*n_standards)))
    lines: dict[str, list[LineWords]] = defaultdict(list)
    line_no: dict[str, int] = defaultdict(int)
    for std in chosen:
        parsed = parse(std.number)
        international = parsed.key.split(" ")[0] in ("IEC", "ISO", "EN", "UL", "ISO/IEC")
        # CMA covers everything a lab tests for the Chinese market; CNAS most of it; the
        # CB scheme only IEC standards.
        targets = [q for q in quals if q.kind == "cma" or (q.kind == "cnas" and
                   rng.random() < 0.8) or (q.kind == "cbtl" and international)]
        if not targets:
            targets = quals[:1]
        params = list(zip(std.parameters_zh, std.parameters_en, strict=False))
        k = max(1, round(len(params) * rng.uniform(0.5, 1.0)))
        for q in targets:
            for p_zh, p_en in params[:k]:
                line_no[q.id] += 1
                pending["scope_lines"].append({
                    "id": ids.next(), "qualification_id": q.id, "institution_id": inst_id,
                    "doc_key": keys[q.id],
                    "line_no": line_no[q.id], "standard": parsed.display, "std_key": parsed.key,
                    "std_year": parsed.year, "standard_title": std.title_zh,
                    "product": std.product_zh, "parameter": p_zh,
                    "product_en": std.product_en, "parameter_en": p_en,
                    "method_clause": None, "limitation": None})
                lines[q.id].append(LineWords(std.product_zh, p_zh, std.title_zh,
                                             std.product_en, p_en))
    return lines


# Parents before children, for the foreign keys.
TABLES: list[tuple[str, type[Any]]] = [
    ("organisations", Organisation), ("institutions", Institution),
    ("qualifications", Qualification), ("scope_lines", ScopeLine), ("search_docs", SearchDoc),
]


def _flush(db: Session, pending: dict[str, list[dict[str, Any]]]) -> None:
    for name, model in TABLES:
        rows = pending.pop(name, [])
        if rows:
            db.execute(insert(model.__table__), rows)
    db.commit()

