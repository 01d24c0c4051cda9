"""A small supervised world for the inspection and sanction tests: a city bureau, two
district bureaus, a lab with institutions in Pudong and one in Jiading, and report numbers
to register."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from helpers import Account, api_token, make_account, make_institution
from server import Lab, make_lab, report
from tichub.core.models import OrgKind
from tichub.registry.models import QualificationKind
from tichub.reports import service as reports
from tichub.supervision.models import Bureau

SCOPES = ["supervision:read", "supervision:write"]


@dataclass
class World:
    city: Account
    pudong: Account
    jiading: Account
    lab: Lab
    pudong_ids: list[str]  # the lab's institutions in Pudong, the first is lab.institution_id
    jiading_id: str
    auth: dict[str, dict[str, str]] = field(default_factory=dict)


def regulator(db: Session, email: str, district: str | None) -> Account:
    acc = make_account(db, email, kind=OrgKind.regulator)
    db.add(Bureau(org_id=acc.org.id, district=district))
    db.commit()
    return acc


def build(db: Session, pudong_count: int = 4) -> World:
    lab = make_lab(db)
    pudong = [lab.institution_id]
    for n in range(2, pudong_count + 1):
        inst, _ = make_institution(db, lab.account, name=f"浦东检测{n}", serial=n,
                                   qual_kind=QualificationKind.cma, number=f"CMA 31{n:04d}")
        pudong.append(inst)
    jiading, _ = make_institution(db, lab.account, name="嘉定检测", serial=90,
                                  district="jiading", qual_kind=QualificationKind.cma,
                                  number="CMA 319090")
    w = World(regulator(db, "city@samr.cn", None), regulator(db, "pd@samr.cn", "pudong"),
              regulator(db, "jd@samr.cn", "jiading"), lab, pudong, jiading)
    for name in ("city", "pudong", "jiading"):
        acc: Account = getattr(w, name)
        w.auth[name] = {"Authorization": "Bearer " + api_token(db, acc, SCOPES)}
    w.auth["lab"] = {"Authorization": "Bearer " + api_token(
        db, lab.account, ["reports:write", "supervision:read", "supervision:write"])}
    return w


def register(client: TestClient, w: World, number: str, **changes: Any) -> dict[str, Any]:
    r = client.post("/api/reports", json={**report(w.lab, number), **changes},
                    headers=w.lab.auth)
    assert r.status_code == 201, r.text
    return dict(r.json())


def integrate(client: TestClient, db: Session) -> int:
    return reports.integrate_all(db, client.app.state.log)  # type: ignore[attr-defined]


def inspectors(client: TestClient, w: World, who: str, count: int,
               conflicts: list[list[dict[str, Any]]] | None = None) -> list[str]:
    ids = []
    for k in range(count):
        body = {"name": f"检查员{k}", "conflicts": (conflicts or [])[k]
                if conflicts and k < len(conflicts) else []}
        r = client.post("/api/supervision/inspectors", json=body, headers=w.auth[who])
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


PLAN = {"title": "2026年第四季度检验检测机构双随机抽查",
        "items": [{"code": "1", "description": "资质认定证书及能力范围"},
                  {"code": "2", "description": "原始记录与报告一致性"}]}
