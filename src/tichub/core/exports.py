"""Tables as downloads: CSV for scripts and Excel for people, from the same rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Literal
from urllib.parse import quote

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

Format = Literal["csv", "xlsx"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A cell starting with one of these is run as a formula by spreadsheet programs; data from
# other organisations must never be (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if _is_number(value):  # a negative number is a number, not a formula
        return text
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _xlsx_cell(value: object) -> object:
    """Numbers stay numbers in a workbook (sums and charts work); the rest is safe text."""
    if _is_number(value):
        return value if value == value and value not in (float("inf"), float("-inf")) \
            else None  # NaN and infinities have no cell type
    return safe_cell(value)


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buf = io.StringIO()
    buf.write("\ufeff")  # so that Excel reads UTF-8 Chinese correctly
    writer = csv.writer(buf)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def to_xlsx(header: Sequence[str], rows: Iterable[Sequence[object]], sheet: str) -> bytes:
    table = [[_xlsx_cell(v) for v in row] for row in rows]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet[:31])  # Excel's limit on sheet names
    # A streamed sheet takes its column widths before its first row.
    for i, name in enumerate(header):
        longest = max([len(name), *(len(str(r[i])) for r in table if i < len(r))])
        ws.column_dimensions[get_column_letter(i + 1)].width = min(60, longest) + 2
    ws.append(list(header))
    for cells in table:
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def download(
    fmt: Format, filename: str, header: Sequence[str], rows: Iterable[Sequence[object]],
    sheet: str = "TICHub",
) -> Response:
    if fmt == "xlsx":
        body, media = to_xlsx(header, rows, sheet), XLSX_TYPE
    else:
        body, media = to_csv(header, rows), "text/csv; charset=utf-8"
    name = f"{filename}.{fmt}"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"})
