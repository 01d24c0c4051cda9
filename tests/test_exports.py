"""Downloads: search results and scopes as CSV and Excel, safe to open, and a scope export
that the scope importer takes back unchanged."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from helpers import make_account, make_institution, sign_in
from tichub.core.exports import safe_cell
from tichub.registry import service as registry
from tichub.registry.models import QualificationKind, ScopeLine
from tichub.registry.schemas import InstitutionPatch, ScopeLineIn


def _csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())  # Excel needs the BOM to read UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _xlsx(content: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def _lab_with_scope(db):  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, qid = make_institution(db, acc, name="甲检测", serial=1, number="CNAS L0001")
    registry.replace_scope(db, acc.principal(db), qid, [
        ScopeLineIn(standard="GB 31241-2022", product="锂离子电池", parameter="过充电保护",
                    product_en="lithium-ion battery", parameter_en="overcharge protection",
                    method_clause="5.2", limitation="只测 4.1 条"),
        ScopeLineIn(standard="GB4943.1—2022", product="信息技术设备", parameter="电气强度"),
        ScopeLineIn(standard="GB 4943.1-2022", product="=1+2", parameter="@SUM(A1)"),
    ])
    return acc, inst, qid


def _stored(db, qid: str) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    db.expire_all()
    return [tuple(r) for r in db.execute(
        select(ScopeLine.line_no, ScopeLine.standard, ScopeLine.product, ScopeLine.parameter,
               ScopeLine.product_en, ScopeLine.parameter_en, ScopeLine.method_clause,
               ScopeLine.limitation).where(ScopeLine.qualification_id == qid)
        .order_by(ScopeLine.line_no))]


def test_spreadsheet_formulas_are_never_run() -> None:
    assert [safe_cell(v) for v in ("=1+2", "+1", "-1", "@SUM(A1)", "GB 1-2000", None, 3)] == [
        "'=1+2", "'+1", "'-1", "'@SUM(A1)", "GB 1-2000", "", "3"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_scope_export_imports_back_unchanged(client, db, fmt: str) -> None:  # type: ignore[no-untyped-def]
    _, inst, qid = _lab_with_scope(db)
    before = _stored(db, qid)
    r = client.get(f"/api/registry/institutions/{inst}/scope.{fmt}")
    assert r.status_code == 200, r.text
    assert f'scope-{inst}.{fmt}' in r.headers["content-disposition"]
    rows = _csv(r.content) if fmt == "csv" else _xlsx(r.content)
    assert rows[0] == ["资质编号", "标准编号", "标准名称", "检测对象", "检测项目", "产品英文名称",
                       "参数英文名称", "方法条款", "限制范围"]
    assert rows[1][:5] == ["CNAS L0001", "GB 31241-2022", "", "锂离子电池", "过充电保护"]
    assert rows[3][3:5] == ["'=1+2", "'@SUM(A1)"]  # shown as text, not run

    english = client.get(f"/api/registry/institutions/{inst}/scope.{fmt}?lang=en")
    header = (_csv(english.content) if fmt == "csv" else _xlsx(english.content))[0]
    assert header[:5] == ["qualification", "standard", "standard_title", "product", "parameter"]

    # Import what was exported, with the formula guards taken off as a person fixing the
    # sheet would: the scope stays as it was.
    rows[3][3:5] = ["=1+2", "@SUM(A1)"]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    csrf = sign_in(client, "lab@example.com")
    r = client.post(f"/api/registry/institutions/{inst}/scope/import",
                    headers={"X-CSRF-Token": csrf},
                    files={"file": ("scope.csv", buf.getvalue().encode(), "text/csv")})
    assert r.status_code in (200, 201), r.text
    assert _stored(db, qid) == before


def test_scope_export_filters_by_standard_and_hides_what_the_page_hides(client, db) -> None:  # type: ignore[no-untyped-def]
    acc, inst, _ = _lab_with_scope(db)
    rows = _csv(client.get(f"/api/registry/institutions/{inst}/scope.csv",
                           params={"standard": "gb 4943.1"}).content)
    assert [r[1] for r in rows[1:]] == ["GB 4943.1-2022", "GB 4943.1-2022"]
    registry.update_institution(db, acc.principal(db), inst, InstitutionPatch(published=False))
    r = client.get(f"/api/registry/institutions/{inst}/scope.xlsx")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_search_exports_agree_and_name_qualifications_once(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    make_institution(db, acc, name="甲检测", serial=1, number="CNAS L0001",
                     scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    make_institution(db, acc, name="乙检测", serial=2, qual_kind=QualificationKind.cma,
                     number="230912345678", scope=[("GB 31241-2014", "锂离子电池", "短路")])
    params = {"q": "GB 31241-2022"}
    as_csv = _csv(client.get("/api/registry/search.csv", params=params).content)
    r = client.get("/api/registry/search.xlsx", params=params)
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert _xlsx(r.content) == as_csv
    assert [row[0] for row in as_csv[1:]] == ["甲检测", "乙检测"]
    assert [row[6] for row in as_csv[1:]] == ["CNAS L0001 (valid)", "CMA 230912345678 (valid)"]


def test_an_export_too_large_is_refused_not_cut_short(client, db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    for serial in (1, 2):
        make_institution(db, acc, name=f"检测{serial}", serial=serial,
                         scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    monkeypatch.setattr(registry, "EXPORT_LIMIT", 1)
    r = client.get("/api/registry/search.csv", params={"q": "GB 31241"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert "finds 2 institutions" in r.json()["detail"]
