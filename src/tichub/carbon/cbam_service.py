"""CBAM use cases: the only place that writes installations; results, the communication to
importers and the default values are computed on demand from the stored document by the pure
core (``cbam.py``, ``cbam_sheet.py``), never stored, so they always follow the document and
the default-value table in force."""

from __future__ import annotations

import dataclasses
import math
from contextlib import suppress
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.carbon import cbam, cbam_sheet
from tichub.carbon.cbam_schemas import (
    CommunicationGoodOut,
    CommunicationOut,
    DefaultOut,
    GoodOut,
    InstallationDoc,
    InstallationIn,
    InstallationOut,
    InstallationSummary,
    ResultsOut,
    WarningOut,
)
from tichub.carbon.models import CbamInstallation
from tichub.core import audit, errors
from tichub.core.auth import Principal, can, require, require_member
from tichub.core.errors import FieldError
from tichub.core.ids import utcnow
from tichub.core.messages import Msg
from tichub.core.models import Role

SCOPE = "carbon:write"
MAX_UPLOAD = 5 * 1024 * 1024
DEFAULTS_CSV = Path(cbam.__file__).parent / "data" / "cbam_defaults.csv"
FIRST_YEAR = 2026  # the first year default values carry a mark-up (and the definitive period)


@cache
def default_table() -> tuple[cbam.DefaultValue, ...]:
    """The Commission's default values, as the act named in each row prints them."""
    return tuple(cbam.read_defaults(DEFAULTS_CSV.read_text(encoding="utf-8")))


def refused(faults: list[FieldError]) -> errors.Problem:
    return errors.Problem(422, "Invalid input", detail=Msg("{count} error(s)",
                                                           count=len(faults)), errors=faults)


# --- the document and the core -------------------------------------------------------------

def core_installation(doc: InstallationDoc) -> cbam.Installation:
    streams = tuple(cbam.SourceStream(
        s.name, s.method, s.activity, ncv=s.ncv, ef=s.ef, carbon_content=s.carbon_content,
        oxidation=s.oxidation, conversion=s.conversion, biomass=s.biomass) for s in doc.streams)
    streams_total = math.fsum(s.emissions() for s in streams)
    processes = tuple(cbam.ProductionProcess(
        p.key, p.name, p.cn, p.activity_level,
        direct=streams_total if p.direct is None else p.direct,
        electricity_mwh=p.electricity_mwh, electricity_ef=p.electricity_ef,
        electricity_ef_source=p.electricity_ef_source, heat_imported=p.heat_imported,
        heat_exported=p.heat_exported, waste_gas_imported=p.waste_gas_imported,
        waste_gas_exported=p.waste_gas_exported, electricity_produced=p.electricity_produced,
        uses=tuple(cbam.Use(u.source, u.mass) for u in p.uses), route=p.route)
        for p in doc.processes)
    precursors = tuple(cbam.Precursor(
        p.key, p.name, p.cn, p.country, see_direct=p.see_direct, see_indirect=p.see_indirect,
        electricity_mwh_per_t=p.electricity_mwh_per_t, electricity_ef=p.electricity_ef,
        default=p.default) for p in doc.precursors)
    # The communication is read by importers in the EU: its installation name is English
    # where the operator gave one.
    return cbam.Installation(doc.name_en or doc.name, doc.country, doc.period_start,
                             doc.period_end, processes, precursors, streams, doc.unlocode)


def _compute(inst: cbam.Installation) -> list[cbam.GoodResult]:
    try:
        return cbam.compute(inst)
    except cbam.CbamError as exc:
        raise errors.invalid("processes", str(exc)) from None


def check(doc: InstallationDoc) -> None:
    """Refuses a document the core cannot compute, naming each field at fault."""
    faults = doc.faults()
    # Of a process's good, the other processes cannot use more than it makes (what comes
    # from elsewhere is a purchased precursor): this also rules out loops with no output.
    made = {p.key: (i, p.activity_level) for i, p in enumerate(doc.processes)}
    used: dict[str, float] = {}
    for p in doc.processes:
        for u in p.uses:
            used[u.source] = used.get(u.source, 0.0) + u.mass
    for key, (i, level) in made.items():
        if used.get(key, 0.0) > level:
            faults.append(FieldError(f"processes.{i}.activity_level",
                                     Msg("the processes use {mass} t of this good, more "
                                         "than it makes", mass=f"{used[key]:g}")))
    if faults:
        raise refused(faults)
    _compute(core_installation(doc))


