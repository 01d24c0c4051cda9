"""The public verification page: by number, by the printed QR code, by the PDF; and the
QR code itself."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Any

import pytest

from helpers import csrf_from, make_account, make_institution
from tichub.registry import service as registry
from tichub.registry.schemas import SignatoryIn
from tichub.reports import qr, service
from tichub.reports import views as verify_views
from tichub.reports.schemas import Receipt, RecordIn

BATTERY = ("GB 31241-2022", "锂离子电池", "过充电保护")
PDF = b"%PDF-1.7\n% a registered report\n%%EOF\n"
SECRET_CLIENT = "秘密客户"


@pytest.fixture
def lab(client, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="上海甲检测技术有限公司", serial=1, scope=[BATTERY])
    registry.add_signatory(db, acc.principal(db), inst, SignatoryIn(
        name="张工", authorised_from=date(2020, 1, 1)))
    return {"inst": inst, "account": acc}


def _register(client, db, lab, number: str, **extra: Any) -> Receipt:  # type: ignore[no-untyped-def]
    fields: dict[str, Any] = {"kind": "test_report", "institution_id": lab["inst"]}
    if extra.get("event", "issued") == "issued":
        fields.update(client=SECRET_CLIENT, product="锂离子电池组", standards=["GB 31241-2022"],
                      marks=["CNAS"], issued_on=date(2026, 1, 5), conclusion="合格",
                      signatories=["张工"], pdf_sha256=hashlib.sha256(PDF).hexdigest())
    fields.update(extra)
    [receipt] = service.register(db, lab["account"].principal(db), client.app.state.log,
                                 [RecordIn(number=number, **fields)])
    return receipt


def _integrate(client, db) -> None:  # type: ignore[no-untyped-def]
    service.integrate(db, client.app.state.log)


def _verdict_text(page: str) -> str:
    m = re.search(r'data-testid="verdict">(.*?)</div>\s*</div>', page, re.S)
    assert m, "the page shows no verdict"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(1)))


def test_a_valid_number_in_chinese_and_english(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    receipt = _register(client, db, lab, "R-2026-0001")
    _integrate(client, db)
    page = client.get("/verify", params={"number": "R-2026-0001"})
    assert page.status_code == 200
    text = page.text
    assert '<html lang="zh-CN">' in text and "verdict-valid" in text
    assert "已登记，有效" in _verdict_text(text)
    assert f'href="/institutions/{lab["inst"]}"' in text and "上海甲检测技术有限公司" in text
    assert "检测报告" in text and "GB 31241-2022" in text and "CNAS" in text and "合格" in text
    assert "签发" in text and "2026-01-05" in text
    assert f'/api/reports/records/{receipt.record_id}/bundle' in text
    assert f'/verify/qr/{receipt.record_id}.svg' in text
    assert SECRET_CLIENT not in text  # the client is private: only committed to in the log

    english = client.get("/verify", params={"number": "R-2026-0001", "lang": "en"}).text
    assert '<html lang="en">' in english
    assert "Registered and valid" in _verdict_text(english)
    assert "Test report" in english and "Issue" in english


def test_an_unknown_number_is_unverified(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/verify", params={"number": "NOPE-1"})
    assert page.status_code == 200 and "verdict-unknown" in page.text
    assert "未登记" in _verdict_text(page.text) and "视为未经核验" in page.text
    english = client.get("/verify", params={"number": "NOPE-1", "lang": "en"}).text
    assert "treat the document as unverified" in english
    # The bare page is only the forms.
    bare = client.get("/verify")
    assert bare.status_code == 200 and 'data-testid="verdict"' not in bare.text
    assert 'name="pdf"' in bare.text and 'enctype="multipart/form-data"' in bare.text


def test_withdrawn_amended_queued_and_flagged(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    _register(client, db, lab, "R-1")
    _register(client, db, lab, "R-2")
    _register(client, db, lab, "R-2A")
    _integrate(client, db)
    _register(client, db, lab, "R-1", event="withdrawn", reason="数据录入错误")
    _register(client, db, lab, "R-2", event="amended", replacement="R-2A", reason="更正型号")

    withdrawn = client.get("/verify", params={"number": "R-1"}).text
    assert "verdict-withdrawn" in withdrawn
    assert "已被签发机构撤回" in _verdict_text(withdrawn) and "数据录入错误" in withdrawn
    # The withdrawal is acknowledged but not yet in the tree: no bundle for it yet.
    assert "排队中" in withdrawn and 'data-testid="bundle"' not in withdrawn

    amended = client.get("/verify", params={"number": "R-2"}).text
    assert "verdict-amended" in amended and "已被另一份文件替代" in amended
    assert 'href="/verify?number=R-2A"' in amended and "更改" in amended

    _integrate(client, db)
    assert 'data-testid="bundle"' in client.get("/verify", params={"number": "R-1"}).text
    _register(client, db, lab, "R-2A")  # the same number issued again
    again = client.get("/verify", params={"number": "R-2A"}).text
    assert "被登记了不止一次" in again


def test_the_printed_qr_code_matches_or_not(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    receipt = _register(client, db, lab, "R-QR-1")
    _integrate(client, db)
    h = qr.hash_prefix(receipt.leaf_hash)
    good = client.get("/verify", params={"number": "R-QR-1", "h": h}).text
    assert "所印二维码与此编号的一条已登记记录一致" in good and "警告" not in good

    for wrong in ("0" * 16, h[:8], "not-hex-at-all!!"):
        bad = client.get("/verify", params={"number": "R-QR-1", "h": wrong}).text
        assert "所印二维码不属于此编号的任何已登记记录" in bad, wrong
        assert "verdict-valid" in bad  # the number's status is still shown
    english = client.get("/verify", params={"number": "R-QR-1", "h": "f" * 16, "lang": "en"})
    assert "does not belong to any registered record" in english.text


def _post_pdf(client, content: bytes, name: str = "report.pdf", token: str | None = None):  # type: ignore[no-untyped-def]
    token = token if token is not None else csrf_from(client.get("/verify").text)
    return client.post("/verify", data={"csrf_token": token},
                       files={"pdf": (name, content, "application/pdf")},
                       headers={"accept": "text/html"})


def test_a_dropped_pdf_is_found_by_its_hash_or_not(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    _register(client, db, lab, "R-PDF-1")
    _register(client, db, lab, "R-PDF-2")  # the same PDF under another number: flagged
    _integrate(client, db)
    found = _post_pdf(client, PDF)
    assert found.status_code == 200, found.text
    assert hashlib.sha256(PDF).hexdigest() in found.text
    assert "此文件与已登记的文件 R-PDF-1, R-PDF-2 完全一致" in found.text
    assert found.text.count('data-testid="verdict"') == 2 and "verdict-valid" in found.text
    assert "也以另一个编号登记过" in found.text
    assert SECRET_CLIENT not in found.text

    altered = _post_pdf(client, PDF + b" ")
    assert altered.status_code == 200 and "没有已登记的文件与此 PDF 一致" in altered.text
    not_pdf = _post_pdf(client, b"hello", name="x.txt")
    assert "开头不像 PDF" in not_pdf.text

    assert _post_pdf(client, b"").status_code == 422
    assert _post_pdf(client, PDF, token="forged").status_code == 403


def test_a_pdf_over_the_limit_is_refused(client, db, lab, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(verify_views, "MAX_PDF", 20)
    monkeypatch.setattr(verify_views, "CHUNK", 8)
    counted = _post_pdf(client, b"%PDF-" + b"x" * 22)  # within the declared-size margin
    assert counted.status_code == 413 and "超出本页可核验的上限" in counted.text
    big = b"%PDF-" + b"x" * verify_views.FORM_MARGIN
    declared = _post_pdf(client, big)  # refused on its Content-Length, before it is read
    assert declared.status_code == 413
    # Even before the CSRF check, which would read the whole form.
    assert _post_pdf(client, big, token="forged").status_code == 413


def test_the_qr_code_of_a_record(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    receipt = _register(client, db, lab, "R-QR-2")
    svg = client.get(f"/verify/qr/{receipt.record_id}.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.content.startswith(b"<svg")
    # The SVG's title carries the address the code encodes.
    url = qr.verify_url("http://testserver/", "R-QR-2", receipt.leaf_hash)
    assert url.encode() in svg.content.replace(b"&amp;", b"&")
    png = client.get(f"/verify/qr/{receipt.record_id}.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert client.get("/verify/qr/nope.svg").status_code == 404


def test_qr_urls_and_prefixes() -> None:
    leaf = "ABCDEF0123456789" + "0" * 48
    assert qr.hash_prefix(leaf) == "abcdef0123456789"
    assert qr.verify_url("https://tichub.example/", "R 1/é", leaf) == (
        "https://tichub.example/verify?number=R+1%2F%C3%A9&h=abcdef0123456789")
    assert qr.verify_path("R-1", leaf) == "/verify?number=R-1&h=abcdef0123456789"
    assert qr.prefix_matches("ABCDEF0123456789", leaf)
    assert qr.prefix_matches(" abcdef01234567890 ", leaf)  # longer is fine
    assert not qr.prefix_matches("abcdef01", leaf)  # too short to mean anything
    assert not qr.prefix_matches("abcdef012345678x", leaf)
    assert not qr.prefix_matches("bbcdef0123456789", leaf)


def test_a_record_altered_in_the_database_is_shown_as_untrustworthy(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select, update

    from tichub.reports.models import ReportRecord

    _register(client, db, lab, "R-2026-0100")
    _integrate(client, db)
    assert 'data-testid="integrity"' not in client.get("/verify?number=R-2026-0100").text
    record = db.scalar(select(ReportRecord).where(ReportRecord.number == "R-2026-0100"))
    db.execute(update(ReportRecord).where(ReportRecord.id == record.id).values(
        public={**record.public, "conclusion": "合格（改）"}))
    db.commit()
    page = client.get("/verify?number=R-2026-0100").text
    assert 'data-testid="integrity"' in page and "不一致" in page
