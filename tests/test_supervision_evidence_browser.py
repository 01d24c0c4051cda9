"""A report's evidence in a real browser (Debian's Chromium, headless): the lab imports a
workbook on /reports/new (a bad row is shown with its sheet and row, then the good file
registers), sees the evidence on its record page; the district's supervisor sees it on
/supervision/records/{id}; both pages fit a phone (390 px) and a desktop (1366 px)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import skip_or_fail
from helpers import live_server, make_account, make_institution
from test_browser import CHROMIUM, CHROMIUM_ARGS, browser_sign_in
from test_supervision_evidence_import import RESULTS, _sheets, _workbook
from tichub.app import create_app
from tichub.core.config import Settings
from tichub.core.models import OrgKind, Role
from tichub.reports.models import ReportRecord
from tichub.supervision.models import Bureau

# The page's own width, and what reaches past the viewport outside a box that scrolls.
OVERFLOW = """() => {
  const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true; }
    return false; };
  const beyond = [...document.body.querySelectorAll('*')]
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && !scrolls(el))
    .slice(0, 6).map(el => el.tagName + '.' + el.className);
  return {page: document.documentElement.scrollWidth, beyond: beyond};
}"""


@pytest.mark.browser
def test_import_and_read_evidence_on_phone_and_desktop(tmp_path: Path,
                                                       sqlite_template: Path) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "evidence.db"
    shutil.copy(sqlite_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="evidence-browser",
                              cookie_secure=False, log_integrate_every=0))
    db = app.state.sessionmaker()
    lab = make_account(db, "lab@lab.cn")
    make_institution(db, lab, name="上海甲检测技术有限公司", serial=71, district="pudong",
                     scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    bureau = make_account(db, "pudong@samr.cn", kind=OrgKind.regulator, role=Role.viewer)
    db.add(Bureau(org_id=bureau.org.id, district="pudong"))
    db.commit()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_workbook(_sheets(results=[RESULTS, ["R-1", "开路电压", "3.850", "V"],
                                               ["R-2", "内阻", "n/a", ""]])))
    good = tmp_path / "good.xlsx"
    good.write_bytes(_workbook(_sheets()))

    with live_server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        page = browser_sign_in(browser, url, "lab@lab.cn")
        page.goto(f"{url}/reports/new")
        form = page.get_by_test_id("evidence-import-form")
        form.locator("input[name=file]").set_input_files(str(bad))
        form.get_by_test_id("evidence-import-submit").click()
        # Refused whole, naming the sheet, the column and the row.
        expect(form.locator(".form-errors")).to_contain_text("工作表 results，列 value")
        expect(form.locator(".form-errors")).to_contain_text(" 3 · ")
        assert db.scalar(select(ReportRecord.id)) is None
        form.locator("input[name=file]").set_input_files(str(good))
        form.get_by_test_id("evidence-import-submit").click()
        page.wait_for_url(f"{url}/reports/mine")
        expect(page.locator("body")).to_contain_text("已登记 2 份报告及其证据")
        db.expire_all()
        record_id = db.scalar(select(ReportRecord.id).where(ReportRecord.number == "R-2"))

        supervisor = browser_sign_in(browser, url, "pudong@samr.cn")
        for width in (390, 1366):
            for p, where in ((page, f"/reports/records/{record_id}"),
                             (supervisor, f"/supervision/records/{record_id}")):
                p.set_viewport_size({"width": width, "height": 844})
                p.goto(url + where)
                section = p.get_by_test_id("evidence")
                expect(section).to_contain_text("0.0250")
                expect(section).to_contain_text("EQ-002")
                expect(p.get_by_test_id("commitment-check")).to_have_class(
                    re.compile("alert-ok"))
                fit = p.evaluate(OVERFLOW)
                assert fit["page"] <= width and not fit["beyond"], (where, width, fit)
        browser.close()
