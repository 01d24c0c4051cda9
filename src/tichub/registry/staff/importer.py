"""Import of the staff register from CSV or Excel, one row per person, keyed by staff
number: a number already in the register updates that person, a new one adds a person.
Every row is checked first; any fault refuses the whole file, naming the row and field."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core import audit, errors
from tichub.core.auth import Principal
from tichub.core.errors import FieldError
from tichub.core.messages import Msg
from tichub.core.tables import Columns, read_table
from tichub.registry.models import Staff, StaffRole
from tichub.registry.staff import service
from tichub.registry.staff.schemas import StaffIn
from tichub.supervision.registers import access, cells

COLUMNS: Columns = {
    "staff_no": ("staff_no", "人员编号", "工号"),
    "name": ("name", "姓名"),
    "title": ("title", "职称", "职务"),
    "roles": ("roles", "角色", "岗位"),
    "authorised_for": ("authorised_for", "授权范围", "授权项目"),
    "employed_from": ("employed_from", "入职日期", "聘用起"),
    "employed_until": ("employed_until", "离职日期", "聘用止"),
    "authorised_from": ("authorised_from", "签字授权起"),
    "authorised_until": ("authorised_until", "签字授权止"),
}
REQUIRED = ("staff_no", "name", "employed_from")
HEADERS_ZH = {f: aliases[1] for f, aliases in COLUMNS.items()}
ROLE_NAMES = {"检测员": "tester", "检测人员": "tester", "检验员": "tester",
              "采样员": "sampler", "采样人员": "sampler", "抽样员": "sampler",
              "授权签字人": "signatory", "签字人": "signatory"}
EXAMPLE = [["ST-001", "张明", "高级工程师", "授权签字人;检测员", "GB 31241;GB 4943.1",
            "2018-03-01", "", "2020-01-01", ""]]


def _roles(raw: str, n: int, errs: list[FieldError]) -> list[StaffRole]:
    out = []
    for part in cells.listed(raw):
        value = ROLE_NAMES.get(part, part.lower())
        try:
            out.append(StaffRole(value))
        except ValueError:
            errs.append(FieldError("roles", Msg("{value} is not one of {choices}",
                                                value=repr(part), choices="tester, sampler, "
                                                "signatory (检测员, 采样员, 授权签字人)"), n))
    return out


def plan(institution_id: str, rows: list[tuple[int, dict[str, str]]],
         errs: list[FieldError]) -> list[tuple[int, StaffIn]]:
    planned: list[tuple[int, StaffIn]] = []
    seen: set[str] = set()
    for n, c in rows:
        row_errs = [FieldError(f, Msg("must not be empty"), n) for f in REQUIRED if not c.get(f)]
        roles = _roles(c.get("roles", ""), n, row_errs)
        dates = {f: cells.day(c.get(f, ""), f, n, row_errs)
                 for f in ("employed_from", "employed_until", "authorised_from",
                           "authorised_until")}
        no = c.get("staff_no", "").strip()
        if no in seen:
            row_errs.append(FieldError("staff_no", Msg("{staff_no} appears twice in the file",
                                                       staff_no=no), n))
        seen.add(no)
        if not row_errs:
            try:
                data = StaffIn(institution_id=institution_id, staff_no=no, name=c["name"],
                               title=c.get("title") or None, roles=roles,
                               authorised_for=cells.listed(c.get("authorised_for", "")),
                               **dates)
            except ValidationError as exc:
                row_errs += errors.field_errors(exc.errors(), row=n)
            else:
                row_errs += service.check_periods(data.model_dump(), n)
                if not row_errs:
                    planned.append((n, data))
        errs.extend(row_errs)
    return planned


def import_staff_file(db: Session, principal: Principal, institution_id: str, filename: str,
                      data: bytes) -> int:
    """Adds or updates every person in the file; returns how many the file holds."""
    inst = access.for_writing(db, principal, institution_id, service.SCOPE)
    rows, errs = read_table(filename, data, COLUMNS, REQUIRED)
    planned = plan(inst.id, rows, errs)
    if errs:
        errs.sort(key=lambda e: e.row or 0)
        raise errors.Problem(422, "Import refused", detail=f"{len(errs)} error(s); nothing was "
                             "imported", errors=errs)
    if not planned:
        raise errors.invalid("file", Msg("has no people"))
    existing = {s.staff_no: s for s in db.scalars(select(Staff).where(
        Staff.institution_id == inst.id,
        Staff.staff_no.in_([d.staff_no for _, d in planned])))}
    added = 0
    for _, person in planned:
        values: dict[str, Any] = person.model_dump(exclude={"institution_id"})
        values["name"] = service.clean_name(values["name"])
        values["roles"] = [r.value for r in StaffRole if r in person.roles]
        row = existing.get(person.staff_no)
        if row is None:
            db.add(Staff(institution_id=inst.id, org_id=inst.org_id, **values))
            added += 1
        else:
            for key, value in values.items():
                setattr(row, key, value)
    db.flush()
    audit.record(db, action="staff.imported", object_type="institution", object_id=inst.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"people": len(planned), "added": added})
    db.commit()
    return len(planned)