def carbon_prices(doc: InstallationDoc) -> list[cbam_sheet.CarbonPrice]:
    return [cbam_sheet.CarbonPrice(p.cn, p.instrument, p.legal_reference, p.currency,
                                   p.price_per_t, p.covered_t_per_t, p.rebate_t_per_t,
                                   p.fx_to_eur) for p in doc.carbon_prices]


# --- installations -------------------------------------------------------------------------

def _stored(data: InstallationDoc) -> dict[str, Any]:
    return InstallationDoc.model_validate(data.model_dump()).model_dump(mode="json")


def document(row: CbamInstallation) -> InstallationDoc:
    return InstallationDoc.model_validate(row.data)


def output(row: CbamInstallation) -> InstallationOut:
    return InstallationOut.model_validate({**row.data, "id": row.id, "org_id": row.org_id,
                                           "created_at": row.created_at,
                                           "updated_at": row.updated_at})


def summary(row: CbamInstallation) -> InstallationSummary:
    doc = row.data
    return InstallationSummary(
        id=row.id, org_id=row.org_id, name=row.name, country=doc["country"],
        period_start=doc["period_start"], period_end=doc["period_end"],
        goods=[p["cn"] for p in doc["processes"]], updated_at=row.updated_at)


def create_installation(db: Session, principal: Principal, data: InstallationIn
                        ) -> CbamInstallation:
    require_member(principal, Role.editor, org=data.org_id, scope=SCOPE)
    check(data)
    row = CbamInstallation(org_id=data.org_id, name=data.name, data=_stored(data),
                           created_by=principal.user_id)
    db.add(row)
    db.flush()
    audit.record(db, action="carbon.cbam.installation.created",
                 object_type="carbon_cbam_installation", object_id=row.id,
                 actor_user_id=principal.user_id, org_id=row.org_id)
    db.commit()
    return row


def get_installation(db: Session, principal: Principal, installation_id: str
                     ) -> CbamInstallation:
    """The owner's members, regulators and the platform's operators; to others it does not
    exist."""
    row = db.get(CbamInstallation, installation_id)
    if row is None or not can(principal, Role.viewer, org=row.org_id):
        raise errors.Problem(404, "Not found", detail=Msg("No such CBAM installation"))
    return row


def may_edit(principal: Principal, row: CbamInstallation) -> bool:
    """Whether the pages should offer to change it (the same check the change makes)."""
    try:
        require_member(principal, Role.editor, org=row.org_id, scope=SCOPE)
    except errors.Problem:
        return False
    return True


def update_installation(db: Session, principal: Principal, installation_id: str,
                        data: InstallationIn) -> CbamInstallation:
    row = get_installation(db, principal, installation_id)
    require_member(principal, Role.editor, org=row.org_id, scope=SCOPE)
    if data.org_id != row.org_id:
        raise errors.invalid("org_id", Msg("an installation stays with its organisation"))
    check(data)
    row.name = data.name
    row.data = _stored(data)
    row.updated_at = utcnow()
    # What importers were told may change with it: who changed the document, and when.
    audit.record(db, action="carbon.cbam.installation.updated",
                 object_type="carbon_cbam_installation", object_id=row.id,
                 actor_user_id=principal.user_id, org_id=row.org_id)
    db.commit()
    return row


def list_installations(db: Session, principal: Principal, org_id: str
                       ) -> list[CbamInstallation]:
    require(principal, Role.viewer, org=org_id)
    return list(db.scalars(select(CbamInstallation).where(CbamInstallation.org_id == org_id)
                           .order_by(CbamInstallation.updated_at.desc(),
                                     CbamInstallation.id)))


# --- results -------------------------------------------------------------------------------

def default_out(row: cbam.DefaultValue, year: int) -> DefaultOut:
    marked = row.for_year(year)
    return DefaultOut(table=row.table, country=row.country, cn=row.cn,
                      description=row.description, route=row.route, direct=row.direct,
                      indirect=row.indirect, total=row.total, year=year,
                      # from the printed columns, which the act computed unrounded
                      markup=round(marked / row.total - 1, 2) if row.total else 0.0,
                      with_markup=marked)


def find_default(cn: str, country: str, route: str = "") -> cbam.DefaultValue:
    """The row for the good; where the act prints several for one CN code (grey and white
    clinker), the one of the good's production route."""
    table = default_table()
    found = cbam.find_default(list(table), cn, country)
    same = [r for r in table if r.country == found.country and r.cn == found.cn]
    return next((r for r in same if route and r.route == route.strip()), found)


