"""The marketplace end to end in a real browser (Debian's Chromium, headless): the voucher
operator opens a programme, a company gets a voucher and asks a lab to quote, accepts paying
half with the voucher; the lab takes the sample, tests, registers the report on its page
(one for another standard is refused on the order), marks the order "report issued" with it,
and /verify shows it; the company confirms; the lab claims and the operator settles."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from conftest import skip_or_fail
from helpers import live_server, make_account, make_institution
from test_browser import CHROMIUM, CHROMIUM_ARGS, browser_sign_in
from tichub.app import create_app
from tichub.core.config import Settings
from tichub.core.models import OrgKind
from tichub.market import service as market
from tichub.market.models import Order, Programme


@pytest.mark.browser
def test_request_quote_order_report_and_voucher_settlement(tmp_path: Path,
                                                           sqlite_template: Path) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "market.db"
    shutil.copy(sqlite_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="market-browser",
                              cookie_secure=False, log_integrate_every=0))
    db = app.state.sessionmaker()
    lab = make_account(db, "lab@lab.cn")
    make_institution(db, lab, name="上海甲检测技术有限公司", serial=61,
                               scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    make_account(db, "buyer@firm.cn", kind=OrgKind.enterprise)
    make_account(db, "ops@platform.cn", kind=OrgKind.operator)
    until = (date.today() + timedelta(days=400)).isoformat()

    with live_server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)

        def signed_in(email: str):  # type: ignore[no-untyped-def]
            return browser_sign_in(browser, url, email)

        # the operator opens a programme
        o = signed_in("ops@platform.cn")
        o.goto(f"{url}/market/vouchers")
        form = o.get_by_test_id("new-programme")
        form.locator("input[name=code]").fill("CX-2027")
        form.locator("input[name=name]").fill("科技创新券")
        form.locator("input[name=budget]").fill("100,000")
        form.locator("input[name=valid_until]").fill(until)
        form.locator("input[name=notice_days]").fill("0")
        form.locator("button[type=submit]").click()
        expect(o.get_by_test_id("programmes")).to_contain_text("CX-2027")

        # the company applies for a voucher; the lab joins as a provider
        c = signed_in("buyer@firm.cn")
        c.goto(f"{url}/market/vouchers")
        c.get_by_text("申请创新券").click()
        apply = c.get_by_test_id("apply-CX-2027")
        apply.locator("input[name=amount]").fill("2000")
        apply.locator("input[name=sector]").fill("新能源")
        apply.locator("button[type=submit]").click()
        lb = signed_in("lab@lab.cn")
        lb.goto(f"{url}/market/vouchers")
        lb.get_by_role("button", name="申请成为服务机构").click()

        # the operator approves both
        o.goto(f"{url}/market/vouchers")
        o.get_by_role("link", name="CX-2027").click()
        o.get_by_test_id("approve-application").locator("button").click()
        o.get_by_test_id("provider-yes").click()
        expect(o.get_by_test_id("figures")).to_contain_text("2,000.00")

        # the company finds the lab by standard and asks it to quote
        c.goto(f"{url}/market/requests/new?standard=GB+31241")
        c.get_by_test_id("product").fill("储能电池包")
        c.get_by_test_id("lab-1").check()
        c.get_by_test_id("send-request").click()
        expect(c.get_by_test_id("orders").first).to_contain_text("储能电池包")

        # the lab quotes 3,000 yuan
        lb.goto(f"{url}/market/orders")
        lb.get_by_test_id("orders").first.locator("a").first.click()
        lb.get_by_test_id("action-quote").locator("input[name=amount]").fill("3000")
        lb.get_by_test_id("action-quote").locator("button").click()
        expect(lb.get_by_test_id("order-status")).to_have_text("已报价")
        order_url = lb.url

        # the company accepts, half paid by the voucher
        c.goto(order_url)
        accept = c.get_by_test_id("action-accept")
        accept.locator("select[name=voucher_id]").select_option(index=1)
        accept.locator("input[name=voucher_amount]").fill("1500")
        accept.locator("button").click()
        expect(c.get_by_test_id("order-status")).to_have_text("已接受")
        expect(c.get_by_test_id("amount")).to_contain_text("1,500.00")

        # the lab receives the sample, tests, and issues the report it registered
        lb.goto(order_url)
        lb.get_by_test_id("action-receive_sample").locator("button").click()
        lb.get_by_test_id("action-start_testing").locator("button").click()
        expect(lb.get_by_test_id("order-status")).to_have_text("检测中")
        # A report of another product's standard is refused, with the reason, in Chinese.
        lb.goto(f"{url}/reports/new")
        form = lb.get_by_test_id("report-form")
        form.get_by_test_id("number").fill("R-2026-0666")
        form.get_by_test_id("product").fill("色漆")
        form.get_by_test_id("standards").fill("ISO 2409")
        form.get_by_test_id("register").click()
        expect(lb.get_by_test_id("receipt")).to_contain_text("R-2026-0666")
        lb.goto(order_url)
        issue = lb.get_by_test_id("action-issue_report")
        issue.get_by_test_id("report-number").fill("R-2026-0666")
        issue.locator("button").click()
        expect(issue.locator(".field-error")).to_contain_text("GB 31241")
        expect(lb.get_by_test_id("order-status")).to_have_text("检测中")

        # The lab registers the order's report on its page ...
        lb.goto(f"{url}/reports/new")
        form = lb.get_by_test_id("report-form")
        form.get_by_test_id("number").fill("R-2026-0777")
        form.get_by_test_id("product").fill("储能电池包")
        form.get_by_test_id("standards").fill("GB 31241-2022")
        form.get_by_test_id("register").click()
        expect(lb.get_by_test_id("receipt")).to_contain_text("R-2026-0777")
        # ... and picks it among its matching reports on the order.
        lb.goto(order_url)
        issue = lb.get_by_test_id("action-issue_report")
        issue.get_by_test_id("report-choice").select_option("R-2026-0777")
        issue.locator("button").click()
        expect(lb.get_by_test_id("report")).to_have_text("R-2026-0777")
        expect(lb.locator(".flash")).to_be_visible()
        # Anyone can verify it.
        lb.get_by_test_id("report").click()
        expect(lb.get_by_test_id("verdict")).to_contain_text("已登记，有效")

        # the company confirms completion
        c.goto(order_url)
        c.get_by_test_id("action-complete").locator("button").click()
        expect(c.get_by_test_id("order-status")).to_have_text("已完成")

        # the lab claims settlement, the operator settles
        lb.goto(f"{url}/market/vouchers")
        lb.get_by_test_id("claim-CX-2027").locator("button").click()
        o.reload()
        o.get_by_test_id("settle").click()
        expect(o.get_by_test_id("ledger")).to_contain_text("settled 1,500.00")
        browser.close()

    db.expire_all()
    order = db.query(Order).one()
    assert (order.status.value, order.voucher_fen, order.report_number) == (
        "completed", 150_000, "R-2026-0777")
    prog = db.query(Programme).one()
    balances = market.balances(db, prog.id)
    assert sum(balances.values()) == 0 and balances["settled"] == 150_000
    db.close()
    app.state.engine.dispose()

