"""Reports with their evidence from an Excel workbook (sheets ``reports``, ``items``,
``samplings``, ``results``) or from CSV files of the same names, linked by report number.
Every row of every sheet is checked and the reports are registered in one call, all or none;
a refusal names the sheet with the field (``items.ended_at``) and the spreadsheet row."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tichub.core import errors
from tichub.core.auth import Principal
from tichub.core.errors import FieldError, Problem
from tichub.core.messages import Msg
from tichub.core.tables import Columns, Row, read_rows
from tichub.reports import service
from tichub.reports.schemas import Receipt, RecordIn

BEIJING = ZoneInfo("Asia/Shanghai")
MAX_REPORTS = 1000  # what one registration call takes, as the batch API
MAX_FILE_BYTES = 20 * 1024 * 1024
SHEETS = ("reports", "items", "samplings", "results")
# A sheet or CSV file is found by its name, English or Chinese.
SHEET_NAMES = {"reports": ("reports", "报告"), "items": ("items", "检测项目", "项目"),
               "samplings": ("samplings", "抽样", "采样"), "results": ("results", "结果")}
COLUMNS: dict[str, Columns] = {
    "reports": {
        "number": ("number", "报告编号", "编号"), "kind": ("kind", "类型"),
        "client": ("client", "委托方"), "client_public": ("client_public", "公开委托方"),
        "product": ("product", "产品", "样品名称"), "sample": ("sample", "样品"),
        "standards": ("standards", "标准", "检测依据"),
        "sample_received_on": ("sample_received_on", "收样日期"),
        "tested_from": ("tested_from", "检测开始"), "tested_to": ("tested_to", "检测结束"),
        "issued_on": ("issued_on", "签发日期"), "valid_until": ("valid_until", "有效期至"),
        "signatories": ("signatories", "签字人", "授权签字人"),
        "conclusion": ("conclusion", "结论"), "marks": ("marks", "标志"),
        "pdf_sha256": ("pdf_sha256", "pdf sha-256"),
    },
    "items": {
        "number": ("number", "报告编号"), "parameter": ("parameter", "参数", "检测项目"),
        "standard": ("standard", "标准", "检测依据"),
        "instrument": ("instrument", "仪器", "设备编号", "仪器编号"),
        "tester": ("tester", "检测人员", "检测人"),
        "started_at": ("started_at", "开始时间"), "ended_at": ("ended_at", "结束时间"),
    },
    "samplings": {
        "number": ("number", "报告编号"), "what": ("what", "样品", "抽样对象"),
        "sampler": ("sampler", "抽样人员", "采样人"), "district": ("district", "区"),
        "latitude": ("latitude", "纬度"), "longitude": ("longitude", "经度"),
        "at": ("at", "抽样时间", "采样时间"),
    },
    "results": {
        "number": ("number", "报告编号"), "parameter": ("parameter", "参数", "项目"),
        "value": ("value", "结果", "数值"), "unit": ("unit", "单位"),
    },
}
REQUIRED = {"reports": ("number", "issued_on"), "items": ("number", "parameter", "started_at",
                                                           "ended_at"),
            "samplings": ("number", "at"), "results": ("number", "parameter", "value")}
LISTS = ("standards", "signatories", "marks")
TIMES = {"items": ("started_at", "ended_at"), "samplings": ("at",)}


def _sheet_of(name: str) -> str | None:
    key = PurePath(name).stem.strip().lower() if "." in name else name.strip().lower()
    return next((sheet for sheet, names in SHEET_NAMES.items() if key in names), None)


def read_workbook(data: bytes) -> dict[str, list[Row]]:
    """The workbook's sheets that hold reports and evidence, as rows by field."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise errors.invalid("file", Msg("is not a readable Excel workbook ({why})",
                                         why=str(exc))) from None
    found: dict[str, list[Row]] = {}
    faults: list[FieldError] = []
    for ws in wb.worksheets:
        sheet = _sheet_of(ws.title)
        if sheet is None:
            continue
        table = ([_cell(v) for v in row] for row in ws.iter_rows(values_only=True))
        found[sheet] = _read(sheet, table, faults)
    _complain(faults)
    return found


