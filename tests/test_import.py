"""Scope import from CSV and Excel: the whole file is stored, or nothing and an error per row."""

from __future__ import annotations

import io
import os
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from helpers import make_account, make_institution, sign_in
from tichub.core.errors import Problem
from tichub.core.models import AuditEvent, Role
from tichub.registry import importer
from tichub.registry import service as registry
from tichub.registry.models import QualificationKind, ScopeLine
from tichub.registry.schemas import QualificationIn, ScopeLineIn

BATTERY = ("GB 31241-2022", "便携式电子产品用锂离子电池和电池组", "过充电保护")
HEADER = "资质编号,标准编号,检测对象,检测项目\n"
GOOD_CSV = HEADER + (
    "CNAS L0001,GB4943.1—2022,信息技术设备,电气强度\n"
    "cnas  l0001,GB/T 36276-2023,电力储能用锂离子电池,过充电\n"  # number written loosely
)


def _world(db):  # type: ignore[no-untyped-def]
    """A lab with one institution holding a CNAS (number CNAS L0001) and a CMA qualification."""
    acc = make_account(db, "lab@example.com")
    inst, cnas = make_institution(db, acc, name="甲检测", serial=1, scope=[BATTERY])
    p = acc.principal(db)
    cma = registry.add_qualification(db, p, inst, QualificationIn(
        kind=QualificationKind.cma, number="230912345678", valid_until=date(2030, 1, 1)))
    registry.replace_scope(db, p, cma.id, [ScopeLineIn(standard="GB 17625.1-2022",
                                                       product="家用电器", parameter="谐波电流")])
    return acc, inst, cnas, cma.id


def _upload(client, csrf, inst, name, data):  # type: ignore[no-untyped-def]
    return client.post(f"/api/registry/institutions/{inst}/scope/import",
                       headers={"X-CSRF-Token": csrf}, files={"file": (name, data)})


def _scope(client, inst, **params):  # type: ignore[no-untyped-def]
    r = client.get(f"/api/registry/institutions/{inst}/scope", params={"per_page": 100, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _lines(client, inst, qualification_id):  # type: ignore[no-untyped-def]
    return [(i["standard"], i["product"], i["parameter"])
            for i in _scope(client, inst, qualification_id=qualification_id)]


def _found_by(client, standard):  # type: ignore[no-untyped-def]
    r = client.get("/api/registry/search", params={"standard": standard})
    assert r.status_code == 200, r.text
    return [h["institution"]["id"] for h in r.json()["items"]]


def _replaced_events(db) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(AuditEvent)
                     .where(AuditEvent.action == "scope.replaced"))


def _refusal(r, status: int = 422):  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_good_csv_replaces_the_named_qualifications_scope(client, db) -> None:  # type: ignore[no-untyped-def]
    _, inst, cnas, cma = _world(db)
    cma_before = _lines(client, inst, cma)
    events = _replaced_events(db)
    assert _found_by(client, "GB 4943.1-2022") == []
    csrf = sign_in(client, "lab@example.com")

    r = _upload(client, csrf, inst, "scope.csv", GOOD_CSV.encode("utf-8"))
    assert r.status_code == 200, r.text
    assert r.json() == {"imported": 2, "errors": []}

    items = _scope(client, inst, qualification_id=cnas)
    assert [(i["line_no"], i["standard"], i["product"], i["parameter"]) for i in items] == [
        (1, "GB 4943.1-2022", "信息技术设备", "电气强度"),
        (2, "GB/T 36276-2023", "电力储能用锂离子电池", "过充电"),
    ]
    # The qualification the file does not name keeps its scope.
    assert _lines(client, inst, cma) == cma_before
    assert _replaced_events(db) == events + 1
    # The search index follows: the new standards find the institution, the old one no more.
    assert _found_by(client, "GB4943.1") == [inst]
    assert _found_by(client, "GB/T 36276-2023") == [inst]
    assert _found_by(client, BATTERY[0]) == []


def test_an_excel_workbook_imports_too(client, db) -> None:  # type: ignore[no-untyped-def]
    _, inst, cnas, cma = _world(db)
    data = _xlsx([
        ["认可证书编号", "依据标准", "产品", "参数", "限制范围"],
        ["CNAS L0001", "GB4943.1—2022", "信息技术设备", "电气强度", None],
        [],  # an empty row is skipped
        # Excel keeps a CMA number typed into a cell as a number.
        [230912345678, "GB 17625.1-2022", "家用电器", "谐波电流", "只测单相"],
    ])
    csrf = sign_in(client, "lab@example.com")
    r = _upload(client, csrf, inst, "范围.xlsx", data)
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 2
    assert _lines(client, inst, cnas) == [("GB 4943.1-2022", "信息技术设备", "电气强度")]
    [line] = _scope(client, inst, qualification_id=cma)
    assert (line["standard"], line["product"], line["limitation"]) == (
        "GB 17625.1-2022", "家用电器", "只测单相")


def test_a_gb18030_csv_is_read(client, db) -> None:  # type: ignore[no-untyped-def]
    _, inst, cnas, _ = _world(db)
    data = GOOD_CSV.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # so the test really exercises the fallback
    csrf = sign_in(client, "lab@example.com")
    r = _upload(client, csrf, inst, "scope.csv", data)
    assert r.status_code == 200, r.text
    assert _lines(client, inst, cnas) == [
        ("GB 4943.1-2022", "信息技术设备", "电气强度"),
        ("GB/T 36276-2023", "电力储能用锂离子电池", "过充电"),
    ]


def test_a_file_with_faulty_rows_is_refused_whole(client, db) -> None:  # type: ignore[no-untyped-def]
    _, inst, _, _ = _world(db)
    before = _scope(client, inst)
    events = _replaced_events(db)
    data = HEADER + (
        "CNAS L0001,GB 4943.1-2022,信息技术设备,电气强度\n"           # row 2: fine
        "CNAS L0001,not a standard,信息技术设备,电气强度\n"          # row 3
        "CNAS L0001,GB 4943.1-2022,,电气强度\n"                      # row 4
        "\n"                                                          # row 5: blank, skipped
        "CNAS L9999,GB 4943.1-2022,信息技术设备,电气强度\n"          # row 6
        "CNAS L0001,GB 4943.1-2022,信息技术设备,电气强度,多余\n"     # row 7
    )
    csrf = sign_in(client, "lab@example.com")
    body = _refusal(_upload(client, csrf, inst, "scope.csv", data.encode("utf-8")))
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (3, "standard"), (4, "product"), (6, "qualification"), (7, "row")]
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert "not a standard" in messages["standard"]
    assert "CNAS L9999" in messages["qualification"]
    assert "nothing was imported" in body["detail"]
    assert _scope(client, inst) == before
    assert _replaced_events(db) == events


