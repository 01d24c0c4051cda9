"""Approval in a real browser (Debian's Chromium, headless): a lab applies by commitment on
a phone, choosing the kind, stating its conditions and signing; a refusal shows beside the
form; the bureau records a failed on-site check on a desktop; every page fits 390 px in
Chinese and in English."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import skip_or_fail
from helpers import PASSWORD, live_server, make_account, make_institution
from test_browser import CHROMIUM, CHROMIUM_ARGS
from tichub.app import create_app
from tichub.core.config import Settings
from tichub.core.models import OrgKind, Role
from tichub.supervision.models import Bureau

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


def _page(browser: Any, url: str, email: str, viewport: dict[str, int],
          locale: str = "zh") -> Any:
    context = browser.new_context(viewport=viewport)
    context.add_cookies([{"name": "tichub_lang", "value": locale, "url": url}])
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{url}/")
    return page


def _fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.browser
def test_apply_sign_and_check_in_a_browser(tmp_path: Path, sqlite_template: Path) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "approval.db"
    shutil.copy(sqlite_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="approval-browser",
                              cookie_secure=False, log_integrate_every=0))
    db = app.state.sessionmaker()
    lab = make_account(db, "lab@lab.cn")
    make_institution(db, lab, name="上海甲检测技术有限公司（浦东张江高科技园区分部）", serial=71,
                     district="pudong")
    bureau = make_account(db, "pudong@reg.cn", kind=OrgKind.regulator, role=Role.editor)
    db.add(Bureau(org_id=bureau.org.id, district="pudong"))
    db.commit()
    db.close()

    with live_server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        p = _page(browser, url, "lab@lab.cn", PHONE)
        p.goto(f"{url}/supervision/mine/applications")
        p.get_by_test_id("new-application").click()
        expect(p.get_by_test_id("commitment-text")).to_contain_text("三个月内进行现场核查")
        assert _fits(p)
        p.get_by_test_id("site-address").fill("上海市浦东新区张江路 1 号")
        p.get_by_test_id("staff-count").fill("12")
        p.get_by_test_id("key-instruments").fill("耐压测试仪, GPT-9904, EQ-001")
        p.get_by_test_id("scope").fill("GB 4943.1-2022, 信息技术设备, 电气强度, 5.4.9\n"
                                       "not-a-standard, 信息技术设备, 接触电流")
        p.get_by_test_id("submit-application").click()
        # A bad scope line is refused beside the form, naming its row; nothing typed is lost.
        expect(p.locator(".form-errors")).to_contain_text("行 2")
        p.get_by_test_id("scope").fill("GB 4943.1-2022, 信息技术设备, 电气强度, 5.4.9")
        p.get_by_test_id("submit-application").click()
        expect(p.locator(".form-errors")).to_contain_text("勾选")  # not signed
        expect(p.get_by_test_id("staff-count")).to_have_value("12")
        p.get_by_test_id("sign").check()
        p.get_by_test_id("submit-application").click()
        expect(p.get_by_test_id("status")).to_contain_text("承诺取证")
        expect(p.locator("body")).to_contain_text("现场核查期限")
        assert _fits(p)
        detail = p.url
        p.goto(f"{url}/supervision/mine/applications")
        expect(p.get_by_test_id("application-row")).to_have_count(1)
        assert _fits(p)

        b = _page(browser, url, "pudong@reg.cn", DESKTOP)
        b.goto(f"{url}/supervision/applications")
        b.get_by_role("link", name="上海甲检测技术有限公司（浦东张江高科技园区分部）").click()
        form = b.get_by_test_id("check-form")
        form.locator("input[value=failed]").check()
        form.get_by_test_id("note").fill("关键设备不存在")
        form.get_by_test_id("record-check").click()
        expect(b.get_by_test_id("status")).to_contain_text("核查不通过")
        expect(b.get_by_test_id("barred-until")).to_be_visible()

        # Every approval page fits a phone, in both languages.
        for locale in ("zh", "en"):
            for who, paths in (("lab@lab.cn", ["/supervision/mine/applications",
                                               "/supervision/mine/applications/new",
                                               detail.replace(url, "")]),
                               ("pudong@reg.cn", ["/supervision/applications"])):
                page = _page(browser, url, who, PHONE, locale)
                for where in paths:
                    page.goto(url + where)
                    assert _fits(page), f"{where} ({locale}) is wider than a phone"
        browser.close()