def read_csv_files(files: Mapping[str, bytes]) -> dict[str, list[Row]]:
    """CSV files named after their sheet (``items.csv`` or ``检测项目.csv``)."""
    import csv

    from tichub.core.tables import decode

    found: dict[str, list[Row]] = {}
    faults: list[FieldError] = []
    for name, data in files.items():
        sheet = _sheet_of(name)
        if sheet is None:
            raise errors.invalid("file", Msg(
                "{name}: name the file after its sheet: reports, items, samplings or results",
                name=name))
        found[sheet] = _read(sheet, csv.reader(io.StringIO(decode(data))), faults)
    _complain(faults)
    return found


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _read(sheet: str, table: Any, faults: list[FieldError]) -> list[Row]:
    try:
        rows, errs = read_rows(table, COLUMNS[sheet], REQUIRED[sheet])
    except Problem as exc:
        faults.extend(FieldError(f"{sheet}.{e.field}", e.message, e.row) for e in exc.errors)
        if not exc.errors:
            faults.append(FieldError(sheet, exc.detail or exc.title))
        return []
    faults.extend(FieldError(f"{sheet}.{e.field}", e.message, e.row) for e in errs)
    return rows


def _complain(faults: list[FieldError]) -> None:
    if faults:
        raise Problem(422, "Import refused", detail=f"{len(faults)} error(s); nothing was "
                      "registered", errors=faults)


def _time(raw: str) -> str:
    """A time as typed: with a zone as given, without one in Beijing time (a lab's sheet)."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return raw  # the schema refuses it, naming the field
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.isoformat()


def _list(raw: str) -> list[str]:
    parts = raw.replace("，", ",").replace(";", ",").replace("；", ",").split(",")
    return [p.strip() for p in parts if p.strip()]


def plan(institution_id: str, sheets: Mapping[str, list[Row]]) -> tuple[list[RecordIn],
                                                                          list[int]]:
    """The records to register and, for each, its row in the reports sheet; raises
    ``Problem`` naming every faulty row of every sheet."""
    faults: list[FieldError] = []
    reports = sheets.get("reports", [])
    if not reports:
        raise errors.invalid("reports", Msg("the reports sheet has no rows"))
    if len(reports) > MAX_REPORTS:
        raise errors.invalid("reports", Msg("holds more than {n} reports: split the file",
                                            n=MAX_REPORTS))
    by_number: dict[str, int] = {}
    for n, cells in reports:
        if cells["number"] in by_number:
            faults.append(FieldError("reports.number", Msg(
                "{number} is on row {row} already", number=cells["number"],
                row=by_number[cells["number"]]), n))
        by_number.setdefault(cells["number"], n)
    evidence: dict[str, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for sheet in SHEETS[1:]:
        for n, cells in sheets.get(sheet, []):
            if cells["number"] not in by_number:
                faults.append(FieldError(f"{sheet}.number", Msg(
                    "no report {number} in the reports sheet", number=cells["number"]), n))
                continue
            evidence[cells["number"]][sheet].append((n, cells))
    records: list[RecordIn] = []
    rows: list[int] = []
    for n, cells in reports:
        number = cells["number"]
        data: dict[str, Any] = {k: v for k, v in cells.items() if v != ""}
        data.update(institution_id=institution_id, kind=cells.get("kind") or "test_report",
                    client_public=cells.get("client_public", "").lower() in (
                        "yes", "true", "1", "是"))
        for name in LISTS:
            data[name] = _list(cells.get(name, ""))
        linked = evidence.get(number, {})
        if linked:
            data["evidence"] = {sheet: [_evidence_row(sheet, c) for _, c in linked[sheet]]
                                for sheet in SHEETS[1:]}
        try:
            records.append(RecordIn.model_validate(data))
            rows.append(n)
        except ValidationError as exc:
            faults.extend(_placed(exc, n, linked))
    if faults:
        faults.sort(key=lambda f: (SHEETS.index(f.field.split(".")[0])
                                   if f.field.split(".")[0] in SHEETS else 9, f.row or 0))
        raise Problem(422, "Import refused", detail=f"{len(faults)} error(s); nothing was "
                      "registered", errors=faults)
    return records, rows


def _evidence_row(sheet: str, cells: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in cells.items() if k != "number" and v != ""}
    for name in TIMES.get(sheet, ()):
        if name in out:
            out[name] = _time(out[name])
    return out


def _placed(exc: ValidationError, row: int,
            linked: Mapping[str, list[Row]]) -> list[FieldError]:
    """Pydantic's errors of one report, each placed on its sheet and row."""
    out = []
    for fault in errors.field_errors(exc.errors()):
        path = fault.field.split(".")
        if path[0] == "evidence" and len(path) >= 3 and path[1] in linked and \
                path[2].isdigit() and int(path[2]) < len(linked[path[1]]):
            sheet_row = linked[path[1]][int(path[2])][0]
            out.append(FieldError(".".join([path[1], *path[3:]]) if len(path) > 3
                                  else path[1], fault.message, sheet_row))
        else:
            out.append(FieldError("reports." + fault.field, fault.message, row))
    return out


