"""Tables people upload (CSV or the first sheet of an Excel workbook), read into rows keyed
by field, with the spreadsheet row number of each: the one reader every import uses."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from openpyxl import load_workbook

from tichub.core import errors
from tichub.core.errors import FieldError
from tichub.core.messages import Msg
from tichub.core.schemas import text_fault

MAX_ROWS = 200_000

Row = tuple[int, dict[str, str]]


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise errors.invalid("file", Msg("is neither UTF-8 nor GB18030 text"))


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
                             errors=[FieldError(f, Msg("column missing from the header row"), 1)
                                     for f in missing])
    return mapping


def _rows(
    table: Iterator[list[str]], columns: Columns, required: tuple[str, ...]
) -> tuple[list[Row], list[FieldError]]:
    header = next(table, None)
    if header is None:
        raise errors.invalid("file", Msg("is empty"))
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
            raise errors.invalid("file", Msg("has more than {n} rows", n=MAX_ROWS))
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
        raise errors.invalid("file", Msg("cannot be read as {what} ({why})", what=what,
                                         why=str(exc)), n + 1) from None


def read_table(
    filename: str, data: bytes, columns: Columns, required: tuple[str, ...]
) -> tuple[list[Row], list[FieldError]]:
    """The rows of the first sheet (or the CSV), keyed by field, with their row numbers."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise errors.invalid("file", Msg("is not a readable Excel workbook ({why})",
                                             why=str(exc))) from None
        sheet = wb.worksheets[0]
        table = ([("" if v is None else str(v)) for v in row]
                 for row in sheet.iter_rows(values_only=True))
        return _rows(_guarded(table, (Exception,), "an Excel sheet"), columns, required)
    if filename.lower().endswith((".csv", ".txt")) or not filename:
        reader = csv.reader(io.StringIO(_decode(data)))
        return _rows(_guarded(reader, (csv.Error,), "CSV"), columns, required)
    raise errors.invalid("file", Msg("must be .csv or .xlsx"))


def decode(data: bytes) -> str:
    """A CSV file's text: UTF-8 (with or without its BOM) or GB18030."""
    return _decode(data)


def read_rows(
    table: Iterator[list[str]], columns: Columns, required: tuple[str, ...]
) -> tuple[list[Row], list[FieldError]]:
    """``read_table`` for a table already open (a workbook's named sheet, a CSV reader)."""
    return _rows(_guarded(table, (Exception,), "a table"), columns, required)
