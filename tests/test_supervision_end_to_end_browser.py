"""Issue 15's whole path in a real browser (Debian's Chromium, headless), on one report: a
lab registers a report whose evidence names an instrument out of calibration; the rules raise
a signal at registration; the Pudong supervisor triages it and asks the lab to explain; the lab
sees the question and answers with a file; the supervisor confirms the signal and records a
sanction revoking the report as false; /verify then shows it revoked by the regulator, with
the decision number."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import skip_or_fail
from helpers import live_server
from server import report
from signals_world import Lab as EvidenceLab
from signals_world import instrument
from supervision_world import build
from test_browser import CHROMIUM, CHROMIUM_ARGS, browser_sign_in
from test_supervision_browser import SignalWorld, lab_answers, supervisor_asks, supervisor_confirms
from tichub.app import create_app
from tichub.core.config import Settings
from tichub.core.ids import today
from tichub.reports import service as reports
from tichub.reports.schemas import RecordIn
from tichub.supervision.models import Signal, SignalStatus

NUMBER = "R-2026-0042"
DECISION = "沪市监浦处〔2026〕99号"


@pytest.mark.browser
def test_signal_to_sanction_to_verify(tmp_path: Path, sqlite_template: Path) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "e2e.db"
    shutil.copy(sqlite_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="e2e-browser",
                              cookie_secure=False, log_integrate_every=0))
    db = app.state.sessionmaker()
    w = build(db, pudong_count=1)
    lab = w.lab
    # Calibrated for 2025 only; the report was tested on 3 January 2026.
    instrument(db, EvidenceLab(lab.account, lab.institution_id, lab.account.org.id), "EQ-007",
               calibrated=(date(2025, 1, 1), date(2025, 12, 31)))
    evidence = {"items": [{"parameter": "过充电保护", "standard": "GB 31241-2022",
                           "instrument": "EQ-007", "started_at": "2026-01-03T09:00:00+08:00",
                           "ended_at": "2026-01-03T11:00:00+08:00"}]}
    reports.register(db, lab.account.principal(db), app.state.log,
                     [RecordIn(**report(lab, NUMBER), evidence=evidence)])
    reports.integrate_all(db, app.state.log)
    raised = db.scalars(select(Signal)).all()
    assert [(s.code, s.number, s.source) for s in raised] == [
        ("INSTRUMENT_UNCALIBRATED", NUMBER, "registration")]
    world = SignalWorld(raised[0].id, NUMBER, lab.institution_id)

    with live_server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        supervisor = browser_sign_in(browser, url, "pd@samr.cn")
        supervisor_asks(supervisor, url, world, expect)
        lab_page = browser_sign_in(browser, url, "lab@example.com")
        lab_answers(lab_page, url, world, expect, tmp_path)
        supervisor_confirms(supervisor, url, world, expect)

        supervisor.goto(f"{url}/supervision/sanctions/new?institution={lab.institution_id}")
        form = supervisor.get_by_test_id("sanction-form")
        form.get_by_test_id("kind").select_option("warning")
        form.get_by_test_id("decision-no").fill(DECISION)
        form.get_by_test_id("decided-on").fill(today().isoformat())
        form.get_by_test_id("reason").fill("使用未经校准的仪器出具报告，报告不实")
        form.get_by_test_id("false-numbers").fill(NUMBER)
        form.get_by_test_id("record-sanction").click()
        expect(supervisor.locator(".flash")).to_contain_text(DECISION)

        anyone = browser.new_context().new_page()
        anyone.goto(f"{url}/verify?number={NUMBER}")
        expect(anyone.get_by_test_id("revoked-by-regulator")).to_have_text("已被市场监管部门撤销")
        expect(anyone.get_by_test_id("decision")).to_contain_text(DECISION)
        # The lab sees its own signal confirmed, with its answer kept.
        lab_page.goto(f"{url}/supervision/mine/signals/{world.signal_id}")
        expect(lab_page.get_by_test_id("my-answer")).to_contain_text("证书见附件")
        browser.close()
    db.expire_all()
    signal = db.get(Signal, world.signal_id)
    assert signal is not None and signal.status is SignalStatus.confirmed
    db.close()
    app.state.engine.dispose()