def import_reports(db: Session, principal: Principal, log: service.Log, institution_id: str,
                   sheets: Mapping[str, list[Row]]) -> list[Receipt]:
    """Registers the sheets' reports with their evidence, all or none."""
    records, rows = plan(institution_id, sheets)
    try:
        return service.register(db, principal, log, records)
    except Problem as exc:
        # Registration names a record by its place in the call: name its row instead.
        if len(records) == 1:
            for e in exc.errors:
                e.row = rows[0]
        for e in exc.errors:
            if e.row is not None and len(records) > 1:
                e.row = rows[e.row - 1]
            if not e.field.startswith(SHEETS):
                e.field = "reports." + e.field
        raise


def read_files(files: Mapping[str, bytes]) -> dict[str, list[Row]]:
    """One workbook, or CSV files named after their sheets."""
    if not files:
        raise errors.invalid("file", Msg("choose a workbook or CSV files"))
    total = sum(len(d) for d in files.values())
    if total > MAX_FILE_BYTES:
        raise errors.invalid("file", Msg("is larger than {mb} MB",
                                         mb=MAX_FILE_BYTES // (1024 * 1024)))
    workbooks = [n for n in files if n.lower().endswith((".xlsx", ".xlsm"))]
    if workbooks:
        if len(files) > 1:
            raise errors.invalid("file", Msg("send one workbook, or CSV files, not both"))
        return read_workbook(files[workbooks[0]])
    if any(not n.lower().endswith((".csv", ".txt")) for n in files):
        raise errors.invalid("file", Msg("must be .csv or .xlsx"))
    return read_csv_files(files)


EXAMPLE = {
    "reports": {"number": "R-2026-0001", "kind": "test_report", "client": "上海某储能科技有限公司",
                "product": "锂离子电池组", "sample": "S-0001", "standards": "GB 31241-2022",
                "sample_received_on": "2026-03-02", "tested_from": "2026-03-03",
                "tested_to": "2026-03-04", "issued_on": "2026-03-05",
                "signatories": "张明", "conclusion": "合格", "marks": "CNAS"},
    "items": {"number": "R-2026-0001", "parameter": "过充电保护", "standard": "GB 31241-2022",
              "instrument": "EQ-001", "tester": "ST-003",
              "started_at": "2026-03-03 09:00", "ended_at": "2026-03-03 11:30"},
    "samplings": {"number": "R-2026-0001", "what": "电池组", "sampler": "ST-004",
                  "district": "pudong", "latitude": "31.2212", "longitude": "121.5447",
                  "at": "2026-03-02 10:00"},
    "results": {"number": "R-2026-0001", "parameter": "开路电压", "value": "3.850",
                "unit": "V"},
}


def template_workbook() -> bytes:
    """A workbook with the four sheets, their headers and one example row each; every cell
    text, so that a result keeps its trailing zeros."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet)
        header = list(COLUMNS[sheet])
        ws.append(header)
        ws.append([EXAMPLE[sheet].get(name, "") for name in header])
        for row in ws.iter_rows():
            for cell in row:
                cell.number_format = "@"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
