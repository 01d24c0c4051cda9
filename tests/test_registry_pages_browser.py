"""The directory's search on a phone (390 px, Debian's Chromium): the filters fold away, so
the first result starts near the top and the page is no wider than the screen; on a wide
screen the filters show without a click."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import skip_or_fail
from helpers import live_server, make_account, make_institution
from test_browser import CHROMIUM, CHROMIUM_ARGS
from tichub.app import create_app
from tichub.core.config import Settings


@pytest.mark.browser
def test_search_results_start_near_the_top_on_a_phone(tmp_path: Path,
                                                      sqlite_template: Path) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "search.db"
    shutil.copy(sqlite_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="search-browser",
                              cookie_secure=False))
    db = app.state.sessionmaker()
    acc = make_account(db, "lab@lab.cn")
    make_institution(db, acc, name="上海甲检测技术有限公司", serial=81,
                     scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    db.close()

    with live_server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        phone = browser.new_page(viewport={"width": 390, "height": 844})
        phone.goto(f"{url}/institutions?q=电池")
        first = phone.locator(".result").first
        expect(first).to_contain_text("上海甲检测技术有限公司")
        expect(first.get_by_test_id("matched-lines").locator("mark")).to_have_text("电池")
        box = first.bounding_box()
        assert box is not None and box["y"] < 844, f"the first result starts at {box}"
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        standard = phone.locator("input[name=standard]")
        expect(standard).to_be_hidden()
        phone.get_by_test_id("filters-toggle").click()
        expect(standard).to_be_visible()

        wide = browser.new_page(viewport={"width": 1366, "height": 900})
        wide.goto(f"{url}/institutions?q=电池")
        expect(wide.locator("input[name=standard]")).to_be_visible()
        expect(wide.get_by_test_id("filters-toggle")).to_be_hidden()
        browser.close()