def _warning(text: str, share: float) -> WarningOut:
    # The core says why in English; the pages need to know which warning it is to say it
    # in the reader's language.
    if text.startswith("CN ") and text.endswith("is not a CBAM good"):
        return WarningOut(code="not_cbam_good", message=text)
    if text.startswith("after 31 July 2024 a simple good"):
        return WarningOut(code="simple_good_estimated", message=text)
    if text.startswith("estimates"):
        return WarningOut(code="estimates_over_limit", message=text, share=share)
    return WarningOut(code="other", message=text)


def compute(doc: InstallationDoc, year: int, installation_id: str = "") -> ResultsOut:
    inst = core_installation(doc)
    due: dict[str, float] = {}
    for price in carbon_prices(doc):
        key = cbam.clean_cn(price.cn)
        due[key] = due.get(key, 0.0) + price.due_eur_per_t
    routes = {p.key: p.route for p in doc.processes}
    goods = []
    for g in _compute(inst):
        warnings = [_warning(w, g.default_share) for w in g.warnings]
        default = saving = None
        # Default values are the definitive period's: compared on its basis (direct only
        # for Annex II goods) whatever period the installation reported.
        definitive = dataclasses.replace(g, direct_only=cbam.direct_only(g.cn, True))
        try:
            row = find_default(g.cn, doc.country, routes[g.process])
        except cbam.CbamError as exc:
            if cbam.category(g.cn) is not None:  # else already "not a CBAM good"
                warnings.append(WarningOut(code="no_default", message=exc.message))
        else:
            default = default_out(row, year)
            saving = cbam.compare(definitive, row, year)["saving_per_t"]
        goods.append(GoodOut(
            process=g.process, name=g.name, cn=g.cn, category=cbam.category(g.cn),
            route=routes[g.process], activity_level=g.activity_level,
            attributed_direct=g.attributed_direct, attributed_indirect=g.attributed_indirect,
            see_direct=g.see_direct, see_indirect=g.see_indirect, see_total=g.see_total,
            see_counted=g.see_counted, see_compared=definitive.see_counted,
            embedded_electricity=g.embedded_electricity,
            direct_only=g.direct_only, default_share=g.default_share,
            carbon_price_due_eur_per_t=due.get(cbam.clean_cn(g.cn), 0.0), default=default,
            saving_per_t=saving, warnings=warnings))
    streams_total = math.fsum(s.emissions() for s in inst.streams)
    given = math.fsum(p.direct for p in doc.processes if p.direct is not None)
    notes = []
    if inst.streams and given > streams_total * (1 + 1e-9) + 1e-9:
        notes.append(WarningOut(
            code="attributed_exceeds_streams",
            message=f"the processes are attributed {given:,.2f} t CO2e of direct emissions, "
                    f"more than the source streams emit ({streams_total:,.2f} t CO2e)"))
    return ResultsOut(installation_id=installation_id, name=doc.name, country=doc.country,
                      period_start=doc.period_start, period_end=doc.period_end,
                      definitive=inst.definitive, year=year, streams_total=streams_total,
                      goods=goods, warnings=notes)


def default_year(doc: InstallationDoc) -> int:
    """Goods are imported in or after the year they were made, from 2026 on."""
    return max(FIRST_YEAR, doc.period_end.year)


def results(db: Session, principal: Principal, installation_id: str, year: int | None = None
            ) -> ResultsOut:
    row = get_installation(db, principal, installation_id)
    doc = document(row)
    return compute(doc, year or default_year(doc), row.id)


def communication(db: Session, principal: Principal, installation_id: str
                  ) -> tuple[str, bytes]:
    """The operator's communication to importers as an Excel workbook, and its file name."""
    row = get_installation(db, principal, installation_id)
    doc = document(row)
    inst = core_installation(doc)
    data = cbam_sheet.write(inst, _compute(inst), carbon_prices(doc))
    return f"cbam-communication-{doc.period_start}-{doc.period_end}-{row.id}.xlsx", data


# --- default values, and communications received --------------------------------------------

