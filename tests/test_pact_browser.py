"""Answering a customer's PACT request by hand, in a real browser on a phone-sized screen
(Debian's Chromium, headless): the company stores the credentials its customer gave, sees
the request waiting, fulfils it with a footprint it shares, and the customer's system (a
real HTTP server) receives RequestFulfilled."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from conftest import LOG_KEY, LOG_ORIGIN, skip_or_fail
from helpers import live_server
from test_browser import CHROMIUM, CHROMIUM_ARGS, browser_sign_in
from test_pact_api import (  # noqa: F401  (client and world are fixtures)
    client,
    new_client,
    share,
    study_of,
    token_for,
    world,
)
from test_pact_exchange import (  # noqa: F401  (customer is a fixture)
    CLOUDEVENTS,
    THEIR_ID,
    THEIR_SECRET,
    customer,
    request_created,
)
from tichub.core.config import Settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The browser's server speaks plain HTTP on this machine, as behind a TLS proxy here.
    return Settings(database_url=database_url, secret_key="test-secret-key",
                    cookie_secure=False, log_origin=LOG_ORIGIN, log_key=LOG_KEY,
                    log_integrate_every=0, trusted_proxies=["127.0.0.1"])


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_waiting_request_is_fulfilled_from_a_phone(app, client, world, customer: Any) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    study = study_of(client, world)
    pf_id = share(client, world, study["id"]).json()["pact_id"]
    creds = new_client(client, world)
    bearer = {"Authorization": f"Bearer {token_for(client, creds)}"}
    # A request naming nothing: it waits for a person.
    asked = client.post("/pact/3/events", headers={**bearer, **CLOUDEVENTS},
                        content=json.dumps(request_created("3", "ask-1", customer.url, [])))
    assert asked.status_code == 200

    with live_server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser_sign_in(browser, url, "maker@motors.cn")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{url}/carbon/pact?lang=en")
        # The customer's credentials, once; afterwards only that they are stored.
        page.get_by_text("Store the credentials").click()
        form = page.get_by_test_id("pact-credentials-form")
        form.locator("input[name=callback_client_id]").fill(THEIR_ID)
        form.locator("input[name=callback_secret]").fill(THEIR_SECRET)
        form.locator("button[type=submit]").click()
        expect(page.locator(".flash")).to_contain_text("Credentials stored for Buyer Cars Ltd")
        expect(page.get_by_test_id("pact-credentials")).to_contain_text(THEIR_ID)
        assert THEIR_SECRET not in page.content()

        request = page.get_by_test_id("pact-request")
        expect(request.get_by_test_id("pact-answer")).to_have_text("Waiting for your answer")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        request.get_by_test_id("pact-fulfil").locator("button[type=submit]").click()
        expect(page.locator(".flash")).to_contain_text(
            "Footprint on its way to the customer's system")
        expect(page.get_by_test_id("pact-answer")).to_have_text("Fulfilled")
        # And in Chinese, the default.
        page.goto(f"{url}/carbon/pact?lang=zh")
        expect(page.get_by_test_id("pact-answer")).to_have_text("已提供")
        browser.close()
        # The proxy rule on the real server: plain HTTP without the proxy's word is refused.
        with httpx.Client(timeout=10) as plain:
            assert plain.get(f"{url}/pact/3/footprints").status_code == 400
            proxied = plain.get(f"{url}/pact/3/footprints", headers={
                **bearer, "X-Forwarded-Proto": "https"})
            assert proxied.status_code == 200 and proxied.json()["data"][0]["id"] == pf_id

    got = customer.wait_for(1)
    assert [path for path, _ in got] == ["/3/events"]
    event = got[0][1]
    assert event["data"]["requestEventId"] == "ask-1"
    assert [pf["id"] for pf in event["data"]["pfs"]] == [pf_id]
