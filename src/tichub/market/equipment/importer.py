"""Import of the equipment register from CSV or Excel: one row per instrument, or one per
calibration, verification or outage of it (rows sharing an asset number are one
instrument). Every row is checked first; any fault refuses the whole file, naming the row
and the field. An asset number already in the register updates that instrument and adds the
records it does not hold yet, so that the same file imported twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core import audit, errors
from tichub.core.auth import Principal
from tichub.core.errors import FieldError
from tichub.core.messages import Msg
from tichub.core.tables import Columns, read_table
from tichub.market.equipment import service
from tichub.market.equipment.schemas import EquipmentIn, EventIn
from tichub.market.models import Instrument, InstrumentEvent, InstrumentEventKind
from tichub.supervision.registers import access, cells

COLUMNS: Columns = {
    "asset_no": ("asset_no", "资产编号", "设备编号", "管理编号"),
    "name": ("name", "设备名称", "名称"),
    "kind": ("kind", "设备类型", "类型"),
    "maker": ("maker", "制造商", "生产厂家"),
    "model": ("model", "型号", "规格型号"),
    "location": ("location", "存放地点", "地点"),
    "tests_per_day": ("tests_per_day", "日检测能力", "每日检测数"),
    "hours_per_test": ("hours_per_test", "单次检测时长", "每次检测小时数"),
    "shared": ("shared", "共享", "是否共享"),
    "event_kind": ("event_kind", "记录类型", "溯源方式"),
    "valid_from": ("valid_from", "有效期起", "开始日期", "校准日期"),
    "valid_until": ("valid_until", "有效期至", "结束日期"),
    "certificate_no": ("certificate_no", "证书编号"),
    "performed_by": ("performed_by", "校准机构", "检定机构"),
    "note": ("note", "备注"),
}
REQUIRED = ("asset_no", "name", "kind")
# The Chinese header of each field, for the template a Chinese reader downloads.
HEADERS_ZH = {f: aliases[1] for f, aliases in COLUMNS.items()}
KIND_NAMES = {"校准": "calibration", "检定": "verification", "停用": "out_of_service",
              "维修": "out_of_service", "停用/维修": "out_of_service"}
EXAMPLE = [["EQ-001", "电感耦合等离子体质谱仪", "ICP-MS", "Agilent", "7900", "A栋201", "40", "",
            "否", "calibration", "2026-03-01", "2027-02-28", "JZ2026-0311",
            "上海市计量测试技术研究院", ""]]


@dataclass
class Planned:
    row: int
    asset_no: str
    values: dict[str, Any]
    events: list[EventIn] = field(default_factory=list)


def _event(cells_: dict[str, str], n: int, errs: list[FieldError]) -> EventIn | None:
    kind_raw = cells_.get("event_kind", "")
    if not kind_raw and not cells_.get("valid_from"):
        return None
    row_errs: list[FieldError] = []
    value = KIND_NAMES.get(kind_raw.strip(), kind_raw.strip().lower()) or "calibration"
    try:
        kind = InstrumentEventKind(value)
    except ValueError:
        row_errs.append(FieldError("event_kind", Msg(
            "{value} is not one of {choices}", value=repr(kind_raw),
            choices=", ".join(k.value for k in InstrumentEventKind)), n))
        kind = None
    start = cells.day(cells_.get("valid_from", ""), "valid_from", n, row_errs)
    if start is None and not cells_.get("valid_from"):
        row_errs.append(FieldError("valid_from", Msg("must not be empty"), n))
    until = cells.day(cells_.get("valid_until", ""), "valid_until", n, row_errs)
    if row_errs or kind is None or start is None:
        errs.extend(row_errs)
        return None
    try:
        event = EventIn(kind=kind, valid_from=start, valid_until=until,
                        certificate_no=cells_.get("certificate_no", ""),
                        performed_by=cells_.get("performed_by", ""),
                        note=cells_.get("note", ""))
    except ValidationError as exc:
        errs.extend(errors.field_errors(exc.errors(), row=n))
        return None
    faults = service.check_event(event, n)
    errs.extend(faults)
    return None if faults else event


def plan(institution_id: str, rows: list[tuple[int, dict[str, str]]],
         errs: list[FieldError]) -> list[Planned]:
    planned: dict[str, Planned] = {}
    for n, c in rows:
        row_errs = [FieldError(f, Msg("must not be empty"), n) for f in REQUIRED if not c.get(f)]
        tests = cells.whole(c.get("tests_per_day", ""), "tests_per_day", n, row_errs, 1, 100_000)
        hours = cells.positive(c.get("hours_per_test", ""), "hours_per_test", n, row_errs,
                               10_000)
        shared = cells.flag(c.get("shared", ""), "shared", n, row_errs)
        event = _event(c, n, row_errs)
        asset_no = c.get("asset_no", "").strip()
        if not row_errs:
            try:
                data = EquipmentIn(institution_id=institution_id, asset_no=asset_no,
                                   name=c["name"], kind=c["kind"], maker=c.get("maker", ""),
                                   model=c.get("model", ""), location=c.get("location", ""),
                                   tests_per_day=tests, hours_per_test=hours, shared=shared)
            except ValidationError as exc:
                row_errs += errors.field_errors(exc.errors(), row=n)
            else:
                p = planned.setdefault(asset_no, Planned(n, asset_no, data.model_dump(
                    exclude={"institution_id", "asset_no"})))
                if event is not None:
                    p.events.append(event)
        errs.extend(row_errs)
    return list(planned.values())


def import_equipment_file(db: Session, principal: Principal, institution_id: str,
                          filename: str, data: bytes) -> int:
    """Adds or updates every instrument in the file; returns how many the file holds."""
    inst = access.for_writing(db, principal, institution_id, service.SCOPE)
    rows, errs = read_table(filename, data, COLUMNS, REQUIRED)
    planned = plan(inst.id, rows, errs)
    if errs:
        errs.sort(key=lambda e: e.row or 0)
        raise errors.Problem(422, "Import refused", detail=f"{len(errs)} error(s); nothing was "
                             "imported", errors=errs)
    if not planned:
        raise errors.invalid("file", Msg("has no instruments"))
    existing = {i.asset_no: i for i in db.scalars(select(Instrument).where(
        Instrument.org_id == inst.org_id, Instrument.asset_no.in_([p.asset_no for p in planned])))}
    for p in planned:
        # An asset number of the same organisation kept under another institution: refused
        # rather than moved silently.
        found = existing.get(p.asset_no)
        if found is not None and found.institution_id != inst.id:
            raise errors.Problem(422, "Import refused", errors=[FieldError("asset_no", Msg(
                "asset number {asset_no} belongs to another institution of the organisation",
                asset_no=p.asset_no), p.row)])
    added = 0
    for p in planned:
        item = existing.get(p.asset_no)
        if item is None:
            item = Instrument(org_id=inst.org_id, institution_id=inst.id, asset_no=p.asset_no,
                              district=inst.district, active=True, hourly_rate_fen=0,
                              daily_rate_fen=0, **p.values)
            item.location = item.location or inst.address
            db.add(item)
            db.flush()
            added += 1
        else:
            for key, value in p.values.items():
                setattr(item, key, value)
        held = {(e.kind, e.valid_from, e.valid_until) for e in db.scalars(
            select(InstrumentEvent).where(InstrumentEvent.instrument_id == item.id))}
        for ev in p.events:
            if (ev.kind, ev.valid_from, ev.valid_until) not in held:
                db.add(InstrumentEvent(instrument_id=item.id, org_id=inst.org_id,
                                       **ev.model_dump()))
                held.add((ev.kind, ev.valid_from, ev.valid_until))
        service.sync_calibration(db, item)
    audit.record(db, action="equipment.imported", object_type="institution", object_id=inst.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"instruments": len(planned), "added": added,
                       "records": sum(len(p.events) for p in planned)})
    db.commit()
    return len(planned)
