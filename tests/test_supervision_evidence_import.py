"""Reports with their evidence from a workbook or CSV files: registered all or none, a
refusal naming sheet, row and field; by the page and by the command line."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from helpers import csrf_from, make_account, make_institution, sign_in
from tichub.cli import app as cli_app
from tichub.reports.evidence import importer
from tichub.reports.models import EvidenceItem, EvidenceResult, EvidenceSampling, ReportRecord

BATTERY = ("GB 31241-2022", "锂离子电池", "过充电保护")
REPORTS = ["number", "product", "sample_received_on", "tested_from", "tested_to", "issued_on",
           "standards"]
ITEMS = ["number", "parameter", "instrument", "tester", "started_at", "ended_at"]
SAMPLINGS = ["number", "what", "sampler", "district", "latitude", "longitude", "at"]
RESULTS = ["number", "parameter", "value", "unit"]


def _sheets(**bad: list[list[str]]) -> dict[str, list[list[str]]]:
    sheets = {
        "reports": [REPORTS,
                    ["R-1", "电池组", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05",
                     "GB 31241-2022"],
                    ["R-2", "电池组", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05",
                     ""]],
        "items": [ITEMS, ["R-1", "过充电保护", "EQ-001", "ST-003", "2026-01-03 09:00",
                          "2026-01-03 11:00"],
                  ["R-2", "外部短路", "EQ-002", "ST-003", "2026-01-03T12:00:00+08:00",
                   "2026-01-03T13:00:00+08:00"]],
        "samplings": [SAMPLINGS, ["R-1", "电芯", "ST-004", "浦东新区", "31.22", "121.54",
                                  "2026-01-02 10:00"]],
        "results": [RESULTS, ["R-1", "开路电压", "3.850", "V"], ["R-2", "内阻", "0.0250", "Ω"]],
    }
    sheets.update(bad)
    return sheets


def _workbook(sheets: dict[str, list[list[str]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _csvs(sheets: dict[str, list[list[str]]]) -> dict[str, bytes]:
    import csv

    files = {}
    for name, rows in sheets.items():
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        files[f"{name}.csv"] = out.getvalue().encode("utf-8-sig")
    return files


@pytest.fixture
def lab(client, db):  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1, scope=[BATTERY])
    return {"inst": inst, "account": acc}


def _post(client, lab, files: dict[str, bytes]):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/reports/new").text)
    return client.post("/reports/import", data={"institution_id": lab["inst"],
                                                "csrf_token": token},
                       files=[("file", (name, data)) for name, data in files.items()],
                       headers={"Accept": "application/json"}, follow_redirects=False)


def test_a_workbook_registers_reports_with_their_evidence(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "lab@example.com")
    page = client.get("/reports/new")
    assert 'data-testid="evidence-import-form"' in page.text
    r = _post(client, lab, {"reports.xlsx": _workbook(_sheets())})
    assert r.status_code in (200, 303), r.text
    records = {r.number: r for r in db.scalars(select(ReportRecord))}
    assert set(records) == {"R-1", "R-2"}
    items = db.scalars(select(EvidenceItem).where(
        EvidenceItem.record_id == records["R-1"].id)).all()
    # A time without a zone is Beijing time.
    assert [i.started_at.isoformat() for i in items] == ["2026-01-03T01:00:00+00:00"]
    assert db.scalar(select(EvidenceSampling.district)) == "pudong"
    values = dict(db.execute(select(EvidenceResult.record_id, EvidenceResult.value_text)).all())
    assert values[records["R-2"].id] == "0.0250"
    assert records["R-2"].private["evidence"]["results"][0]["value"] == "0.0250"


def test_csv_files_do_the_same(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "lab@example.com")
    r = _post(client, lab, _csvs(_sheets()))
    assert r.status_code in (200, 303), r.text
    assert len(db.scalars(select(EvidenceItem)).all()) == 2


@pytest.mark.parametrize(("bad", "where"), [
    ({"items": [ITEMS, ["R-1", "过充电保护", "EQ-001", "ST-003", "2026-01-03 09:00",
                        "2026-01-03 08:00"]]}, ("items.ended_at", 2)),
    ({"results": [RESULTS, ["R-1", "开路电压", "3.850", "V"], ["R-2", "内阻", "n/a", ""]]},
     ("results.value", 3)),
    ({"samplings": [SAMPLINGS, ["R-1", "电芯", "ST-004", "火星", "", "", "2026-01-02 10:00"]]},
     ("samplings.district", 2)),
    ({"results": [RESULTS, ["R-9", "开路电压", "3.850", "V"]]}, ("results.number", 2)),
    ({"items": [ITEMS[:-1], ["R-1", "过充电保护", "EQ-001", "ST-003", "2026-01-03 09:00"]]},
     ("items.ended_at", 1)),
    ({"reports": [REPORTS, ["R-1", "电池组", "2026-01-02", "2026-01-03", "2026-01-04",
                            "2026-01-05", ""],
                  ["R-2", "电池组", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-01",
                   ""]]}, ("reports.issued_on", 3)),  # found at registration, placed on its row
])
def test_one_bad_row_refuses_the_whole_file(client, db, lab, bad, where) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "lab@example.com")
    r = _post(client, lab, {"reports.xlsx": _workbook(_sheets(**bad))})
    assert r.status_code == 422, r.text
    assert where in {(e["field"], e.get("row")) for e in r.json()["errors"]}
    assert db.scalar(select(ReportRecord.id)) is None
    assert db.scalar(select(EvidenceItem.record_id)) is None


def test_the_template_workbook_imports_as_it_is(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "lab@example.com")
    data = client.get("/reports/import/template.xlsx").content
    assert load_workbook(io.BytesIO(data)).sheetnames == list(importer.SHEETS)
    sheets = importer.read_workbook(data)
    records, rows = importer.plan(lab["inst"], sheets)
    assert rows == [2] and records[0].evidence is not None
    assert records[0].evidence.results[0].value == "3.850"
    assert records[0].issued_on == date(2026, 3, 5)


def test_the_command_line_imports_and_refuses_in_one_line(client, db, lab, tmp_path,  # type: ignore[no-untyped-def]
                                                          monkeypatch, settings) -> None:
    from conftest import LOG_KEY, LOG_ORIGIN
    from tichub.core.config import get_settings

    monkeypatch.setenv("TICHUB_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TICHUB_LOG_KEY", LOG_KEY)
    monkeypatch.setenv("TICHUB_LOG_ORIGIN", LOG_ORIGIN)
    get_settings.cache_clear()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_workbook(_sheets(results=[RESULTS, ["R-1", "x", "abc", ""]])))
    runner = CliRunner()
    out = runner.invoke(cli_app, ["evidence", "import", str(bad), "--institution", lab["inst"]])
    assert out.exit_code == 1
    assert "results.value" in out.output and "row 2" in out.output
    paths = []
    for name, data in _csvs(_sheets()).items():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(str(path))
    ok = runner.invoke(cli_app, ["evidence", "import", *paths, "--institution", lab["inst"]])
    assert ok.exit_code == 0, ok.output
    assert "registered 2 reports" in ok.output
    db.expire_all()
    assert len(db.scalars(select(ReportRecord)).all()) == 2
    get_settings.cache_clear()