def lookup_defaults(cn: str, country: str, year: int) -> list[DefaultOut]:
    """Every default value the act prints for the good from that country (one per route or
    description); public data."""
    code = cbam.clean_cn(cn.strip())
    if not code.isdigit() or not 4 <= len(code) <= 10:
        raise errors.invalid("cn", "a CN code has 4 to 10 digits")
    where = country.strip().upper()
    if not (len(where) == 2 and where.isalpha()) and where != "UNKNOWN":
        raise errors.invalid("country", "give a two-letter country code, or UNKNOWN for a "
                             "precursor of unknown origin")
    try:
        found = cbam.find_default(list(default_table()), cn.strip(), where)
    except cbam.CbamError as exc:
        raise errors.Problem(404, "Not found", detail=exc.message,
                             errors=[FieldError("cn", exc.message)]) from None
    return [default_out(r, year) for r in default_table()
            if r.country == found.country and r.cn == found.cn]


def _as_date(value: Any, label: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise errors.invalid("file", Msg("{label} is not a date (YYYY-MM-DD): {value}",
                                         label=label, value=str(value))) from None


def _number(values: dict[str, Any], column: str) -> float | None:
    value = values.get(column)
    return float(value) if isinstance(value, int | float) else None


def _checks(values: dict[str, Any], cn: str, definitive: bool | None) -> list[str]:
    """What an importer would query in a supplier's row: sums that do not add up, a flag
    that contradicts the good, values out of range."""
    out = []
    if not cn:
        return ["the row has no CN code"]
    if cbam.category(cn) is None:
        out.append(f"CN {cn} is not a CBAM good")
    d, i, t, c = (_number(values, f"SEE {k} (tCO2e/t)") for k in
                  ("direct", "indirect", "total", "counted"))
    for name, v in (("direct", d), ("indirect", i), ("total", t), ("counted", c)):
        if v is None:
            out.append(f"SEE {name} is missing")
        elif v < 0:
            out.append(f"SEE {name} is negative")
    if d is not None and i is not None and t is not None \
            and not math.isclose(t, d + i, rel_tol=1e-6, abs_tol=1e-9):
        out.append(f"SEE total {t:g} is not SEE direct plus SEE indirect ({d + i:g})")
    flag = str(values.get("Direct emissions only") or "").strip().lower()
    if flag in ("yes", "no") and c is not None:
        expected = d if flag == "yes" else t
        if expected is not None and not math.isclose(c, expected, rel_tol=1e-6,
                                                      abs_tol=1e-9):
            out.append("SEE counted is not SEE " + ("direct" if flag == "yes" else "total"))
    if flag in ("yes", "no") and definitive is not None \
            and (flag == "yes") != cbam.direct_only(cn, definitive):
        out.append("'Direct emissions only' says " + flag + f" but CN {cn} counts " + (
            "direct emissions only" if cbam.direct_only(cn, definitive) else
            "direct and indirect emissions") + " in that period")
    share = _number(values, "Share of default values")
    if share is not None and not 0 <= share <= 1:
        out.append("the share of default values is not between 0 and 1")
    return out


def read_communication(data: bytes, year: int = FIRST_YEAR) -> CommunicationOut:
    """A communication received (or sent earlier) as data: its installation, period and
    goods, each checked and set against the default value of its country of origin.
    Stores nothing."""
    if not data:
        raise errors.invalid("file", Msg("the file is empty"))
    if len(data) > MAX_UPLOAD:
        raise errors.invalid("file", Msg("is larger than {size} MiB",
                                         size=MAX_UPLOAD // 1024 // 1024))
    try:
        comm = cbam_sheet.read(data)
    except cbam_sheet.SheetError as exc:
        raise errors.invalid("file", str(exc)) from None
    start = _as_date(comm.installation.get("Reporting period start"), "Reporting period start")
    end = _as_date(comm.installation.get("Reporting period end"), "Reporting period end")
    if start and end and end < start:
        raise errors.invalid("file", Msg("the reporting period ends before it starts"))
    raw = str(comm.installation.get("Country") or "").strip().upper()
    country = raw if len(raw) == 2 and raw.isalpha() else None
    definitive = end >= cbam.DEFINITIVE_FROM if end else None
    goods = []
    for values in comm.goods:
        cn = str(values.get("CN code") or "").strip()
        default = None
        if cn and country and cbam.category(cn):
            with suppress(cbam.CbamError):  # none for it: shown as such
                default = default_out(find_default(cn, country,
                                                   str(values.get("Production route") or "")),
                                      year)
        goods.append(CommunicationGoodOut(
            values={k: v for k, v in values.items() if k}, category=cbam.category(cn)
            if cn else None, checks=_checks(values, cn, definitive), default=default))
    return CommunicationOut(installation={str(k): v for k, v in comm.installation.items()},
                            period_start=start, period_end=end, country=country, goods=goods)
