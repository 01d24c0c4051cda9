"""The demo's bureaus and tiers (seed_bureaus, seed_complaints, seed_tiers on the small
demo), and the credit pages in Debian's Chromium: the dashboard's charts drawn, nothing wider
than a 390 px phone, the lab's tier with its history chart, in Chinese and English."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import skip_or_fail
from demo_site import PASSWORD, seeded, settings_for
from helpers import live_server
from test_browser import CHROMIUM, CHROMIUM_ARGS
from tichub.app import create_app
from tichub.demo.supervision_bureaus import seed_bureaus, seed_complaints, seed_tiers
from tichub.supervision.models import Complaint, CreditScore

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    db_file = seeded(tmp_path_factory.getbasetemp(), sqlite_template)
    copy = tmp_path_factory.mktemp("credit") / "credit.db"
    copy.write_bytes(db_file.read_bytes())
    app = create_app(settings_for(copy))
    with app.state.sessionmaker() as db:
        bureaus = seed_bureaus(db)
        assert set(bureaus) == {"", "pudong"}
        assert seed_bureaus(db) == bureaus  # twice is once
        # The demo seed ran them already: once more adds nothing.
        assert seed_complaints(db) == 0
        assert db.query(Complaint).count() >= 1
        assert seed_tiers(db) == 0
        stored = db.query(CreditScore).count()
        institutions = db.query(CreditScore.institution_id).distinct().count()
        assert stored == institutions * 7 > 0  # six months of history and today's
    if not CHROMIUM.exists():
        app.state.engine.dispose()
        skip_or_fail("browser", f"no Chromium at {CHROMIUM}")
    with live_server(app) as url:
        yield url
    app.state.engine.dispose()


def _page(pw: Any, url: str, user: str, locale: str, viewport: dict[str, int]) -> Any:
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                 args=CHROMIUM_ARGS)
    context = browser.new_context(viewport=viewport)
    context.add_cookies([{"name": "tichub_lang", "value": locale, "url": url}])
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=email]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{url}/")
    return browser, page


def _fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_dashboard_draws_its_charts_and_fits(site: str, locale: str,
                                                 viewport: dict[str, int]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser, page = _page(pw, site, "regulator@demo.tichub.cn", locale, viewport)
        page.goto(f"{site}/supervision/dashboard")
        page.wait_for_selector("[data-testid=district-chart] canvas")
        page.wait_for_selector("[data-testid=trend-chart] canvas")
        assert page.locator("[data-testid=districts] tbody tr").count() == 16
        assert _fits(page), "the dashboard is wider than the window"
        page.goto(f"{site}/supervision/complaints")
        assert _fits(page)
        browser.close()


def test_the_pudong_bureau_sees_pudong_and_the_lab_its_tier_with_history(site: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser, page = _page(pw, site, "pudong@demo.tichub.cn", "en", PHONE)
        page.goto(f"{site}/supervision/dashboard")
        assert page.locator("[data-testid=districts] tbody tr").count() == 1
        assert page.locator("[data-district=pudong]").count() == 1
        browser.close()
        browser, page = _page(pw, site, "lab@demo.tichub.cn", "zh", PHONE)
        page.goto(f"{site}/supervision/mine")
        page.wait_for_selector("[data-testid=tier-chart] canvas")
        assert page.locator("[data-testid=history] tbody tr").count() == 7
        assert page.locator("[data-testid=tier]").inner_text() in "ABCD"
        assert _fits(page), "the lab's tier page is wider than a phone"
        page.goto(f"{site}/supervision/credit/rules")
        assert _fits(page)
        browser.close()
