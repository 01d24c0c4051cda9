"""An order is closed only by a report that belongs to it: registered and valid, the
order's lab's own, naming one of the order's standards, issued no earlier than the sample
was received. Each refusal says why, beside the report number, in both languages."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from helpers import make_account, make_institution, sign_in
from tichub.core import errors
from tichub.core.models import OrgKind
from tichub.market import orders
from tichub.market.models import Order, OrderStatus
from tichub.market.schemas import ActionIn, RequestIn
from tichub.reports import for_orders
from tichub.reports import service as reports
from tichub.reports.models import RecordEvent
from tichub.reports.schemas import RecordIn

SCOPE = [("GB 31241-2022", "锂离子电池", "过充电保护")]
TODAY = date.today()


def test_standards_match_across_spacing_width_and_a_missing_edition() -> None:
    assert for_orders.same_standard("GB 31241-2022", "GB31241-2022")
    assert for_orders.same_standard("GB 31241", "ＧＢ　31241-2022")  # full-width, no edition
    assert for_orders.same_standard("IEC 62133-2:2017", "iec 62133-2")
    assert not for_orders.same_standard("GB 31241-2022", "GB 31241-2014")  # editions differ
    assert not for_orders.same_standard("IEC 62133-2", "IEC 62133-1")
    assert not for_orders.same_standard("GB 5009.209-2016", "GB 31241-2022")
    assert for_orders.names_any(["ISO 2409", "GB 31241-2022"], ["GB 31241"])
    assert not for_orders.names_any(["ISO 2409"], ["GB 31241-2022", "GB 4943.1-2022"])


@pytest.fixture
def testing_order(app, db):  # type: ignore[no-untyped-def]
    """An order for a battery pack to GB 31241-2022, its sample received today, in testing;
    and the reports a lab might offer for it."""
    lab = make_account(db, "lab@lab.cn")
    other = make_account(db, "other@lab.cn")
    inst, _ = make_institution(db, lab, name="上海甲检测", serial=51, scope=SCOPE)
    other_inst, _ = make_institution(db, other, name="上海乙检测", serial=52, scope=SCOPE)
    firm = make_account(db, "buyer@firm.cn", kind=OrgKind.enterprise)
    fp, lp = firm.principal(db), lab.principal(db)
    [order] = orders.create_request(db, fp, RequestIn(
        org_id=firm.org.id, product="储能电池包", standards=["GB 31241-2022"],
        target_markets=["CN", "EU"], needed_by=TODAY + timedelta(days=30),
        description="48V 储能电池包，含 BMS", institution_ids=[inst]))
    orders.act(db, lp, order.id, ActionIn(action="quote", amount_fen=300_000))
    orders.act(db, fp, order.id, ActionIn(action="accept"))
    orders.act(db, lp, order.id, ActionIn(action="receive_sample"))
    orders.act(db, lp, order.id, ActionIn(action="start_testing"))

    def register(account: Any, institution: str, number: str, standards: list[str],
                 issued_on: date) -> None:
        reports.register(db, account.principal(db), app.state.log, [RecordIn(
            number=number, kind="test_report", institution_id=institution,
            issued_on=issued_on, standards=standards, product="储能电池包")])

    register(lab, inst, "R-GOOD-1", ["GB 31241-2022", "GB 4943.1-2022"], TODAY)
    register(lab, inst, "R-PAINT-1", ["ISO 2409"], TODAY)  # another product's standard
    register(lab, inst, "R-OLD-1", ["GB 31241-2022"], TODAY - timedelta(days=240))
    register(other, other_inst, "R-OTHER-1", ["GB 31241-2022"], TODAY)  # another lab's
    register(lab, inst, "R-GONE-1", ["GB 31241-2022"], TODAY)
    reports.register(db, lp, app.state.log, [RecordIn(
        number="R-GONE-1", kind="test_report", institution_id=inst,
        event=RecordEvent.withdrawn, reason="错误")])
    return lab, firm, order


REFUSALS = [
    ("NOPE-0001", "no report NOPE-0001 is registered; register it first",
     "报告 NOPE-0001 尚未登记，请先登记报告"),
    ("R-OTHER-1", "issued by another laboratory", "由其他实验室出具"),
    ("R-GONE-1", "withdrawn, revoked, suspended or replaced", "已不再有效"),
    ("R-PAINT-1", "names none of the order's standards (GB 31241-2022)",
     "未包含本订单的任何检测标准（GB 31241-2022）"),
    ("R-OLD-1", f"before the sample was received on {TODAY.isoformat()}",
     f"早于收样日期 {TODAY.isoformat()}"),
]


@pytest.mark.parametrize(("number", "english", "_chinese"), REFUSALS)
def test_the_service_refuses_a_report_that_does_not_belong(db, testing_order, number: str,
                                                           english: str, _chinese: str) -> None:
    lab, _firm, order = testing_order
    with pytest.raises(errors.Problem) as exc:
        orders.act(db, lab.principal(db), order.id,
                   ActionIn(action="issue_report", report_number=number))
    assert exc.value.status == 422
    [fault] = exc.value.errors
    assert fault.field == "report_number" and english in fault.message
    db.expire_all()
    stored = db.get(Order, order.id)
    assert stored.status is OrderStatus.testing and stored.report_number is None


def test_the_service_accepts_the_labs_matching_report(db, testing_order) -> None:
    lab, _firm, order = testing_order
    offered = orders.matching_reports(db, order)
    assert [r.number for r in offered] == ["R-GOOD-1"]  # none of the refused ones
    done = orders.act(db, lab.principal(db), order.id,
                      ActionIn(action="issue_report", report_number="r-good-1 ".upper()))
    assert done.status is OrderStatus.report_issued and done.report_record_id


def test_before_any_receipt_the_acceptance_day_bounds_the_report(db, testing_order) -> None:
    _lab, _firm, order = testing_order
    assert orders.report_since(db, order) == TODAY
    since = orders.report_since(db, Order(id="x" * 26))  # no events: no bound
    assert since is None


@pytest.mark.parametrize(("number", "english", "chinese"), REFUSALS)
def test_the_page_shows_the_refusal_beside_the_report_number(
        app, db, testing_order, number: str, english: str, chinese: str) -> None:
    _lab, _firm, order = testing_order
    with TestClient(app) as lc:
        csrf = sign_in(lc, "lab@lab.cn")
        for lang, words, label in (("zh", chinese, "报告编号"), ("en", english, "Report number")):
            r = lc.post(f"/market/orders/{order.id}/actions", params={"lang": lang},
                        headers={"X-TICHub-Form": "1"}, follow_redirects=False,
                        data={"csrf_token": csrf, "action": "issue_report",
                              "report_number": number})
            assert r.status_code == 422, r.text
            [fault] = r.json()["errors"]
            assert fault["field"] == "report_number" and fault["label"] == label
            assert words in fault["message"], (lang, fault)
            assert not re.search(r"\b[a-z]+_[a-z_]+\b", fault["message"])  # no raw names
        # without JavaScript: the error page, translated
        page = lc.post(f"/market/orders/{order.id}/actions", params={"lang": "zh"},
                       headers={"Accept": "text/html"},
                       data={"csrf_token": csrf, "action": "issue_report",
                             "report_number": number})
        assert page.status_code == 422 and chinese in page.text and "报告编号" in page.text


def test_the_page_offers_the_matching_reports_and_closes_the_order(app, db,
                                                                  testing_order) -> None:
    _lab, _firm, order = testing_order
    with TestClient(app) as lc:
        csrf = sign_in(lc, "lab@lab.cn")
        page = lc.get(f"/market/orders/{order.id}")
        choice = re.search(r'data-testid="report-choice">(.*?)</select>', page.text, re.S)
        assert choice is not None
        assert re.findall(r'<option value="([^"]+)"', choice.group(1)) == ["R-GOOD-1"]
        # the request behind the order: its markets, date and description
        assert "CN, EU" in page.text and "48V 储能电池包" in page.text
        assert (TODAY + timedelta(days=30)).isoformat() in page.text
        r = lc.post(f"/market/orders/{order.id}/actions", headers={"X-TICHub-Form": "1"},
                    data={"csrf_token": csrf, "action": "issue_report",
                          "report_choice": "R-GOOD-1", "report_number": ""})
        assert r.status_code == 200 and r.json() == {"redirect": f"/market/orders/{order.id}"}
        shown = lc.get(f"/market/orders/{order.id}", params={"lang": "en"})
        assert "Report recorded on the order" in shown.text  # the flash
        assert 'data-testid="report">R-GOOD-1<' in shown.text
        assert "Report recorded on the order" not in lc.get(f"/market/orders/{order.id}").text
