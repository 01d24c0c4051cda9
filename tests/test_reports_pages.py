"""A lab's own report pages: register (with the PDF), the receipt, the list, amend and
withdraw, in both languages; refusals beside the fields; a resent form registers once."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from helpers import make_account, make_institution, sign_in
from tichub.core.i18n import translations
from tichub.core.models import OrgKind, Role
from tichub.registry import service as registry
from tichub.registry.schemas import SignatoryIn
from tichub.reports import service
from tichub.reports.models import ReportPdf, ReportRecord

FORM = {"X-TICHub-Form": "1", "Accept": "application/json"}
PAGE = {"Accept": "text/html"}
PDF = b"%PDF-1.7\n% issued through the page\n%%EOF\n"
PAGE_1_OF_2 = translations("zh").gettext("Page %(page)s of %(pages)s") % {"page": 1, "pages": 2}


@pytest.fixture
def lab(client, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="上海甲检测技术有限公司", serial=1,
                               scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    registry.add_signatory(db, acc.principal(db), inst, SignatoryIn(
        name="张工", authorised_from=date(2020, 1, 1)))
    token = sign_in(client, "lab@example.com")
    return {"inst": inst, "account": acc, "token": token}


def _form(lab: dict[str, Any], number: str, **extra: str) -> dict[str, str]:
    page = {"csrf_token": lab["token"], "institution_id": lab["inst"], "kind": "test_report",
            "number": number, "product": "锂离子电池组", "standards": "GB 31241-2022",
            "issued_on": "2026-01-05", "signatories": "张工", "conclusion": "合格",
            "key": f"key-{number}"}
    page.update(extra)
    return page


def _register(client, lab, number: str, pdf: bytes | None = None, **extra: str):  # type: ignore[no-untyped-def]
    files = {"pdf": ("report.pdf", pdf, "application/pdf")} if pdf is not None else None
    return client.post("/reports/new", data=_form(lab, number, **extra), files=files,
                       headers=FORM, follow_redirects=False)


def test_the_form_in_both_languages(client, lab) -> None:  # type: ignore[no-untyped-def]
    zh = client.get("/reports/new", headers=PAGE)
    assert zh.status_code == 200
    assert "登记报告" in zh.text and "上海甲检测技术有限公司" in zh.text
    assert "检测报告" in zh.text and "test_report<" not in zh.text
    en = client.get("/reports/new?lang=en", headers=PAGE)
    assert "Register a report" in en.text and "Test report" in en.text


def test_a_company_may_not_register(client, db) -> None:  # type: ignore[no-untyped-def]
    make_account(db, "buyer@firm.cn", kind=OrgKind.enterprise)
    sign_in(client, "buyer@firm.cn")
    assert client.get("/reports/new", headers=PAGE).status_code == 403


def test_a_viewer_of_the_lab_may_not_register(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    make_account(db, "viewer@example.com", role=Role.viewer, org=lab["account"].org)
    client.cookies.clear()
    sign_in(client, "viewer@example.com")
    assert client.get("/reports/new", headers=PAGE).status_code == 403


def test_register_with_the_pdf_shows_the_receipt_and_verifies(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    r = _register(client, lab, "R-PAGE-0001", PDF)
    assert r.status_code == 200, r.text
    target = r.json()["redirect"]
    assert target.startswith("/reports/records/")
    record = db.scalar(select(ReportRecord).where(ReportRecord.number == "R-PAGE-0001"))
    assert record is not None and record.pdf_sha256 == hashlib.sha256(PDF).hexdigest()
    assert db.get(ReportPdf, record.id) is not None  # the file is kept, not just its hash
    receipt = client.get(target, headers=PAGE)
    assert receipt.status_code == 200
    assert "报告 R-PAGE-0001 已登记到公开日志" in receipt.text  # the flash
    assert record.leaf_hash in receipt.text
    assert f"/verify/qr/{record.id}.svg" in receipt.text
    assert re.search(r'data-testid="signed-receipt">[^<]*receipt', receipt.text)
    service.integrate(db, client.app.state.log)
    again = client.get(target + "&lang=en", headers=PAGE)
    assert 'data-testid="log-index">0<' in again.text and "Test report" in again.text
    verify = client.get("/verify", params={"number": "R-PAGE-0001"}, headers=PAGE)
    assert "verdict-valid" in verify.text


def test_a_resent_form_registers_once(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    first = _register(client, lab, "R-PAGE-0002")
    second = _register(client, lab, "R-PAGE-0002")
    assert first.json() == second.json()
    count = db.scalar(select(func.count()).select_from(ReportRecord)
                      .where(ReportRecord.number == "R-PAGE-0002"))
    assert count == 1


def test_refusals_name_the_field_in_the_readers_language(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    r = _register(client, lab, "R-PAGE-0003", issued_on="")
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["field"] == "issued_on" and error["label"] == "签发日期"
    assert re.search(r"[\u4e00-\u9fff]", error["message"]) and "_" not in error["message"]
    future = _register(client, lab, "R-PAGE-0003", issued_on="2999-01-01")
    assert future.status_code == 422
    assert future.json()["errors"][0]["message"] == "晚于今天"
    unknown = _register(client, lab, "R-PAGE-0003", signatories="李四")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "signatories"
    assert "_" not in unknown.json()["errors"][0]["message"]
    not_pdf = _register(client, lab, "R-PAGE-0003", b"hello")
    assert not_pdf.status_code == 422 and not_pdf.json()["errors"][0]["field"] == "pdf"
    english = client.post("/reports/new?lang=en", data=_form(lab, "R-PAGE-0003", kind="x"),
                          headers=FORM)
    assert english.json()["errors"][0] == {"field": "kind", "row": None, "label": "Kind",
                                           "message": "is not one of the choices"}
    assert db.scalar(select(func.count()).select_from(ReportRecord)) == 0


def test_amend_and_withdraw_on_the_pages(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    _register(client, lab, "R-PAGE-0010")
    _register(client, lab, "R-PAGE-0011")
    mine = client.get("/reports/mine", headers=PAGE)
    assert "R-PAGE-0010" in mine.text and "有效" in mine.text
    first = db.scalar(select(ReportRecord).where(ReportRecord.number == "R-PAGE-0010"))
    second = db.scalar(select(ReportRecord).where(ReportRecord.number == "R-PAGE-0011"))
    assert first is not None and second is not None
    form = client.get(f"/reports/records/{first.id}/amend", headers=PAGE)
    assert "修改 R-PAGE-0010" in form.text and "锂离子电池组" in form.text
    same = client.post(f"/reports/records/{first.id}/amend", headers=FORM, data=_form(
        lab, "R-PAGE-0010", key="amend-same"))
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "number"
    amended = client.post(f"/reports/records/{first.id}/amend", headers=FORM, data=_form(
        lab, "R-PAGE-0010-A1", key="amend-1", reason="更正型号"))
    assert amended.status_code == 200, amended.text
    no_reason = client.post(f"/reports/records/{second.id}/withdraw", headers=FORM,
                            data={"csrf_token": lab["token"], "reason": " "})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    withdrawn = client.post(f"/reports/records/{second.id}/withdraw", headers=FORM,
                            data={"csrf_token": lab["token"], "reason": "样品编号错误"},
                            follow_redirects=False)
    assert withdrawn.json() == {"redirect": "/reports/mine"}
    listed = client.get("/reports/mine?lang=en", headers=PAGE).text
    assert "R-PAGE-0011 is withdrawn" in listed
    assert re.search(r'data-number="R-PAGE-0010">.*?Amended.*?R-PAGE-0010-A1', listed, re.S)
    assert re.search(r'data-number="R-PAGE-0011">.*?Withdrawn', listed, re.S)
    assert ">withdrawn<" not in listed and ">amended<" not in listed
    service.integrate(db, client.app.state.log)
    assert "verdict-amended" in client.get("/verify?number=R-PAGE-0010").text
    assert "verdict-withdrawn" in client.get("/verify?number=R-PAGE-0011").text
    assert "verdict-valid" in client.get("/verify?number=R-PAGE-0010-A1").text


def test_another_labs_record_is_not_shown(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    _register(client, lab, "R-PAGE-0020")
    record = db.scalar(select(ReportRecord).where(ReportRecord.number == "R-PAGE-0020"))
    assert record is not None
    other = make_account(db, "other@lab.cn")
    make_institution(db, other, name="上海乙检测有限公司", serial=2)
    client.cookies.clear()
    sign_in(client, "other@lab.cn")
    assert client.get(f"/reports/records/{record.id}", headers=PAGE).status_code == 403
    assert "R-PAGE-0020" not in client.get("/reports/mine", headers=PAGE).text


def test_a_withdrawal_sent_twice_is_registered_once(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    _register(client, lab, "R-PAGE-0030")
    record = db.scalar(select(ReportRecord).where(ReportRecord.number == "R-PAGE-0030"))
    assert record is not None
    key = re.search(r'name="key" value="([^"]+)"', client.get("/reports/mine").text)
    assert key is not None
    for _ in range(2):
        r = client.post(f"/reports/records/{record.id}/withdraw", headers=FORM, data={
            "csrf_token": lab["token"], "reason": "重复", "key": key.group(1)})
        assert r.status_code == 200, r.text
    count = db.scalar(select(func.count()).select_from(ReportRecord)
                      .where(ReportRecord.refers_to_id == record.id))
    assert count == 1


def test_the_list_finds_a_number_and_pages_through_many(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    from tichub.reports import issuing

    for i in range(3):
        _register(client, lab, f"R-FIND-{i}")
    _register(client, lab, "R_OTHER-1")
    # Found however the letters' case is typed, on either database.
    found = client.get("/reports/mine", params={"number": "r-find"}, headers=PAGE).text
    assert "共 3 份报告" in found and 'data-number="R_OTHER-1"' not in found
    # "_" is a character here, not LIKE's wildcard.
    assert "共 1 份报告" in client.get("/reports/mine", params={"number": "R_"}).text
    none = client.get("/reports/mine", params={"number": "NOPE", "lang": "en"}).text
    assert "No report of yours has a number starting with NOPE." in none
    issuing.PER_PAGE = 2
    try:
        first = client.get("/reports/mine?lang=zh", headers=PAGE).text
        assert PAGE_1_OF_2 in first and 'href="?page=2&number="' in first
        second = client.get("/reports/mine?page=2", headers=PAGE).text
        shown = re.findall(r'<tr data-number="([^"]+)"', first + second)
        assert sorted(shown) == ["R-FIND-0", "R-FIND-1", "R-FIND-2", "R_OTHER-1"]
    finally:
        issuing.PER_PAGE = 50


def test_the_form_sent_again_with_another_number_registers_that_one(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    # The browser's Back after registering, a new number typed: the page's key is reused.
    first = _register(client, lab, "R-BACK-1", key="one-form")
    again = _register(client, lab, "R-BACK-2", key="one-form")
    assert first.status_code == again.status_code == 200
    assert first.json() != again.json()
    numbers = set(db.scalars(select(ReportRecord.number)
                             .where(ReportRecord.number.like("R-BACK-%"))))
    assert numbers == {"R-BACK-1", "R-BACK-2"}
    receipt = client.get(again.json()["redirect"], headers=PAGE).text
    assert "R-BACK-2" in receipt and 'data-testid="signed-receipt"' in receipt
