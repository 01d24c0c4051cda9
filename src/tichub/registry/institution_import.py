"""Bulk import of institutions and their qualifications (the operator loading a directory),
from CSV or Excel. One row per qualification; rows sharing a credit code belong to one
institution. Every row is checked first; any fault refuses the whole file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core import audit, errors
from tichub.core import service as accounts
from tichub.core.auth import Principal
from tichub.core.errors import FieldError
from tichub.core.messages import Msg
from tichub.core.models import OrgKind
from tichub.core.tables import Columns, read_table
from tichub.registry import search_index, service
from tichub.registry.models import (
    Institution,
    InstitutionKind,
    Qualification,
    QualificationKind,
    QualificationStatus,
    RevenueTier,
)

COLUMNS: Columns = {
    "name_zh": ("name_zh", "机构名称", "名称"),
    "name_en": ("name_en", "英文名称"),
    "credit_code": ("credit_code", "统一社会信用代码", "信用代码"),
    "district": ("district", "所在区", "区"),
    "address": ("address", "地址"),
    "kind": ("kind", "机构类型"),
    "industrial_park": ("industrial_park", "产业园区", "园区"),
    "specialised": ("specialised", "专精特新"),
    "headquarters": ("headquarters", "总部"),
    "revenue_tier": ("revenue_tier", "营收规模"),
    "qualification_kind": ("qualification_kind", "资质类型"),
    "qualification_number": ("qualification_number", "资质编号", "证书编号"),
    "issued_on": ("issued_on", "发证日期"),
    "valid_until": ("valid_until", "有效期至"),
    "qualification_status": ("qualification_status", "资质状态"),
}
REQUIRED = ("name_zh", "credit_code", "district")
KIND_NAMES = {"检验检测机构": "lab", "实验室": "lab", "认证机构": "certification_body",
              "检验机构": "inspection_body"}
STATUS_NAMES = {"有效": "valid", "暂停": "suspended", "撤销": "withdrawn", "过期": "expired"}
TRUE, FALSE = {"是", "yes", "y", "true", "1"}, {"否", "no", "n", "false", "0", ""}


@dataclass
class Planned:
    row: int
    values: dict[str, Any]
    qualifications: list[dict[str, Any]] = field(default_factory=list)


def _enum(cls: type[Any], raw: str, name: str, row: int, errs: list[FieldError],
          aliases: dict[str, str] | None = None) -> Any:
    value = (aliases or {}).get(raw, raw).strip().lower()
    try:
        return cls(value)
    except ValueError:
        errs.append(FieldError(name, Msg("{value} is not one of {choices}", value=repr(raw),
                                         choices=", ".join(m.value for m in cls)), row))
        return None


def _flag(raw: str, name: str, row: int, errs: list[FieldError]) -> bool:
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value not in FALSE:
        errs.append(FieldError(name, Msg("{value} is not yes/no (是/否)", value=repr(raw)), row))
    return False


def _date(raw: str, name: str, row: int, errs: list[FieldError]) -> date | None:
    if not raw.strip():
        return None
    try:
        # Excel cells arrive as "2030-01-01 00:00:00"; CSV as "2030-01-01".
        return datetime.fromisoformat(raw.strip()).date()
    except ValueError:
        errs.append(FieldError(name, Msg("{value} is not a date (YYYY-MM-DD)", value=repr(raw)),
                               row))
        return None


def _qualification(cells: dict[str, str], n: int, errs: list[FieldError]) -> dict[str, Any] | None:
    if not cells.get("qualification_kind") and not cells.get("qualification_number"):
        return None
    kind = _enum(QualificationKind, cells.get("qualification_kind", ""), "qualification_kind",
                 n, errs)
    number = " ".join(cells.get("qualification_number", "").split())
    if not number:
        errs.append(FieldError("qualification_number", Msg("must not be empty"), n))
    valid_until = _date(cells.get("valid_until", ""), "valid_until", n, errs)
    if valid_until is None and cells.get("valid_until", "") == "":
        errs.append(FieldError("valid_until", Msg("must not be empty"), n))
    status = _enum(QualificationStatus, cells.get("qualification_status") or "valid",
                   "qualification_status", n, errs, STATUS_NAMES)
    return {"kind": kind, "number": number, "valid_until": valid_until, "status": status,
            "issued_on": _date(cells.get("issued_on", ""), "issued_on", n, errs)}


def plan(db: Session, rows: list[tuple[int, dict[str, str]]],
         errs: list[FieldError]) -> list[Planned]:
    planned: dict[str, Planned] = {}
    numbers: set[tuple[Any, str]] = set()
    for n, cells in rows:
        row_errs: list[FieldError] = [FieldError(f, Msg("must not be empty"), n)
                                      for f in REQUIRED if not cells.get(f)]
        code = district = None
        if cells.get("credit_code"):
            code, e = service.check_credit_code(cells["credit_code"], n)
            row_errs += [e] if e else []
        if cells.get("district"):
            district, e = service.check_district(cells["district"], n)
            row_errs += [e] if e else []
        qual = _qualification(cells, n, row_errs)
        if qual and qual["kind"] is not None:
            key = (qual["kind"], qual["number"])
            if key in numbers or db.scalar(select(Qualification.id).where(
                    Qualification.kind == qual["kind"], Qualification.number == qual["number"])):
                row_errs.append(FieldError("qualification_number", Msg(
                    "{number} is already registered", number=qual["number"]), n))
            numbers.add(key)
        if code and code not in planned:
            if db.scalar(select(Institution.id).where(Institution.credit_code == code)):
                row_errs.append(FieldError("credit_code", Msg(
                    "an institution with this credit code is already registered"), n))
            values = {
                "name_zh": cells.get("name_zh", ""), "name_en": cells.get("name_en") or None,
                "credit_code": code, "district": district, "address": cells.get("address", ""),
                "kind": _enum(InstitutionKind, cells.get("kind") or "lab", "kind", n, row_errs,
                              KIND_NAMES),
                "industrial_park": cells.get("industrial_park") or None,
                "specialised": _flag(cells.get("specialised", ""), "specialised", n, row_errs),
                "headquarters": _flag(cells.get("headquarters", ""), "headquarters", n,
                                      row_errs),
                "revenue_tier": _enum(RevenueTier, cells["revenue_tier"], "revenue_tier", n,
                                      row_errs) if cells.get("revenue_tier") else None,
            }
            row_errs += service.check_lengths(Institution, values, n)
            planned[code] = Planned(n, values)
        if qual:
            row_errs += service.check_lengths(Qualification, {"number": qual["number"]}, n,
                                              fields={"number": "qualification_number"})
        if code and qual and not row_errs:
            planned[code].qualifications.append(qual)
        errs.extend(row_errs)
    return list(planned.values())


def import_institutions_file(
    db: Session, principal: Principal, filename: str, data: bytes
) -> int:
    """Registers every institution in the file, each in an organisation of its own."""
    if not principal.is_operator:
        raise errors.forbidden(Msg("only the platform operator imports institutions in bulk"))
    rows, errs = read_table(filename, data, COLUMNS, REQUIRED)
    planned = plan(db, rows, errs)
    if errs:
        errs.sort(key=lambda e: e.row or 0)
        raise errors.Problem(422, "Import refused", detail=f"{len(errs)} error(s); nothing was "
                             "imported", errors=errs)
    if not planned:
        raise errors.invalid("file", Msg("has no institutions"))
    for p in planned:
        kind = p.values["kind"]
        org = accounts.create_organisation(
            db, name=p.values["name_zh"], actor=principal.user_id,
            kind=OrgKind.certification_body if kind is InstitutionKind.certification_body
            else OrgKind.lab)
        inst = Institution(org_id=org.id, seq=search_index.next_seq(db), **p.values)
        db.add(inst)
        db.flush()
        db.add_all(Qualification(institution_id=inst.id, **q) for q in p.qualifications)
        db.flush()
        search_index.rebuild(db, inst.id)
        audit.record(db, action="institution.imported", object_type="institution",
                     object_id=inst.id, actor_user_id=principal.user_id, org_id=org.id,
                     data={"credit_code": inst.credit_code, "row": p.row,
                           "qualifications": len(p.qualifications)})
    db.commit()
    return len(planned)
