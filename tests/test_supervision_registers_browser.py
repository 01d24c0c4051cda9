"""The registers in a real browser (Debian's Chromium, headless) on a 390 px phone: a lab
adds an instrument, records a calibration and an outage, a faulty form shows its error
beside the field, and a person joins the staff register; nothing overflows the screen."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from conftest import skip_or_fail
from helpers import PASSWORD, live_server, make_account, make_institution
from test_browser import CHROMIUM, CHROMIUM_ARGS
from tichub.app import create_app
from tichub.core.config import Settings

PHONE = {"width": 390, "height": 844}


def _fits(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["zh", "en"])
def test_a_lab_keeps_its_registers_on_a_phone(tmp_path: Path, sqlite_template: Path,
                                              locale: str) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "registers.db"
    shutil.copy(sqlite_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="registers",
                              cookie_secure=False, log_integrate_every=0))
    db = app.state.sessionmaker()
    lab = make_account(db, "lab@lab.cn")
    make_institution(db, lab, name="上海甲检测技术有限公司", serial=61)
    db.close()
    today = date.today()

    with live_server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE)
        context.add_cookies([{"name": "tichub_lang", "value": locale, "url": url}])
        page = context.new_page()
        page.goto(f"{url}/login")
        page.fill("input[name=email]", "lab@lab.cn")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(f"{url}/")

        page.goto(f"{url}/registers/equipment")
        form = page.get_by_test_id("add-equipment")
        form.locator("input[name=asset_no]").fill("EQ-001")
        form.locator("input[name=name]").fill("电感耦合等离子体质谱仪")
        form.locator("input[name=kind]").fill("ICP-MS")
        form.locator("input[name=tests_per_day]").fill("40")
        form.locator("button[type=submit]").click()
        expect(page.locator(".flash")).to_contain_text("EQ-001")
        assert _fits(page)

        event = page.get_by_test_id("add-event")
        event.locator("input[name=valid_from]").fill(str(today - timedelta(days=300)))
        event.locator("button[type=submit]").click()  # no end date: refused beside it
        expect(event.locator(".field-error, .form-errors").first).to_be_visible()
        event.locator("input[name=valid_until]").fill(str(today + timedelta(days=10)))
        event.locator("button[type=submit]").click()
        expect(page.get_by_test_id("usable")).to_contain_text("是" if locale == "zh" else "yes")
        event = page.get_by_test_id("add-event")
        event.locator("select[name=kind]").select_option("out_of_service")
        event.locator("input[name=valid_from]").fill(str(today))
        event.locator("button[type=submit]").click()
        expect(page.get_by_test_id("end-outage")).to_be_visible()
        expect(page.get_by_test_id("usable")).to_contain_text("否" if locale == "zh" else "no")
        assert _fits(page)

        page.goto(f"{url}/registers/equipment")
        expect(page.get_by_test_id("due-soon")).to_be_visible()
        assert _fits(page)

        page.goto(f"{url}/registers/staff")
        staff = page.get_by_test_id("add-staff")
        staff.locator("input[name=staff_no]").fill("ST-001")
        staff.locator("input[name=name]").fill("张明")
        staff.locator("input[name=roles][value=signatory]").check()
        staff.locator("input[name=employed_from]").fill("2020-01-01")
        staff.locator("button[type=submit]").click()
        expect(page.get_by_test_id("staff-ST-001")).to_contain_text("张明")
        assert _fits(page)
        page.goto(f"{url}/standards/editions")
        expect(page.get_by_test_id("edition-GB 4943.1-2022")).to_be_visible()
        assert _fits(page)
        browser.close()
    app.state.engine.dispose()
