"""A PT round run end to end in a real browser (Debian's Chromium, headless): the provider
defines a scheme and a round, invites, opens, closes, computes and publishes; laboratories
accept, submit by form and by Excel sheet, and read their own scores and the anonymous
report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook

from conftest import skip_or_fail
from helpers import live_server, make_account, make_institution
from test_browser import CHROMIUM, CHROMIUM_ARGS, browser_sign_in
from tichub.app import create_app
from tichub.core.config import Settings
from tichub.pt import service
from tichub.pt.models import PtParticipant
from tichub.pt.schemas import ResultIn

# Ten more laboratories' results (mg/kg), so the consensus has twelve.
OTHERS = [0.50, 0.52, 0.48, 0.51, 0.49, 0.53, 0.47, 0.50, 0.505, 0.495]


@pytest.mark.browser
def test_a_round_end_to_end_in_the_browser(tmp_path: Path, sqlite_template: Path) -> None:
    if not CHROMIUM.exists():
        skip_or_fail("browser", "Chromium is not installed at /usr/bin/chromium "
                                "(apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    path = tmp_path / "pt.db"
    shutil.copy(sqlite_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", secret_key="pt-browser",
                              cookie_secure=False))
    db = app.state.sessionmaker()
    provider = make_account(db, "pt@provider.cn")
    make_institution(db, provider, name="上海能力验证中心", serial=950)
    lab_a = make_account(db, "a@lab.cn")
    lab_b = make_account(db, "b@lab.cn")
    others = [make_account(db, f"other{i}@lab.cn") for i in range(len(OTHERS))]
    sheet = tmp_path / "results.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["measurand", "item", "value", "unit", "U", "k"])
    ws.append(["lead", "A", 490, "µg/kg", 40, 2])  # µg/kg, converted to mg/kg
    wb.save(sheet)

    with live_server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)

        def signed_in(email: str):  # type: ignore[no-untyped-def]
            return browser_sign_in(browser, url, email)

        # the provider defines the scheme and the round, and invites two labs
        p = signed_in("pt@provider.cn")
        p.goto(f"{url}/pt")
        form = p.get_by_test_id("new-scheme")
        form.locator("input[name=code]").fill("FOOD-PB")
        form.locator("input[name=name_zh]").fill("食品中铅")
        form.locator("textarea[name=measurands]").fill("lead, mg/kg, 1e-6")
        form.locator("select[name=institution_id]").select_option(label="上海能力验证中心")
        form.locator("button[type=submit]").click()
        expect(p.locator("h1")).to_contain_text("FOOD-PB")
        form = p.get_by_test_id("new-round")
        form.locator("input[name=code]").fill("2026-1")
        form.locator("select[name^=sigma_kind_]").select_option("fixed")
        form.locator("input[name^=sigma_value_]").fill("0.05")
        form.locator("button[type=submit]").click()
        expect(p.get_by_test_id("round-status")).to_have_text("草稿")
        round_url = p.url
        round_id = round_url.rsplit("/", 1)[1]
        for lab in (lab_a, lab_b):
            p.get_by_test_id("invite").locator("select").select_option(lab.org.id)
            p.get_by_test_id("invite").locator("button").click()
        expect(p.get_by_test_id("participants").locator("tbody tr")).to_have_count(2)

        # the other ten take part through the platform's use cases
        prov = provider.principal(db)
        for lab in others:
            part = service.invite(db, prov, round_id, lab.org.id)
            service.answer(db, lab.principal(db), part.id, accept=True)

        # lab A accepts in its browser; lab B too
        a = signed_in("a@lab.cn")
        a.goto(round_url)
        a.get_by_test_id("answer-yes").click()
        b = signed_in("b@lab.cn")
        b.goto(round_url)
        b.get_by_test_id("answer-yes").click()

        p.reload()
        p.get_by_test_id("step-open").click()
        expect(p.get_by_test_id("round-status")).to_have_text("开放中")

        # lab A types its result with a decimal comma: refused beside the input, in Chinese,
        # and what it typed stays; corrected, it is sent and the page says so
        a.reload()
        form = a.get_by_test_id("results-form")
        a.get_by_test_id("value-lead-A").fill("0,62")
        form.locator("input[name^=method_]").fill("ICP-MS")
        a.get_by_test_id("submit-results").click()
        expect(form.locator(".field-error")).to_have_text("“lead”样品 A：“0,62”不是数字")
        expect(a.get_by_test_id("value-lead-A")).to_have_attribute("aria-invalid", "true")
        expect(a.get_by_test_id("value-lead-A")).to_have_value("0,62")
        expect(form.locator("input[name^=method_]")).to_have_value("ICP-MS")
        a.get_by_test_id("value-lead-A").fill("0.62")
        a.get_by_test_id("submit-results").click()
        expect(a.locator(".flash")).to_contain_text("已提交 1 个结果")
        expect(a.get_by_test_id("own-results")).to_contain_text("0.62")
        # lab B uploads its sheet in µg/kg
        b.reload()
        b.get_by_test_id("results-file").set_input_files(str(sheet))
        b.get_by_test_id("results-file").locator("xpath=ancestor::form").locator(
            "button[type=submit]").click()
        expect(b.get_by_test_id("own-results")).to_contain_text("0.49 mg/kg")
        for lab, v in zip(others, OTHERS, strict=True):
            service.submit_results(db, lab.principal(db), round_id, lab.org.id,
                                   [ResultIn(measurand="lead", value=v)])

        for step in ("close", "compute", "publish"):
            p.get_by_test_id(f"step-{step}").click()
        expect(p.get_by_test_id("round-status")).to_have_text("已发布")
        expect(p.get_by_test_id("participants")).to_contain_text("FOOD-PB-2026-1-P")

        # lab A: z = (0.62 − 0.50)/0.05 = 2.4, questionable; its code marked in the report
        a.reload()
        expect(a.get_by_test_id("verdict")).to_have_text("有问题")
        code = a.get_by_test_id("own-code").inner_text()
        a.get_by_test_id("participant-report").click()
        expect(a.get_by_test_id("report-title")).to_contain_text("食品中铅")
        expect(a.locator("tr.own")).to_contain_text(code)
        expect(a.get_by_test_id("scores").locator("tbody tr")).to_have_count(12)
        assert a.get_by_test_id("histogram").locator("svg").count() == 1
        # the PDF: a page follows its making, then the browser gets the file
        with a.expect_response(lambda r: "/report.pdf?" in r.url and r.status == 200
                               and r.headers.get("content-type") == "application/pdf",
                               timeout=60_000) as got:
            a.get_by_test_id("pdf-link").click()
            expect(a.get_by_test_id("pdf-progress-bar")).to_be_visible()
        assert got.value.headers["content-disposition"].endswith('FOOD-PB-2026-1-zh.pdf"')
        # at 390 px the round and its report do not scroll sideways
        a.set_viewport_size({"width": 390, "height": 800})
        for page_url in (round_url, f"{round_url}/report"):
            a.goto(page_url)
            assert a.evaluate("document.documentElement.scrollWidth") <= 390, page_url
        a.goto(f"{round_url}/report")
        # nobody else's laboratory name is on the report
        assert "b@lab.cn" not in a.content() and "Org of b@lab.cn" not in a.content()
        b.reload()
        expect(b.get_by_test_id("verdict")).to_have_text("满意")
        browser.close()
    with app.state.sessionmaker() as s:
        assert s.query(PtParticipant).count() == 12
    db.close()
    app.state.engine.dispose()
