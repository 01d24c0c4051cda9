"""A lab editor registers, amends and withdraws reports through the pages, in a real browser
(Debian's Chromium, headless); /verify shows each new status."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from conftest import skip_or_fail
from helpers import live_server, make_account, make_institution
from test_browser import CHROMIUM, CHROMIUM_ARGS, browser_sign_in
from tichub.app import create_app
from tichub.core.config import Settings
from tichub.registry import service as registry
from tichub.registry.schemas import SignatoryIn

PDF = b"%PDF-1.7\n% registered in the browser\n%%EOF\n"


@pytest.mark.browser
def test_register_amend_and_withdraw_in_the_browser(tmp_path: Path,
                                                    sqlite_template: Path) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "reports.db"
    shutil.copy(sqlite_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="reports-browser",
                              cookie_secure=False))
    db = app.state.sessionmaker()
    lab = make_account(db, "lab@lab.cn")
    inst, _ = make_institution(db, lab, name="上海甲检测技术有限公司", serial=71,
                               scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    registry.add_signatory(db, lab.principal(db), inst, SignatoryIn(
        name="张工", authorised_from=date(2020, 1, 1)))
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(PDF)

    with live_server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        page = browser_sign_in(browser, url, "lab@lab.cn")

        def register(number: str) -> None:
            page.goto(f"{url}/reports/new")
            form = page.get_by_test_id("report-form")
            form.get_by_test_id("number").fill(number)
            form.get_by_test_id("product").fill("锂离子电池组")
            form.get_by_test_id("standards").fill("GB 31241-2022")
            form.get_by_test_id("pdf").set_input_files(str(pdf))
            form.get_by_test_id("register").click()
            expect(page.get_by_test_id("receipt")).to_contain_text(number)

        # A refusal sits beside its field, in Chinese, and what was typed stays.
        page.goto(f"{url}/reports/new")
        form = page.get_by_test_id("report-form")
        form.get_by_test_id("number").fill("B-2026-0001")
        form.get_by_test_id("product").fill("锂离子电池组")
        form.get_by_test_id("issued-on").evaluate("el => { el.removeAttribute('max'); "
                                                  "el.value = '2999-01-01'; }")
        form.get_by_test_id("register").click()
        expect(form.locator(".field-error")).to_contain_text("晚于今天")
        expect(form.get_by_test_id("product")).to_have_value("锂离子电池组")

        register("B-2026-0001")
        expect(page.locator(".flash")).to_contain_text("已登记到公开日志")
        expect(page.get_by_test_id("signed-receipt")).to_be_visible()
        page.get_by_test_id("verify-link").click()
        expect(page.get_by_test_id("verdict")).to_contain_text("已登记，有效")

        register("B-2026-0002")
        page.goto(f"{url}/reports/mine")
        row = page.locator('tr[data-number="B-2026-0001"]')
        row.get_by_test_id("amend").click()
        page.get_by_test_id("number").fill("B-2026-0001-A")
        page.get_by_test_id("reason").fill("更正型号")
        page.get_by_test_id("register").click()
        expect(page.locator(".flash")).to_contain_text("由 B-2026-0001-A 替代")

        page.goto(f"{url}/reports/mine")
        row = page.locator('tr[data-number="B-2026-0002"]')
        row.get_by_test_id("withdraw").click()
        row.get_by_test_id("withdraw-reason").fill("样品编号错误")
        row.get_by_test_id("confirm-withdraw").click()
        expect(page.locator(".flash")).to_contain_text("B-2026-0002 已撤回")
        expect(page.locator('tr[data-number="B-2026-0002"]')).to_contain_text("已撤回")

        page.goto(f"{url}/verify?number=B-2026-0001")
        expect(page.locator(".verdict-amended")).to_be_visible()
        expect(page.get_by_test_id("replacement")).to_contain_text("B-2026-0001-A")
        page.goto(f"{url}/verify?number=B-2026-0002")
        expect(page.locator(".verdict-withdrawn")).to_be_visible()

        # Every page of the flow fits a phone's width.
        receipt = page.locator('tr[data-number="B-2026-0001-A"] a').first
        page.goto(f"{url}/reports/mine")
        receipt_url = url + str(receipt.get_attribute("href"))
        page.set_viewport_size({"width": 390, "height": 844})
        for path in ("/reports/new", "/reports/mine", receipt_url[len(url):], "/",
                     f"/institutions/{inst}"):
            page.goto(url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width} px wide at 390 px"
        browser.close()
    db.close()
