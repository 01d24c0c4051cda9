"""Import of capability scopes from CSV or Excel: every row is checked, and either the whole
file is stored or nothing is, with an error for each faulty row (spreadsheet row numbers)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator

from openpyxl import load_workbook
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tichub.core import errors
from tichub.core.auth import Principal, require
from tichub.core.errors import FieldError
from tichub.core.models import Role
from tichub.core.schemas import text_fault
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
MAX_ROWS = 200_000

Row = tuple[int, dict[str, str]]


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise errors.invalid("file", "is neither UTF-8 nor GB18030 text")


Columns = dict[str, tuple[str, ...]]


def _map_header(header: list[str], columns: Columns, required: tuple[str, ...]) -> dict[int, str]:
    lookup = {alias.lower(): field for field, aliases in columns.items() for alias in aliases}
    mapping: dict[int, str] = {}
    for i, name in enumerate(header):
        field = lookup.get((name or "").strip().lower())
        if field:
            mapping[i] = field
    missing = [f for f in required if f not in mapping.values()]
    if missing:
        raise errors.Problem(422, "Invalid input", detail="the header row lacks "
                             + ", ".join(missing),
                             errors=[FieldError(f, "column missing from the header row", 1)
                                     for f in missing])
    return mapping


def _rows(
    table: Iterator[list[str]], columns: Columns, required: tuple[str, ...]
) -> tuple[list[Row], list[FieldError]]:
    header = next(table, None)
    if header is None:
        raise errors.invalid("file", "is empty")
    # A sheet pads every row to its widest one: the header ends at its last named column.
    width = max((i + 1 for i, h in enumerate(header) if (h or "").strip()), default=0)
    mapping = _map_header(header[:width], columns, required)
    rows: list[Row] = []
    errs: list[FieldError] = []
    for n, cells in enumerate(table, start=2):
        if not any((c or "").strip() for c in cells):
            continue
        used = max(i + 1 for i, c in enumerate(cells) if (c or "").strip())
        if used > width:
            errs.append(FieldError("row", f"has values in {used} columns, the header names "
                                   f"{width}", n))
            continue
        values = {f: (cells[i] or "").strip() if i < len(cells) else ""
                  for i, f in mapping.items()}
        # Checked here for every column: PostgreSQL cannot store them, nor look them up.
        faults = [FieldError(f, fault, n) for f, v in values.items() if (fault := text_fault(v))]
        if faults:
            errs.extend(faults)
            continue
        rows.append((n, values))
        if len(rows) > MAX_ROWS:
            raise errors.invalid("file", f"has more than {MAX_ROWS} rows")
    return rows, errs


def _guarded(
    table: Iterator[list[str]], catch: tuple[type[Exception], ...], what: str
) -> Iterator[list[str]]:
    """The table's rows; a reader's error (a CSV field over the csv module's 128 KiB limit, a
    broken sheet) becomes an error of the file at the row being read."""
    n = 0
    try:
        for cells in table:
            n += 1
            yield cells
    except catch as exc:
        raise errors.invalid("file", f"cannot be read as {what} ({exc})", n + 1) from None


def read_table(
    filename: str, data: bytes, columns: Columns = COLUMNS, required: tuple[str, ...] = REQUIRED
) -> tuple[list[Row], list[FieldError]]:
    """The rows of the first sheet (or the CSV), keyed by field, with their row numbers."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise errors.invalid("file", f"is not a readable Excel workbook ({exc})") from None
        sheet = wb.worksheets[0]
        table = ([("" if v is None else str(v)) for v in row]
                 for row in sheet.iter_rows(values_only=True))
        return _rows(_guarded(table, (Exception,), "an Excel sheet"), columns, required)
    if filename.lower().endswith((".csv", ".txt")) or not filename:
        reader = csv.reader(io.StringIO(_decode(data)))
        return _rows(_guarded(reader, (csv.Error,), "CSV"), columns, required)
    raise errors.invalid("file", "must be .csv or .xlsx")


def import_scope_file(
    db: Session, principal: Principal, institution_id: str, filename: str, data: bytes
) -> int:
    """Replaces the scope of every qualification the file names; returns the lines stored."""
    inst = service.get_institution(db, principal, institution_id)
    require(principal, Role.editor, org=inst.org_id, scope="registry:write")
    rows, errs = read_table(filename, data)
    by_number = {" ".join(q.number.split()).upper(): q for q in inst.qualifications}
    grouped: dict[str, list[ScopeLineIn]] = defaultdict(list)
    for n, cells in rows:
        row_errs = [FieldError(f, "must not be empty", n) for f in REQUIRED if not cells.get(f)]
        qual = by_number.get(" ".join(cells.get("qualification", "").split()).upper())
        if cells.get("qualification") and qual is None:
            row_errs.append(FieldError("qualification",
                                       f"{cells['qualification']!r} is not a qualification of "
                                       "this institution", n))
        if not row_errs:
            try:
                line = ScopeLineIn(**{k: v for k, v in cells.items() if k != "qualification"})
            except ValidationError as exc:  # e.g. longer than its column
                row_errs = errors.field_errors(exc.errors(), row=n)
            else:
                _, row_errs = service.scope_row(line, row=n)
                if qual is not None and not row_errs:
                    grouped[qual.id].append(line)
        errs.extend(row_errs)
    if errs:
        errs.sort(key=lambda e: e.row or 0)
        raise errors.Problem(422, "Import refused", detail=f"{len(errs)} error(s); nothing was "
                             "imported", errors=errs)
    if not grouped:
        raise errors.invalid("file", "has no scope lines")
    total = 0
    for qid, lines in grouped.items():
        total += service.replace_scope(db, principal, qid, lines, commit=False)
    db.commit()
    return total
