"""Import of capability scopes from CSV or Excel: every row is checked, and either the whole
file is stored or nothing is, with an error for each faulty row (spreadsheet row numbers)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from tichub.core import errors
from tichub.core.auth import Principal, require
from tichub.core.errors import FieldError
from tichub.core.messages import Msg
from tichub.core.models import Role
from tichub.core.tables import read_table
from tichub.registry import service
from tichub.registry.schemas import ScopeLineIn

# Accepted headers, English or Chinese, for each field.
COLUMNS: dict[str, tuple[str, ...]] = {
    "qualification": ("qualification", "资质", "资质编号", "认可证书编号", "证书编号"),
    "standard": ("standard", "标准", "标准编号", "检测依据", "依据标准"),
    "standard_title": ("standard_title", "标准名称"),
    "product": ("product", "产品", "检测对象", "产品/对象", "对象"),
    "parameter": ("parameter", "参数", "项目", "项目/参数", "检测项目"),
    "product_en": ("product_en", "产品英文名称", "product (english)"),
    "parameter_en": ("parameter_en", "参数英文名称", "parameter (english)"),
    "method_clause": ("method_clause", "方法条款", "条款"),
    "limitation": ("limitation", "限制范围", "限制", "说明"),
}
REQUIRED = ("qualification", "standard", "product", "parameter")
# The Chinese headers a scope is exported under: each is one of the aliases above.
HEADERS_ZH = {"qualification": "资质编号", "standard": "标准编号", "standard_title": "标准名称",
              "product": "检测对象", "parameter": "检测项目", "product_en": "产品英文名称",
              "parameter_en": "参数英文名称", "method_clause": "方法条款",
              "limitation": "限制范围"}
def import_scope_file(
    db: Session, principal: Principal, institution_id: str, filename: str, data: bytes
) -> int:
    """Replaces the scope of every qualification the file names; returns the lines stored."""
    inst = service.get_institution(db, principal, institution_id)
    require(principal, Role.editor, org=inst.org_id, scope="registry:write")
    rows, errs = read_table(filename, data, COLUMNS, REQUIRED)
    by_number = {" ".join(q.number.split()).upper(): q for q in inst.qualifications}
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for n, cells in rows:
        row_errs = [FieldError(f, Msg("must not be empty"), n) for f in REQUIRED
                    if not cells.get(f)]
        qual = by_number.get(" ".join(cells.get("qualification", "").split()).upper())
        if cells.get("qualification") and qual is None:
            row_errs.append(FieldError("qualification", Msg(
                "{number} is not a qualification of this institution",
                number=repr(cells["qualification"])), n))
        if not row_errs:
            try:
                line = ScopeLineIn(**{k: v for k, v in cells.items() if k != "qualification"})
            except ValidationError as exc:  # e.g. longer than its column
                row_errs = errors.field_errors(exc.errors(), row=n)
            else:
                values, row_errs = service.scope_row(line, row=n)
                if qual is not None and not row_errs:
                    grouped[qual.id].append(values)
        errs.extend(row_errs)
    if errs:
        errs.sort(key=lambda e: e.row or 0)
        raise errors.Problem(422, "Import refused", detail=f"{len(errs)} error(s); nothing was "
                             "imported", errors=errs)
    if not grouped:
        raise errors.invalid("file", Msg("has no scope lines"))
    # Checked whole before anything is written; then written without holding the writer.
    return service.replace_scopes_staged(db, principal, inst, grouped)
