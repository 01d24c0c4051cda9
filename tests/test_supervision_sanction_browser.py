"""In a real browser (Debian's Chromium, headless): a district supervisor records a sanction
revoking the lab's CMA qualification and a report found false; the sanction's page shows the
decision, /verify shows the report revoked by the regulator with the decision number, and the
disclosure page reads on a phone."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from conftest import skip_or_fail
from helpers import live_server
from server import report
from supervision_world import build
from test_browser import CHROMIUM, CHROMIUM_ARGS, browser_sign_in
from tichub.app import create_app
from tichub.core.config import Settings
from tichub.registry import service as registry
from tichub.registry.models import QualificationKind
from tichub.registry.schemas import QualificationIn
from tichub.reports import service as reports
from tichub.reports.schemas import RecordIn


@pytest.mark.browser
def test_a_supervisor_revokes_a_false_report_and_verify_shows_it(tmp_path: Path,
                                                                 sqlite_template: Path) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "sanction.db"
    shutil.copy(sqlite_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="sanction-browser",
                              cookie_secure=False, log_integrate_every=0))
    db = app.state.sessionmaker()
    w = build(db, pudong_count=1)
    registry.add_qualification(db, w.lab.account.principal(db), w.lab.institution_id,
                               QualificationIn(kind=QualificationKind.cma, number="CMA 310777",
                                               valid_until=date(2030, 1, 1)))
    reports.register(db, w.lab.account.principal(db), app.state.log,
                     [RecordIn(**report(w.lab, "R-2026-0900"))])
    reports.integrate_all(db, app.state.log)
    decision = "沪市监浦处〔2026〕88号"

    with live_server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        s = browser_sign_in(browser, url, "pd@samr.cn")
        s.goto(f"{url}/supervision/sanctions/new?institution={w.lab.institution_id}")
        expect(s.get_by_test_id("thresholds")).to_be_visible()
        form = s.get_by_test_id("sanction-form")
        form.get_by_test_id("kind").select_option("revocation")
        form.get_by_test_id("decision-no").fill(decision)
        form.get_by_test_id("decided-on").fill(date.today().isoformat())
        form.get_by_test_id("reason").fill("未实施检测即出具报告")
        # A number the lab never issued: refused, shown beside the field, nothing recorded.
        form.get_by_test_id("false-numbers").fill("R-2026-0900\nR-NONE")
        form.get_by_test_id("record-sanction").click()
        expect(form.locator(".form-errors")).to_contain_text("R-NONE")
        form.get_by_test_id("false-numbers").fill("R-2026-0900")
        form.get_by_test_id("record-sanction").click()
        expect(s.get_by_test_id("decision-no")).to_have_text(decision)
        expect(s.locator(".flash")).to_contain_text(decision)
        expect(s.get_by_test_id("false-numbers")).to_contain_text("R-2026-0900")

        # Anyone: /verify says the regulator revoked it, with the decision number.
        v = browser.new_context().new_page()
        v.goto(f"{url}/verify?number=R-2026-0900")
        expect(v.get_by_test_id("revoked-by-regulator")).to_have_text("已被市场监管部门撤销")
        expect(v.get_by_test_id("verdict")).to_contain_text(decision)
        expect(v.get_by_test_id("decision")).to_contain_text(decision)
        v.goto(f"{url}/verify?number=R-2026-0900&lang=en")
        expect(v.get_by_test_id("revoked-by-regulator")).to_have_text(
            "Revoked by the market regulator")
        # The directory shows the qualification withdrawn.
        v.goto(f"{url}/institutions/{w.lab.institution_id}?lang=zh")
        expect(v.locator("table.data").first).to_contain_text("CMA 310777")

        # The disclosure page on a phone: the sanction listed, nothing wider than the screen.
        phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        phone.goto(f"{url}/supervision")
        expect(phone.get_by_test_id("sanctions")).to_contain_text(decision)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        browser.close()
    db.close()
    app.state.engine.dispose()
