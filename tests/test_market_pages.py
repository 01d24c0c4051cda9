"""Marketplace pages through their forms: request → quote → order (with a voucher) → sample
→ registered report → completion → claim → settlement; bookings; refusals shown in place."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from fastapi.testclient import TestClient
from pypdf import PdfReader

from helpers import make_account, make_institution, sign_in
from tichub.core.models import OrgKind
from tichub.market import service as market
from tichub.market.models import Order, Programme
from tichub.reports import service as reports
from tichub.reports.schemas import RecordIn

SCOPE = [("GB 31241-2022", "锂离子电池", "过充电保护")]


def post(client: TestClient, url: str, csrf: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False)


def test_the_marketplace_through_its_pages(app, db) -> None:  # type: ignore[no-untyped-def]
    lab = make_account(db, "lab@lab.cn")
    inst, _ = make_institution(db, lab, name="上海甲检测", serial=41, scope=SCOPE)
    firm = make_account(db, "buyer@firm.cn", kind=OrgKind.enterprise)
    ops = make_account(db, "ops@platform.cn", kind=OrgKind.operator)
    year_end = date.today().replace(month=12, day=31) + timedelta(days=365)

    with TestClient(app) as o:  # the operator opens a programme
        csrf = sign_in(o, "ops@platform.cn")
        r = post(o, "/market/vouchers/programme", csrf, org_id=ops.org.id, code="CX-2027",
                 name="科技创新券", budget="100,000", max_share_pct="50",
                 valid_from=date.today().isoformat(), valid_until=year_end.isoformat(),
                 notice_days="0")
        assert r.status_code == 303, r.text
    [prog] = db.query(Programme).all()

    with TestClient(app) as c:  # the company applies for a voucher and posts a request
        csrf = sign_in(c, "buyer@firm.cn")
        r = post(c, "/market/vouchers/apply", csrf, programme_id=prog.id, org_id=firm.org.id,
                 amount="2,000", district="pudong", sector="新能源")
        assert r.status_code == 303, r.text
        page = c.get("/market/requests/new", params={"standard": "GB 31241"})
        assert "上海甲检测" in page.text
        r = post(c, "/market/requests", csrf, org_id=firm.org.id, product="储能电池包",
                 standards="GB 31241-2022", institution_ids=inst, quantity="2")
        assert r.status_code == 303, r.text
        bad = post(c, "/market/requests", csrf, org_id=firm.org.id, product="x")
        assert bad.status_code == 422 and "institution_ids" in bad.text
    order = db.query(Order).one()

    with TestClient(app) as lc:  # the lab joins the programme and quotes
        csrf_l = sign_in(lc, "lab@lab.cn")
        assert post(lc, "/market/vouchers/provider", csrf_l, programme_id=prog.id,
                    org_id=lab.org.id).status_code == 303
        inbox = lc.get("/market/orders")
        assert order.number in inbox.text
        r = post(lc, f"/market/orders/{order.id}/actions", csrf_l, action="quote",
                 amount="3,000")
        assert r.status_code == 303, r.text
        wrong = post(lc, f"/market/orders/{order.id}/actions", csrf_l, action="accept")
        assert wrong.status_code == 403 and "only the company may take this step" in wrong.text

    with TestClient(app) as o:  # the operator approves the application and the provider
        csrf = sign_in(o, "ops@platform.cn")
        page = o.get(f"/market/programmes/{prog.id}")
        app_id = re.search(r'/application/(\w+)"', page.text).group(1)  # type: ignore[union-attr]
        prov_id = re.search(r'/provider/(\w+)"', page.text).group(1)  # type: ignore[union-attr]
        assert post(o, f"/market/programmes/{prog.id}/application/{app_id}", csrf,
                    approve="yes", amount="").status_code == 303
        assert post(o, f"/market/programmes/{prog.id}/provider/{prov_id}", csrf,
                    approve="yes").status_code == 303

    with TestClient(app) as c:  # the company accepts, paying half with the voucher
        csrf = sign_in(c, "buyer@firm.cn")
        page = c.get(f"/market/orders/{order.id}")
        voucher_id = re.search(r'<option value="(\w{26})">CX-2027-', page.text).group(1)  # type: ignore[union-attr]
        too_much = post(c, f"/market/orders/{order.id}/actions", csrf, action="accept",
                        voucher_id=voucher_id, voucher_amount="1,600")
        assert too_much.status_code == 422 and "at most 50 %" in too_much.text
        r = post(c, f"/market/orders/{order.id}/actions", csrf, action="accept",
                 voucher_id=voucher_id, voucher_amount="1,500")
        assert r.status_code == 303, r.text

    reports.register(db, lab.principal(db), app.state.log, [RecordIn(
        number="R-2026-0100", kind="test_report", institution_id=inst,
        issued_on=date.today(), standards=["GB 31241-2022"])])
    with TestClient(app) as lc:
        csrf_l = sign_in(lc, "lab@lab.cn")
        for action, extra in (("receive_sample", {}), ("start_testing", {}),
                              ("issue_report", {"report_number": "R-2026-0100"})):
            r = post(lc, f"/market/orders/{order.id}/actions", csrf_l, action=action, **extra)
            assert r.status_code == 303, (action, r.text)
    with TestClient(app) as c:
        csrf = sign_in(c, "buyer@firm.cn")
        assert post(c, f"/market/orders/{order.id}/actions", csrf,
                    action="complete").status_code == 303
        assert post(c, f"/market/orders/{order.id}/actions", csrf, action="rate",
                    rating="5", note="专业").status_code == 303
        page = c.get(f"/market/orders/{order.id}")
        assert "★★★★★" in page.text and "R-2026-0100" in page.text
        receipt = c.get(f"/market/orders/{order.id}/receipt.pdf", params={"lang": "zh"})
        assert receipt.headers["content-type"] == "application/pdf"
        text = PdfReader(io.BytesIO(receipt.content)).pages[0].extract_text()
        assert "收款收据" in text and "3,000.00" in text and "1,500.00" in text
        invoice = c.get(f"/market/orders/{order.id}/invoice.pdf", params={"lang": "en"})
        assert "Invoice" in PdfReader(io.BytesIO(invoice.content)).pages[0].extract_text()
    with TestClient(app) as lc:  # the lab claims; the operator settles
        csrf_l = sign_in(lc, "lab@lab.cn")
        assert "1,500.00" in lc.get("/market/vouchers").text
        assert post(lc, "/market/vouchers/claim", csrf_l, programme_id=prog.id,
                    org_id=lab.org.id).status_code == 303
    with TestClient(app) as o:
        csrf = sign_in(o, "ops@platform.cn")
        assert post(o, f"/market/programmes/{prog.id}/settle/{lab.org.id}",
                    csrf).status_code == 303
        page = o.get(f"/market/programmes/{prog.id}")
        assert "settled 1,500.00" in page.text and "新能源" in page.text
        # every page renders in both languages
        for url in ("/market", "/market/vouchers", f"/market/programmes/{prog.id}",
                    f"/market/orders/{order.id}", "/market/orders", "/market/requests/new"):
            for lang in ("en", "zh"):
                assert o.get(url, params={"lang": lang}).status_code == 200, (url, lang)
    assert market.balances(db, prog.id)["settled"] == 150_000


def test_booking_an_instrument_through_its_page(app, db) -> None:  # type: ignore[no-untyped-def]
    lab = make_account(db, "lab@lab.cn")
    firm = make_account(db, "buyer@firm.cn", kind=OrgKind.enterprise)
    with TestClient(app) as lc:
        csrf = sign_in(lc, "lab@lab.cn")
        r = post(lc, "/market/instruments", csrf, org_id=lab.org.id, name="扫描电镜",
                 kind="SEM", hourly_rate="800", calibration_due="2099-01-01")
        assert r.status_code == 303, r.text
        url = r.headers["location"]
    day = (date.today() + timedelta(days=3)).isoformat()
    with TestClient(app) as c:
        csrf = sign_in(c, "buyer@firm.cn")
        firm_org = firm.org.id
        r = post(c, f"{url}/bookings", csrf, org_id=firm_org, day=day, start="09:00",
                 end="11:00", purpose="断口分析")
        assert r.status_code == 303, r.text
        again = post(c, f"{url}/bookings", csrf, org_id=firm_org, day=day, start="10:00",
                     end="12:00")
        assert again.status_code == 409 and "already booked" in again.text
        page = c.get(url)
        assert page.text.count("data-testid=\"calendar\"") == 1 and "已确认" in page.text
        mine = c.get("/market/orders")
        assert 'data-testid="my-bookings"' in mine.text and "扫描电镜" in mine.text


def test_request_a_quote_from_an_institution_page_ticks_that_lab(client, db) -> None:  # type: ignore[no-untyped-def]
    lab = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, lab, name="上海甲检测技术有限公司", serial=1,
                               scope=[("GB 31241-2022", "锂离子电池", "过充电")])
    other, _ = make_institution(db, make_account(db, "lab2@example.com"),
                                name="上海乙检测技术有限公司", serial=2,
                                scope=[("GB 31241-2022", "锂离子电池", "过放电")])
    make_account(db, "buyer@example.com", kind=OrgKind.enterprise)
    sign_in(client, "buyer@example.com")
    page = client.get(f"/institutions/{inst}")
    link = re.search(r'href="(/market/requests/new\?institution=[^"]+)"', page.text)
    assert link, "the institution page has no request-a-quote link"
    form = client.get(link.group(1).replace("&amp;", "&")).text
    ticked = re.findall(r'value="([0-9A-Z]+)" data-testid="lab-\d+" checked', form)
    assert ticked == [inst]
    # Unknown ids are not listed, and do not fail the page.
    assert client.get("/market/requests/new?institution=NOPE").status_code == 200
    # The other lab able to test to the standard is offered too, unticked.
    assert "standard=" in link.group(1) and f'value="{other}"' in form
