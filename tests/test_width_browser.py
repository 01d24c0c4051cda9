"""Every page the demo's users reach fits a 390 px phone, in Chinese and in English (in
Debian's Chromium, headless); at 1366 px the signed-in header is one line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import skip_or_fail
from demo_site import KNOWN_FORMS, PASSWORD, USERS, Crawl, crawl, seeded, settings_for
from helpers import csrf_from, live_server
from test_browser import CHROMIUM, CHROMIUM_ARGS
from tichub.app import create_app

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory,
         sqlite_template: Path) -> Iterator[tuple[str, Crawl]]:
    if not CHROMIUM.exists():
        skip_or_fail("browser", f"no Chromium at {CHROMIUM}")
    db = seeded(tmp_path_factory.getbasetemp(), sqlite_template)
    copy = tmp_path_factory.mktemp("width") / "width.db"
    copy.write_bytes(db.read_bytes())
    app = create_app(settings_for(copy))
    pages = Crawl()
    with live_server(app) as url:
        for user in USERS:
            with httpx.Client(base_url=url) as client:
                if user:
                    login = client.get("/login")
                    client.post("/login", data={"email": user, "password": PASSWORD,
                                                "csrf_token": csrf_from(login.text)})

                def get(path: str, client: httpx.Client = client) -> tuple[int, str, str]:
                    r = client.get(path)
                    return r.status_code, r.headers.get("content-type", ""), r.text

                crawl(app, get, user, pages, extra=KNOWN_FORMS)
        yield url, pages
    app.state.engine.dispose()


def _browser(pw: Any) -> Any:
    return pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def _signed_in(browser: Any, url: str, user: str | None, locale: str,
               viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport)
    context.add_cookies([{"name": "tichub_lang", "value": locale, "url": url}])
    page = context.new_page()
    if user:
        page.goto(f"{url}/login")
        page.fill("input[name=email]", user)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{url}/")
    return context, page


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_no_page_is_wider_than_a_phone(site, locale: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    url, pages = site
    too_wide: list[str] = []
    with sync_playwright() as pw:
        browser = _browser(pw)
        for user in USERS:
            mine = [p for p in pages.pages if p.user == user]
            if not mine:
                continue
            context, page = _signed_in(browser, url, user, locale, PHONE)
            for visit in mine:
                page.goto(url + visit.url, wait_until="load")
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > PHONE["width"]:
                    culprit = page.evaluate(_WIDEST)
                    too_wide.append(f"{visit.url} ({user}): {width} px; widest: {culprit}")
            context.close()
        browser.close()
    assert len(pages.pages) >= 25
    assert not too_wide, f"{len(too_wide)} pages wider than 390 px in {locale}:\n" \
        + "\n".join(too_wide)


# The element reaching furthest right, to say what to fix.
_WIDEST = """() => {
  let best = null, right = 0;
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > right + 0.5 && el.children.length === 0) { right = r.right; best = el; }
  }
  if (!best) return '';
  const cls = best.className && best.className.baseVal === undefined ? '.' +
    String(best.className).trim().split(/\\s+/).join('.') : '';
  return best.tagName.toLowerCase() + cls + ' → ' + Math.round(right) + ' px';
}"""


def test_the_signed_in_header_is_one_line_on_a_desktop_and_folds_on_a_phone(site) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    url, _ = site
    with sync_playwright() as pw:
        browser = _browser(pw)
        for locale in ("zh", "en"):
            context, page = _signed_in(browser, url, "lab@demo.tichub.cn", locale, DESKTOP)
            page.goto(f"{url}/market")
            links = page.locator("header nav a")
            tops = {round(box["y"]) for box in (links.nth(i).bounding_box()
                                                for i in range(links.count())) if box}
            assert len(tops) == 1, f"the nav wraps in {locale}: rows at {sorted(tops)}"
            height = page.evaluate("document.querySelector('header').offsetHeight")
            assert height <= 64, f"header {height} px high at 1366 px in {locale}"
            context.close()

            context, page = _signed_in(browser, url, "lab@demo.tichub.cn", locale, PHONE)
            page.goto(f"{url}/market")
            height = page.evaluate("document.querySelector('header').offsetHeight")
            assert height <= 60, f"header {height} px high at 390 px in {locale}"
            nav = page.locator("header nav")
            expect(nav).to_be_hidden()
            page.click("[data-nav-toggle]")
            expect(nav).to_be_visible()
            expect(page.locator("[data-nav-toggle]")).to_have_attribute("aria-expanded", "true")
            page.locator("header nav a[href='/pt']").click()
            page.wait_for_url(f"{url}/pt")
            context.close()
        browser.close()
