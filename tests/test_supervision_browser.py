"""Issue 15 end to end in a real browser (Debian's Chromium, headless): a district
supervisor triages a signal and asks the lab to explain; the lab sees it and answers with a
file; the supervisor reads the answer and confirms the signal.

The steps are functions the inspections part (the sanction and /verify's "revoked by the
regulator") adds to at merge: ``seed_signal_world``, ``supervisor_asks``, ``lab_answers``,
``supervisor_confirms``."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conftest import skip_or_fail
from helpers import live_server, make_account
from signals_world import bj, instrument, item, make_lab, record, run
from test_browser import CHROMIUM, CHROMIUM_ARGS, browser_sign_in
from tichub.app import create_app
from tichub.core.config import Settings
from tichub.core.models import OrgKind
from tichub.supervision.models import Bureau, Signal, SignalStatus

SUPERVISOR = "pudong@samr.gov.cn"
LAB = "lab@pudong-lab.cn"


@dataclass
class SignalWorld:
    signal_id: str
    number: str
    institution_id: str


def seed_signal_world(db: Session) -> SignalWorld:
    """A Pudong lab whose report was tested with an instrument out of calibration, the
    signal the batch run raised about it, and the Pudong bureau."""
    lab = make_lab(db, LAB, "pudong")
    ins = instrument(db, lab, "EQ-007", calibrated=(date(2025, 1, 1), date(2025, 12, 31)))
    record(db, lab, "PD-2026-0042", items=[item(ins, bj(date(2026, 6, 9)))])
    run(db)
    bureau = make_account(db, SUPERVISOR, kind=OrgKind.regulator)
    db.add(Bureau(org_id=bureau.org.id, district="pudong"))
    db.commit()
    s = db.scalars(select(Signal)).one()
    return SignalWorld(s.id, "PD-2026-0042", lab.institution_id)


def supervisor_asks(page: Any, url: str, world: SignalWorld, expect: Any) -> None:
    page.goto(f"{url}/supervision/signals?status=open")
    page.get_by_test_id("signal-link").first.click()
    expect(page.get_by_test_id("explanation")).to_contain_text("EQ-007")
    expect(page.get_by_test_id("basis")).to_contain_text("第十三条")
    expect(page.get_by_test_id("evidence")).to_contain_text("检测项目")
    form = page.get_by_test_id("decision-form")
    form.locator("select[name=status]").select_option("under_review")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("signal-status")).to_contain_text("核查中")
    ask = page.get_by_test_id("ask-form")
    ask.locator("textarea[name=question]").fill("请提供 EQ-007 在 2026-06-09 有效的校准证书。")
    ask.locator("button[type=submit]").click()
    expect(page.locator(".flash, [role=status]").first).to_contain_text("说明")


def lab_answers(page: Any, url: str, world: SignalWorld, expect: Any, tmp: Path) -> None:
    page.goto(f"{url}/supervision/mine/signals")
    page.get_by_test_id("my-signal-link").first.click()
    expect(page.get_by_test_id("question")).to_contain_text("校准证书")
    proof = tmp / "calibration.pdf"
    proof.write_bytes(b"%PDF-1.4 calibration certificate")
    form = page.get_by_test_id("answer-form")
    form.locator("textarea[name=answer]").fill("校准已于 6 月 1 日完成，证书见附件。")
    form.locator("input[name=files]").set_input_files(str(proof))
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("my-answer")).to_contain_text("证书见附件")


def supervisor_confirms(page: Any, url: str, world: SignalWorld, expect: Any) -> None:
    page.goto(f"{url}/supervision/signals/{world.signal_id}")
    expect(page.get_by_test_id("answer-text")).to_contain_text("证书见附件")
    expect(page.get_by_test_id("answer-file")).to_contain_text("calibration.pdf")
    form = page.get_by_test_id("decision-form")
    form.locator("select[name=status]").select_option("confirmed")
    form.locator("textarea[name=reason]").fill("证书日期晚于检测日期，确认。")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("reason")).to_contain_text("确认")


@pytest.mark.browser
def test_triage_ask_answer_confirm(tmp_path: Path, sqlite_template: Path) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "supervision.db"
    shutil.copy(sqlite_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="sup-browser",
                              cookie_secure=False, log_integrate_every=0))
    db = app.state.sessionmaker()
    world = seed_signal_world(db)
    with live_server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        supervisor = browser_sign_in(browser, url, SUPERVISOR)
        supervisor_asks(supervisor, url, world, expect)
        lab = browser_sign_in(browser, url, LAB)
        lab_answers(lab, url, world, expect, tmp_path)
        supervisor_confirms(supervisor, url, world, expect)
        # At 390 px the list still fits: no horizontal scroll of the page.
        lab.set_viewport_size({"width": 390, "height": 800})
        lab.goto(f"{url}/supervision/mine/signals")
        assert lab.evaluate("document.documentElement.scrollWidth") <= 390
        supervisor.set_viewport_size({"width": 390, "height": 800})
        supervisor.goto(f"{url}/supervision/signals")
        assert supervisor.evaluate("document.documentElement.scrollWidth") <= 390
        browser.close()
    db.expire_all()
    s = db.get(Signal, world.signal_id)
    assert s is not None and s.status is SignalStatus.confirmed and s.answer_files
    db.close()
    app.state.engine.dispose()
