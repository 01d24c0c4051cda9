"""The carbon pages at a phone's width (390 px), in both languages: the certified study of
the demo's motor (notices, label, charts) and the CBAM installation's results and form do
not scroll sideways, and nothing overflows its box."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import skip_or_fail
from helpers import PASSWORD, credit_code, live_server, make_account
from test_browser import CHROMIUM, CHROMIUM_ARGS
from tichub.app import create_app
from tichub.carbon import cbam_service
from tichub.carbon import certification_service as certification
from tichub.carbon import service as carbon
from tichub.carbon.cbam_schemas import InstallationIn
from tichub.carbon.schemas import CHECKS, CheckIn, ChecklistIn, ComputeIn, DecisionIn, ModelIn
from tichub.core.config import Settings
from tichub.core.ids import utcnow
from tichub.core.models import OrgKind
from tichub.demo import carbon as demo
from tichub.registry import service as registry
from tichub.registry.models import InstitutionKind
from tichub.registry.schemas import InstitutionIn

STARTER = Path(__file__).parents[1] / "src" / "tichub" / "carbon" / "data" / "factors.csv"
WIDTH = 390

# Elements wider than their box, and the page's own width.
OVERFLOW = """() => {
  const wide = [...document.querySelectorAll('[data-testid=notices], [data-testid=notice],'
      + ' [data-testid=label], .carbon-label, .alert, .card, .chart')]
    .filter(el => el.scrollWidth > el.clientWidth + 1
                  || el.getBoundingClientRect().right > window.innerWidth + 1)
    .map(el => el.className || el.tagName);
  // For the failure's message: the outermost elements reaching past the viewport.
  // (Inside a box that scrolls on its own, as wide tables do, does not count.)
  const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true; }
    return false; };
  const beyond = [...document.body.querySelectorAll('*')]
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && !scrolls(el))
    .slice(0, 6).map(el => el.tagName + '.' + el.className);
  return {page: document.documentElement.scrollWidth, wide: wide, beyond: beyond};
}"""


def _world(app: Any) -> dict[str, str]:
    """The demo's certified motor (on AR6, with factors stated on AR5) and its plate line."""
    db = app.state.sessionmaker()
    operator = make_account(db, "ops@platform.cn", kind=OrgKind.operator)
    carbon.import_factors(db, operator.principal(db), "factors.csv", STARTER.read_bytes(), None)
    firm = make_account(db, "maker@motors.cn", kind=OrgKind.enterprise)
    cb = make_account(db, "auditor@greencert.cn", kind=OrgKind.certification_body)
    inst = registry.create_institution(db, cb.principal(db), cb.org.id, InstitutionIn(
        name_zh="绿色认证有限公司", credit_code=credit_code(7401), district="xuhui",
        kind=InstitutionKind.certification_body))
    db.commit()
    me, org = firm.principal(db), firm.org.id
    carbon.save_factors(db, me, [(None, f) for f in demo.COMPANY_FACTORS], org)
    stator = carbon.create_model(db, me, ModelIn.model_validate(demo._stator(org)))
    motor = carbon.create_model(db, me, ModelIn.model_validate(demo._motor(org, stator.id)))
    study = carbon.compute_study(db, me, motor.id, ComputeIn(title="YE3-132M-4 电动机碳足迹",
                                                              iterations=200, seed=7))
    certification.submit(db, me, study.id, inst.id)
    reviewer = cb.principal(db)
    certification.save_checklist(db, reviewer, study.id, ChecklistIn(items={
        c: CheckIn(verdict="conforms", note="已核查") for c in CHECKS}))
    today = utcnow().date()
    certification.decide(db, reviewer, app.state.log, study.id, DecisionIn(
        decision="certify", valid_from=today, valid_until=today + timedelta(days=365)))
    line = cbam_service.create_installation(db, me, InstallationIn.model_validate(
        demo.cbam_installation(org, today.year - 1)))
    ids = {"study": study.id, "installation": line.id}
    db.close()
    return ids


@pytest.mark.browser
def test_carbon_pages_fit_a_phone(tmp_path: Path, sqlite_template: Path) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "carbon.db"
    shutil.copy(sqlite_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="carbon-mobile",
                              cookie_secure=False))
    ids = _world(app)
    pages = {"study": f"/carbon/studies/{ids['study']}",
             "cbam": f"/carbon/cbam/installations/{ids['installation']}",
             "cbam-form": f"/carbon/cbam/installations/{ids['installation']}/edit",
             "carbon": "/carbon", "cbam-home": "/carbon/cbam"}
    with live_server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": WIDTH, "height": 844}).new_page()
        page.goto(f"{url}/login")
        page.fill("input[name=email]", "maker@motors.cn")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(lambda u: "/login" not in u)
        for lang in ("zh", "en"):
            for name, where in pages.items():
                page.goto(f"{url}{where}?lang={lang}")
                page.wait_for_load_state("networkidle")
                found = page.evaluate(OVERFLOW)
                assert found["page"] <= WIDTH, (name, lang, found)
                assert found["wide"] == [], (name, lang, found)
                assert found["beyond"] == [], (name, lang, found)
        # The certified study's notices read as information on what was reviewed, once,
        # naming the factors by their names.
        page.goto(f"{url}{pages['study']}?lang=zh")
        notices = page.get_by_test_id("notices")
        expect(notices).to_have_class("carbon-notices alert alert-info")
        expect(page.get_by_test_id("notice")).to_have_count(1)
        expect(notices).to_contain_text("热轧钢板（CBAM 默认值替代）")
        expect(notices).not_to_contain_text("demo.steel")
        # Charts are drawn to the phone's width, and the Sankey names factors by name.
        box = page.get_by_test_id("sankey").bounding_box()
        assert box is not None and box["width"] <= WIDTH
        expect(page.get_by_test_id("sankey").locator("canvas")).to_have_count(1)
        browser.close()
