"""The Content-Security-Policy fits our pages, in a real browser (Debian's Chromium,
headless): the main pages of every domain, on the demo data, report no violation, their
charts still draw (hovered, so tooltips render too), htmx still swaps, and Swagger UI still
starts at /api/docs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import skip_or_fail
from helpers import live_server, sign_in
from test_browser import CHROMIUM, CHROMIUM_ARGS
from test_cbam_pages import cement_form
from tichub.app import create_app
from tichub.core.config import Settings
from tichub.core.models import Membership, User
from tichub.demo.seed import DEMO_PASSWORD

# Reported in the page to a function the test exposes, so no report is lost when the
# page navigates; Playwright injects this outside the page's policy.
LISTEN = """document.addEventListener("securitypolicyviolation", function (e) {
  window.reportCsp(e.violatedDirective + " " + (e.blockedURI || "inline") + " at " +
                   e.sourceFile + ":" + e.lineNumber);
});"""


def _seeded_app(tmp_path: Path, sqlite_template: Path) -> tuple[Any, dict[str, str]]:
    from tichub.carbon.models import Study
    from tichub.demo import seed as demo
    from tichub.demo.carbon import seed_carbon
    from tichub.demo.market import seed_market
    from tichub.demo.pt import seed_pt
    from tichub.demo.reports import seed_reports
    from tichub.market.models import Programme
    from tichub.reports.service import Log

    path = tmp_path / "csp.db"
    shutil.copy(sqlite_template, path)
    settings = Settings(database_url=f"sqlite:///{path}", secret_key="csp-browser",
                        cookie_secure=False, log_integrate_every=0)
    app = create_app(settings)
    log = Log.from_settings(settings)
    with app.state.sessionmaker() as db:
        demo.seed(db, scale=0.05, seed=2027)
        seed_pt(db, log, seed=2027)
        seed_market(db)
        seed_carbon(db, log)
        seed_reports(db, log, seed=2027)
        ids = {"study": db.scalars(select(Study.id)).first() or "",
               "programme": db.scalars(select(Programme.id)).first() or ""}
        company = db.scalar(select(Membership.org_id).join(User).where(
            User.email == "company@demo.tichub.cn"))
    # A CBAM installation, through its form as the demo company.
    with TestClient(app) as client:
        csrf = sign_in(client, "company@demo.tichub.cn", DEMO_PASSWORD)
        r = client.post("/carbon/cbam/installations", follow_redirects=False,
                        data={"csrf_token": csrf, **cement_form(str(company))})
        assert r.status_code == 303, r.text
        ids["cbam"] = r.headers["location"]
    return app, ids


@pytest.mark.browser
def test_the_pages_run_under_the_content_security_policy(tmp_path: Path,
                                                         sqlite_template: Path) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    app, ids = _seeded_app(tmp_path, sqlite_template)
    violations: list[str] = []
    errors: list[str] = []
    with live_server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)

        def new_page(email: str | None = None) -> Any:
            page = browser.new_context().new_page()
            page.expose_function("reportCsp", lambda text: violations.append(text))
            page.add_init_script(LISTEN)
            page.on("console", lambda m: m.type == "error" and "Content Security Policy"
                    in m.text and violations.append(m.text))
            page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
            if email:
                page.goto(f"{url}/login")
                page.fill("input[name=email]", email)
                page.fill("input[name=password]", DEMO_PASSWORD)
                page.click("form.stack button[type=submit]")
                expect(page.locator("header .user form[action='/logout']")).to_have_count(1)
            return page

        def visit(page: Any, path: str, charts: int = 0) -> None:
            response = page.goto(f"{url}{path}")
            assert response.status == 200, path
            assert "script-src 'self'" in response.headers["content-security-policy"], path
            page.wait_for_load_state("load")
            drawn = page.locator("[data-chart] canvas")
            declared = page.locator("[data-chart]").count()
            assert declared >= charts, path
            if declared:
                expect(drawn).to_have_count(declared, timeout=10_000)  # every one drawn
                for i in range(declared):  # a tooltip on each
                    box = drawn.nth(i).bounding_box()
                    assert box and box["width"] > 50 and box["height"] > 50, path
                    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                    page.mouse.move(box["x"] + box["width"] / 3, box["y"] + box["height"] / 2)
                page.wait_for_timeout(300)

        anon = new_page()
        visit(anon, "/")
        visit(anon, "/institutions?q=", charts=1)
        # htmx swaps the results in, and the chart is drawn again.
        district = anon.locator("#search-form input[name=district]").first
        district.check()
        anon.wait_for_url("**district=*")
        district.uncheck()
        anon.wait_for_url(lambda u: "district=" not in u)
        expect(anon.locator("#district-chart canvas")).to_have_count(1)
        visit(anon, "/login")
        visit(anon, "/verify")
        anon.fill("input[name=number]", "NO-SUCH-NUMBER")
        anon.press("input[name=number]", "Enter")
        expect(anon.locator("#verify-result")).to_contain_text("NO-SUCH-NUMBER")
        # An empty "PDF" is a 422 that htmx swaps in (data-swap-statuses, app.js).
        anon.set_input_files("input[name=pdf]", files=[
            {"name": "empty.pdf", "mimeType": "application/pdf", "buffer": b""}])
        expect(anon.locator("#verify-result .alert-error")).to_be_visible()
        visit(anon, "/market")
        visit(anon, "/pt")
        visit(anon, "/carbon")
        visit(anon, "/api/docs")
        expect(anon.locator(".swagger-ui .info .title")).to_contain_text("TICHub API",
                                                                          timeout=15_000)
        expect(anon.locator(".swagger-ui .opblock").first).to_be_visible()

        operator = new_page("operator@demo.tichub.cn")
        if ids["study"]:
            visit(operator, f"/carbon/studies/{ids['study']}", charts=2)
        if ids["programme"]:
            visit(operator, f"/market/programmes/{ids['programme']}", charts=1)
        visit(operator, "/carbon/reviews")
        visit(operator, "/carbon/cbam/new")

        company = new_page("company@demo.tichub.cn")
        visit(company, ids["cbam"], charts=1)
        # The year <select> submits its form on change (data-autosubmit, app.js).
        with company.expect_navigation():
            company.select_option("select[name=year]", index=1)
        assert "year=" in company.url
        expect(company.locator("[data-chart] canvas")).to_have_count(1)

        lab = new_page("lab@demo.tichub.cn")
        visit(lab, "/pt/history", charts=1)
        browser.close()
    assert violations == [], violations
    assert errors == [], errors
