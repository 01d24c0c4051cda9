"""In a real browser (Debian's Chromium, headless): sign in, search, open an institution,
switch to English."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from conftest import skip_or_fail
from helpers import PASSWORD, make_account, make_institution
from tichub.app import create_app
from tichub.core.config import Settings

CHROMIUM = Path("/usr/bin/chromium")
# Without these Chromium keeps trying to reach Google's hosts, which this network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="browser-test",
                              cookie_secure=False))
    db = app.state.sessionmaker()
    lab = make_account(db, "lab@example.com")
    make_institution(db, lab, name="上海甲检测技术有限公司", serial=1, district="jiading",
                     scope=[("GB 31241-2022", "便携式电子产品用锂离子电池和电池组", "过充电保护")])
    make_account(db, "buyer@example.com")
    db.close()
    from sqlalchemy import update

    from tichub.registry.models import Institution

    with app.state.sessionmaker() as s:
        s.execute(update(Institution).values(name_en="Shanghai Jia Testing Technology Co., Ltd."))
        s.commit()

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


@pytest.mark.browser
def test_sign_in_search_open_and_switch_to_english(live_server: str) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", "buyer@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.stack button[type=submit]")
        expect(page.locator("header .user")).to_contain_text("buyer")

        page.goto(f"{live_server}/institutions")
        page.fill("#search-form input[name=q]", "锂离子电池")
        page.press("#search-form input[name=q]", "Enter")
        expect(page.get_by_test_id("total")).to_contain_text("共找到 1 家机构")
        expect(page.locator(".result-title")).to_have_text("上海甲检测技术有限公司")

        # A filter applies at once (htmx), counts included, and lands in the address.
        page.check("#search-form input[name=district][value=pudong]")
        expect(page.get_by_test_id("total")).to_contain_text("共找到 0 家机构")
        assert "district=pudong" in page.url
        page.uncheck("#search-form input[name=district][value=pudong]")
        expect(page.get_by_test_id("total")).to_contain_text("共找到 1 家机构")

        page.fill("#search-form input[name=q]", "GB 31241")
        page.press("#search-form input[name=q]", "Enter")
        expect(page.locator(".badge-match")).to_contain_text("标准完全匹配")
        page.click(".result-title")

        expect(page.locator("h1")).to_have_text("上海甲检测技术有限公司")
        expect(page.locator("#scope-table")).to_contain_text("GB 31241-2022")
        page.click("a.lang")
        expect(page.locator("h1")).to_have_text("Shanghai Jia Testing Technology Co., Ltd.")
        expect(page.locator("main")).to_contain_text("Capability scope")
        assert page.evaluate("document.documentElement.lang") == "en"
        browser.close()


@pytest.mark.browser
def test_verify_a_report_by_number_and_by_its_pdf(live_server: str, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    import hashlib
    from datetime import date

    from playwright.sync_api import expect, sync_playwright

    from tichub.core.db import make_engine, make_sessionmaker
    from tichub.reports import service
    from tichub.reports.schemas import RecordIn

    pdf = b"%PDF-1.7\n% a registered report\n%%EOF\n"
    # The live server's database, and its log key (the same settings resolve the same key).
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'browser.db'}",
                        secret_key="browser-test", cookie_secure=False)
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as db:
        lab = make_account(db, "verify-lab@example.com")
        inst, _ = make_institution(db, lab, name="上海乙检测技术有限公司", serial=2,
                                   scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
        service.register(db, lab.principal(db), service.Log.from_settings(settings), [RecordIn(
            number="R-2026-0042", kind="test_report", institution_id=inst,
            client="秘密客户", issued_on=date(2026, 1, 5), standards=["GB 31241-2022"],
            marks=["CNAS"], pdf_sha256=hashlib.sha256(pdf).hexdigest())])
    engine.dispose()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{live_server}/")
        page.click("header nav a[href='/verify']")
        page.fill("input[name=number]", "R-2026-0042")
        page.press("input[name=number]", "Enter")
        expect(page.get_by_test_id("verdict")).to_contain_text("已登记，有效")
        expect(page.get_by_test_id("issuer")).to_have_text("上海乙检测技术有限公司")
        assert "number=R-2026-0042" in page.url  # htmx keeps the address shareable

        # Dropping (here: choosing) the PDF checks it at once, CSRF token included.
        page.set_input_files("input[name=pdf]", files=[
            {"name": "report.pdf", "mimeType": "application/pdf", "buffer": pdf}])
        expect(page.get_by_test_id("pdf-check")).to_contain_text("R-2026-0042")
        page.set_input_files("input[name=pdf]", files=[
            {"name": "report.pdf", "mimeType": "application/pdf", "buffer": pdf + b" "}])
        expect(page.get_by_test_id("pdf-check")).to_contain_text("没有已登记的文件与此 PDF 一致")
        assert "秘密客户" not in page.content()
        browser.close()


def browser_sign_in(browser, url: str, email: str):  # type: ignore[no-untyped-def]
    """A new browser context signed in as ``email``: a page ready to use."""
    from playwright.sync_api import expect

    page = browser.new_context().new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit]")
    expect(page.locator("header .user")).to_contain_text(email.split("@")[0])
    return page