def test_a_header_without_a_required_column_is_refused(client, db) -> None:  # type: ignore[no-untyped-def]
    _, inst, _, _ = _world(db)
    before = _scope(client, inst)
    csrf = sign_in(client, "lab@example.com")
    data = "资质编号,标准编号,检测对象\nCNAS L0001,GB 4943.1-2022,信息技术设备\n"
    body = _refusal(_upload(client, csrf, inst, "scope.csv", data.encode("utf-8")))
    assert body["errors"] == [{"field": "parameter", "row": 1,
                               "message": "column missing from the header row"}]
    assert "parameter" in body["detail"]
    assert _scope(client, inst) == before


def test_other_file_kinds_and_broken_workbooks_are_refused(client, db) -> None:  # type: ignore[no-untyped-def]
    _, inst, _, _ = _world(db)
    before = _scope(client, inst)
    csrf = sign_in(client, "lab@example.com")

    body = _refusal(_upload(client, csrf, inst, "scope.pdf", GOOD_CSV.encode("utf-8")))
    assert [e["field"] for e in body["errors"]] == ["file"]
    assert ".csv or .xlsx" in body["errors"][0]["message"]

    body = _refusal(_upload(client, csrf, inst, "scope.xlsx", os.urandom(2048)))
    assert [e["field"] for e in body["errors"]] == ["file"]
    assert "not a readable Excel workbook" in body["errors"][0]["message"]

    body = _refusal(_upload(client, csrf, inst, "scope.csv", HEADER.encode("utf-8")))
    assert body["errors"] == [{"field": "file", "message": "has no scope lines"}]
    assert _scope(client, inst) == before


def test_only_editors_of_the_owning_organisation_may_import(client, db) -> None:  # type: ignore[no-untyped-def]
    acc, inst, _, _ = _world(db)
    make_account(db, "other@example.com")  # admin of another lab
    make_account(db, "viewer@example.com", role=Role.viewer, org=acc.org)
    before = _scope(client, inst)
    events = _replaced_events(db)
    for email in ("other@example.com", "viewer@example.com"):
        client.cookies.clear()
        csrf = sign_in(client, email)
        _refusal(_upload(client, csrf, inst, "scope.csv", GOOD_CSV.encode("utf-8")), 403)
    assert _scope(client, inst) == before
    assert _replaced_events(db) == events


def test_direct_import_checks_everything_before_writing(db) -> None:  # type: ignore[no-untyped-def]
    acc, inst, cnas, cma = _world(db)
    p = acc.principal(db)
    faulty = (HEADER + "CNAS L0001,GB 4943.1-2022,信息技术设备,电气强度\n"
              "230912345678,GB 17625.1-2022,家用电器,\n").encode("utf-8")
    with pytest.raises(Problem) as caught:
        importer.import_scope_file(db, p, inst, "scope.csv", faulty)
    assert caught.value.status == 422
    assert [(e.row, e.field) for e in caught.value.errors] == [(3, "parameter")]
    db.rollback()

    n = importer.import_scope_file(db, p, inst, "scope.csv", GOOD_CSV.encode("utf-8-sig"))
    assert n == 2
    stored = db.scalars(select(ScopeLine.standard).where(ScopeLine.qualification_id == cnas)
                        .order_by(ScopeLine.line_no)).all()
    assert stored == ["GB 4943.1-2022", "GB/T 36276-2023"]
    assert db.scalars(select(ScopeLine.standard)
                      .where(ScopeLine.qualification_id == cma)).all() == ["GB 17625.1-2022"]


def test_excel_values_beyond_the_header_are_refused(client, db) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    from helpers import make_account, make_institution, sign_in

    acc = make_account(db, "lab2@example.com")
    inst, _ = make_institution(db, acc, name="甲", serial=42, number="CNAS L0042")
    csrf = sign_in(client, "lab2@example.com")
    wb = Workbook()
    ws = wb.active
    ws.append(["qualification", "standard", "product", "parameter"])
    ws.append(["CNAS L0042", "GB 31241-2022", "锂离子电池", "过充电"])
    ws.append(["CNAS L0042", "GB 31241-2022", "锂离子电池", "短路", "stray value"])
    buf = io.BytesIO()
    wb.save(buf)
    r = client.post(f"/api/registry/institutions/{inst}/scope/import",
                    headers={"X-CSRF-Token": csrf},
                    files={"file": ("s.xlsx", buf.getvalue(), "application/octet-stream")})
    assert r.status_code == 422
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(3, "row")]
