"""The issue's whole story in a real browser (Debian's Chromium, headless): a manufacturer
models a motor, computes its footprint with contributions and uncertainty, has it
certified by a certification body, shares it, and its customer's system pulls it over the
PACT API with client credentials."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from conftest import skip_or_fail
from helpers import credit_code, live_server, make_account
from test_browser import CHROMIUM, CHROMIUM_ARGS, browser_sign_in
from tichub.app import create_app
from tichub.carbon import service as carbon
from tichub.core.config import Settings
from tichub.core.models import OrgKind
from tichub.registry import service as registry
from tichub.registry.models import InstitutionKind
from tichub.registry.schemas import InstitutionIn

STARTER = Path(__file__).parents[1] / "src" / "tichub" / "carbon" / "data" / "factors.csv"


@pytest.mark.browser
def test_motor_modelled_certified_and_pulled_over_pact(tmp_path: Path,
                                                       sqlite_template: Path) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "carbon.db"
    shutil.copy(sqlite_template, path)
    # Served over plain HTTP as if behind a TLS proxy on this machine (PACT is HTTPS only).
    app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="carbon-browser",
                              cookie_secure=False, trusted_proxies=["127.0.0.1"]))
    db = app.state.sessionmaker()
    operator = make_account(db, "ops@platform.cn", kind=OrgKind.operator)
    carbon.import_factors(db, operator.principal(db), "factors.csv", STARTER.read_bytes(), None)
    make_account(db, "maker@motors.cn", kind=OrgKind.enterprise)
    cb = make_account(db, "auditor@greencert.cn", kind=OrgKind.certification_body)
    registry.create_institution(db, cb.principal(db), cb.org.id, InstitutionIn(
        name_zh="绿色认证有限公司", credit_code=credit_code(7301), district="xuhui",
        kind=InstitutionKind.certification_body))
    db.close()

    with live_server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        # The manufacturer models the motor: product, then a process and its inputs.
        m = browser_sign_in(browser, url, "maker@motors.cn")
        m.goto(f"{url}/carbon?lang=en")
        m.get_by_test_id("new-model").click()
        form = m.get_by_test_id("model-form")
        form.locator("input[name=name]").fill("YE3 motor")
        form.locator("input[name=product]").fill("YE3-132M-4, 7.5 kW")
        form.locator("input[name=mass_kg]").fill("68")
        form.locator("input[name=period_start]").fill("2025-01-01")
        form.locator("input[name=period_end]").fill("2025-12-31")
        form.locator("button[type=submit]").click()
        expect(m.locator("h1")).to_have_text("YE3 motor")
        form = m.get_by_test_id("add-process")
        form.locator("input[name=key]").fill("assembly")
        form.locator("input[name=name]").fill("Assembly")
        form.locator("button[type=submit]").click()
        # Forms are sent by script: the next page says what was done.
        expect(m.locator(".flash")).to_have_text("Process added: now add its inputs")
        inputs = [("electricity", "12", "kWh", "energy", "cn.electricity.2023.east_grid", True),
                  ("forklift diesel", "0.5", "kg", "energy",
                   "ipcc2006.combustion.gas_diesel_oil.per_kg", False)]
        for n, (name, amount, unit, kind, factor, primary) in enumerate(inputs):
            form = m.get_by_test_id("add-input-assembly")
            if not form.is_visible():
                m.locator("[data-testid=process-assembly] details summary").first.click()
            form.locator("input[name=name]").fill(name)
            form.locator("input[name=amount]").fill(amount)
            form.locator("input[name=unit]").fill(unit)
            form.locator("select[name=kind]").select_option(kind)
            form.locator("input[name=factor]").fill(factor)
            if primary:
                form.locator("input[name=primary]").check()
                form.locator("select[name=uncertainty]").select_option("lognormal")
                form.locator("input[name=gsd]").fill("1.1")
            form.locator("button[type=submit]").click()
            expect(m.get_by_test_id("inputs-assembly").locator("tbody tr")).to_have_count(n + 1)

        # Its footprint, contributions and uncertainty.
        m.get_by_test_id("compute").locator("input[name=iterations]").fill("500")
        m.get_by_test_id("compute").locator("button[type=submit]").click()
        # 12 kWh × 0.5500 (East China grid 2023) + 0.5 kg × 3.1863 (IPCC diesel CO2)
        total = 12 * 0.55 + 0.5 * 3.1863
        expect(m.get_by_test_id("total")).to_have_text(f"{total:.4g}")
        for chart in ("waterfall", "sankey", "histogram"):
            expect(m.get_by_test_id(chart).locator("canvas")).to_have_count(1)
        expect(m.get_by_test_id("contributions").locator("tbody tr")).to_have_count(2)
        study_url = m.url
        m.get_by_test_id("submit").locator("button").click()
        expect(m.get_by_test_id("status")).to_have_text("Submitted")

        # The certification body reviews it and certifies.
        c = browser_sign_in(browser, url, "auditor@greencert.cn")
        c.goto(f"{url}/carbon/reviews?lang=en")
        c.get_by_test_id("queue").get_by_role("link", name="YE3 motor").click()
        form = c.get_by_test_id("checklist-form")
        for check in ("boundary", "cut_off", "data_quality"):
            form.locator(f"select[name={check}_verdict]").select_option("conforms")
        form.locator("select[name=allocation_verdict]").select_option("not_applicable")
        form.locator("button[type=submit]").click()
        expect(c.get_by_test_id("check-boundary")).to_contain_text("conforms")
        form = c.get_by_test_id("decision-form")
        form.locator("input[name=valid_until]").fill("2029-12-31")
        form.locator("button[type=submit]").click()
        expect(c.get_by_test_id("status")).to_have_text("Certified")
        number = c.get_by_test_id("certificate-number").inner_text()
        label = c.get_by_test_id("label")
        expect(label).to_be_visible()
        assert label.evaluate("img => img.complete && img.naturalWidth") == 360

        # The manufacturer shares it and lets its customer's system in.
        m.goto(study_url)
        m.get_by_test_id("share").locator("button").click()
        pact_id = m.get_by_test_id("pact-id").inner_text()
        m.goto(f"{url}/carbon/pact?lang=en")
        form = m.get_by_test_id("pact-new-client")
        form.locator("input[name=name]").fill("Customer ERP")
        form.locator("button[type=submit]").click()
        codes = m.get_by_test_id("pact-secret").locator("dd code")
        client_id, secret = codes.nth(2).inner_text(), codes.nth(3).inner_text()
        browser.close()

        # The customer's system: a token by client credentials, then the footprint.
        with httpx.Client(base_url=f"{url}/pact", timeout=30,
                          headers={"X-Forwarded-Proto": "https"}) as customer:
            token = customer.post("/auth/token", auth=(client_id, secret),
                                  data={"grant_type": "client_credentials"})
            assert token.status_code == 200, token.text
            bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
            listed = customer.get("/3/footprints", headers=bearer)
            assert listed.status_code == 200, listed.text
            [doc] = [d for d in listed.json()["data"] if d["id"] == pact_id]
            assert float(doc["pcf"]["pcfExcludingBiogenicUptake"]) == pytest.approx(total)
            assert doc["productNameCompany"] == "YE3-132M-4, 7.5 kW"
            v2 = customer.get(f"/2/footprints/{pact_id}", headers=bearer)
            assert v2.status_code == 200
            # v2 has no "piece": stated per kilogram through the product's 68 kg.
            assert v2.json()["data"]["pcf"]["declaredUnit"] == "kilogram"
            assert float(v2.json()["data"]["pcf"]["pCfExcludingBiogenic"]) == pytest.approx(
                total / 68)
            assert number in str(doc)  # the certificate, as PACT's assurance
