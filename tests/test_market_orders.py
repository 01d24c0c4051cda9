"""Catalogue, requests and orders: request → quote → order → sample → report (registered)
→ completion and voucher payment; every wrong step and wrong party refused, nothing changed."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from helpers import api_token, make_account, make_institution
from tichub.core.models import OrgKind
from tichub.market import order_flow
from tichub.market import service as market
from tichub.market.models import Order, OrderEvent
from tichub.market.schemas import ProgrammeIn, VoucherIn

SCOPE = [("GB 31241-2022", "锂离子电池", "过充电保护"),
         ("GB 4943.1-2022", "电源适配器", "电气强度")]


def head(db, account) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": "Bearer " + api_token(db, account, ["market:write",
                                                                 "reports:write"])}


def ok(r, status: int = 200):  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    return r.json()


def test_the_state_machine_names_each_refusal() -> None:
    assert order_flow.next_status("quote", "submitted", "lab") == "quoted"
    assert order_flow.next_status("amend", "quoted", "company") == "submitted"  # quote void
    assert order_flow.next_status("amend", "accepted", "company") == "accepted"
    with pytest.raises(order_flow.FlowError,
                       match="only the company may take this step: Accept") as exc:
        order_flow.next_status("accept", "quoted", "lab")
    assert exc.value.wrong_side
    with pytest.raises(order_flow.FlowError,
                       match=r"Cancel the order: not possible, the order is testing \(only"):
        order_flow.next_status("cancel", "testing", "company")
    with pytest.raises(order_flow.FlowError,
                       match=r"^Amend: not possible, the order is completed$"):
        order_flow.next_status("amend", "completed", "company")
    assert order_flow.allowed("report_issued", "company") == ["complete", "dispute"]
    assert order_flow.allowed("report_issued", "lab") == []
    # every state is reachable, and only the exits and completion are final
    reachable = {"submitted"}
    for _ in range(10):
        for step in order_flow.STEPS.values():
            if step.to and set(step.from_states) & reachable:
                reachable.add(step.to)
    assert reachable == {"submitted", "quoted", "accepted", "sample_received", "testing",
                         "report_issued", "completed", "cancelled", "disputed"}


@pytest.fixture
def market_world(client, db):  # type: ignore[no-untyped-def]
    lab1 = make_account(db, "lab1@lab.cn")
    lab2 = make_account(db, "lab2@lab.cn")
    inst1, _ = make_institution(db, lab1, name="甲检测", serial=11, scope=SCOPE)
    inst2, _ = make_institution(db, lab2, name="乙检测", serial=12, scope=SCOPE)
    firm = make_account(db, "buyer@firm.cn", kind=OrgKind.enterprise)
    return lab1, lab2, inst1, inst2, firm


def test_catalogue_lies_in_the_accredited_scope(client, db, market_world) -> None:  # type: ignore[no-untyped-def]
    lab1, _lab2, inst1, _inst2, _firm = market_world
    body = {"org_id": lab1.org.id, "institution_id": inst1, "title": "锂电池过充电保护检测",
            "standards": ["GB 31241-2022"], "price_fen": 350_000, "turnaround_days": 5}
    listed = ok(client.post("/api/services", headers=head(db, lab1), json=body), 201)
    assert listed["accredited"] is True
    outside = {**body, "standards": ["IEC 62133-2:2017"]}
    r = client.post("/api/services", headers=head(db, lab1), json=outside)
    assert r.status_code == 422 and "IEC 62133-2" in r.text and "unaccredited" in r.text
    plain = ok(client.post("/api/services", headers=head(db, lab1),
                           json={**outside, "accredited": False}), 201)
    assert plain["accredited"] is False
    found = ok(client.get("/api/services", params={"standard": "GB 31241"}))
    assert [s["id"] for s in found] == [listed["id"]]


def test_request_quote_order_sample_report_complete(client, db, market_world) -> None:  # type: ignore[no-untyped-def]
    lab1, lab2, inst1, inst2, firm = market_world
    c, l1, l2 = head(db, firm), head(db, lab1), head(db, lab2)
    # the voucher programme: the operator lists lab1 and gives the firm a voucher
    _operator, prog, voucher = _voucher_world(db, lab1, firm)

    orders = ok(client.post("/api/requests", headers=c, json={
        "org_id": firm.org.id, "product": "储能电池包", "standards": ["GB 31241-2022"],
        "target_markets": ["CN", "EU"], "quantity": 3, "institution_ids": [inst1, inst2],
        "sample_delivery": "mail", "sample_return": True}), 201)
    first, second = orders
    assert {o["status"] for o in orders} == {"submitted"}
    assert first["actions"] == ["amend", "cancel"]

    def step(order: dict, who: dict, action: str, status: int = 200, **extra):  # type: ignore[no-untyped-def,type-arg]
        r = client.post(f"/api/orders/{order['id']}/actions", headers=who,
                        json={"action": action, **extra})
        assert r.status_code == status, r.text
        return r.json()

    def unchanged(order: dict, status: str) -> None:  # type: ignore[type-arg]
        db.expire_all()
        assert db.get(Order, order["id"]).status.value == status

    # wrong party and wrong step: refused, nothing changes
    step(first, c, "quote", 403, amount_fen=1)
    step(first, l2, "quote", 403, amount_fen=1)  # another lab's order
    step(first, l1, "accept", 403)
    step(first, c, "accept", 409)
    r = step(first, l1, "quote", 422)  # a quote without its price
    assert r["errors"][0]["field"] == "amount_fen"
    unchanged(first, "submitted")

    q1 = step(first, l1, "quote", amount_fen=360_000, valid_until="2099-01-01")
    assert q1["status"] == "quoted" and q1["tax_fen"] == 20_377  # 6 % inside 3,600 yuan
    step(second, l2, "quote", amount_fen=300_000)
    # the programme pays at most half an order: 180,000 of 360,000
    r = step(first, c, "accept", 422, voucher_id=voucher.id, voucher_fen=190_000)
    assert "at most 50 %" in r["detail"]
    unchanged(first, "quoted")
    accepted = step(first, c, "accept", voucher_id=voucher.id, voucher_fen=180_000)
    assert (accepted["status"], accepted["voucher_fen"]) == ("accepted", 180_000)
    unchanged(second, "cancelled")  # the other lab's quote is closed
    assert market.balances(db, prog.id)[f"provider:{lab1.org.id}"] == 180_000

    # after acceptance the price stands: the quantity cannot change, the notes can
    r = step(first, c, "amend", 409, quantity=4)
    assert "part of the accepted price" in r["detail"]
    unchanged(first, "accepted")
    step(first, c, "amend", notes="样品周三寄出", note="补充寄样时间")
    step(first, l1, "receive_sample")
    step(first, l1, "start_testing")
    step(first, c, "cancel", 409)  # testing has started
    step(first, c, "complete", 409)
    # the report must be registered by the lab's institution first
    r = step(first, l1, "issue_report", 422, report_number="R-2026-7")
    assert "register it first" in r["detail"]
    ok(client.post("/api/reports", headers=l1, json={
        "number": "R-2026-7", "kind": "test_report", "institution_id": inst1,
        "issued_on": date.today().isoformat(), "standards": ["GB 31241-2022"]}), 201)
    issued = step(first, l1, "issue_report", report_number="R-2026-7")
    assert issued["report_record_id"] and issued["status"] == "report_issued"
    assert client.post(f"/api/orders/{first['id']}/rating", headers=c,
                       json={"rating": 5}).status_code == 409  # not completed yet
    done = step(first, c, "complete")
    assert done["actions"] == ["rate"]
    assert client.post(f"/api/orders/{first['id']}/rating", headers=l1,
                       json={"rating": 1}).status_code == 403  # only the company
    rated = ok(client.post(f"/api/orders/{first['id']}/rating", headers=c,
                           json={"rating": 5, "review": "准时、专业"}))
    assert rated["rating"] == 5 and rated["actions"] == []
    assert client.post(f"/api/orders/{first['id']}/rating", headers=c,
                       json={"rating": 4}).status_code == 409
    events = ok(client.get(f"/api/orders/{first['id']}/events", headers=c))
    assert [e["action"] for e in events] == [
        "submitted", "quote", "accept", "amend", "receive_sample", "start_testing",
        "issue_report", "complete", "rated"]
    # the lab's inbox and the company's list; an outsider sees neither
    inbox = ok(client.get("/api/orders", headers=l1, params={"org_id": lab1.org.id}))
    assert inbox["total"] == 1 and inbox["items"][0]["number"] == first["number"]
    outsider = make_account(db, "x@firm.cn", kind=OrgKind.enterprise)
    assert client.get(f"/api/orders/{first['id']}",
                      headers=head(db, outsider)).status_code == 403
    assert client.get("/api/orders", headers=head(db, outsider),
                      params={"org_id": lab1.org.id}).status_code == 403


def test_a_listed_service_ordered_directly(client, db, market_world) -> None:  # type: ignore[no-untyped-def]
    lab1, _lab2, inst1, _inst2, firm = market_world
    listing = ok(client.post("/api/services", headers=head(db, lab1), json={
        "org_id": lab1.org.id, "institution_id": inst1, "title": "适配器电气强度",
        "standards": ["GB 4943.1-2022"], "price_fen": 106_000, "tax_rate_pct": 6}), 201)
    order = ok(client.post(f"/api/services/{listing['id']}/orders", headers=head(db, firm),
                           json={"org_id": firm.org.id, "product": "65W 适配器",
                                 "quantity": 2}), 201)
    assert (order["status"], order["amount_fen"], order["tax_fen"]) == ("quoted", 212_000,
                                                                         12_000)
    before = db.scalar(select(func.count()).select_from(OrderEvent))
    r = client.post(f"/api/orders/{order['id']}/actions", headers=head(db, firm),
                    json={"action": "fly"})
    assert r.status_code == 422 and r.json()["errors"] == [
        {"field": "action", "message": "this is not a step of an order"}]
    assert db.scalar(select(func.count()).select_from(OrderEvent)) == before
    cancelled = ok(client.post(f"/api/orders/{order['id']}/actions", headers=head(db, firm),
                               json={"action": "cancel", "note": "改期"}))
    assert cancelled["status"] == "cancelled" and cancelled["actions"] == []


def test_a_voucher_pays_only_for_the_kinds_of_service_its_programme_covers(
        client, db, market_world) -> None:  # type: ignore[no-untyped-def]
    lab1, _lab2, inst1, _inst2, firm = market_world
    operator = make_account(db, "ops@platform.cn", kind=OrgKind.operator)
    op = operator.principal(db)
    prog = market.create_programme(db, op, ProgrammeIn(
        org_id=operator.org.id, code="TEST-ONLY", name="检测券", budget_fen=1_000_000,
        valid_from=date(2026, 1, 1), valid_until=date(2099, 12, 31), notice_days=0,
        eligible_kinds="test"))
    market.review_provider(db, op, market.apply_as_provider(
        db, lab1.principal(db), prog.id, lab1.org.id).id, approve=True)
    voucher = market.issue_voucher(db, op, prog.id, VoucherIn(
        holder_org_id=firm.org.id, face_fen=100_000, valid_until=date(2099, 12, 31)))
    listing = ok(client.post("/api/services", headers=head(db, lab1), json={
        "org_id": lab1.org.id, "institution_id": inst1, "title": "适配器校准",
        "kind": "calibration", "standards": ["GB 4943.1-2022"], "price_fen": 50_000}), 201)
    order = ok(client.post(f"/api/services/{listing['id']}/orders", headers=head(db, firm),
                           json={"org_id": firm.org.id, "product": "65W 适配器"}), 201)
    r = client.post(f"/api/orders/{order['id']}/actions", headers=head(db, firm), json={
        "action": "accept", "voucher_id": voucher.id, "voucher_fen": 10_000})
    assert r.status_code == 409 and "does not pay for this kind of service" in r.text
    db.expire_all()
    assert db.get(Order, order["id"]).status.value == "quoted"
    assert market.get_voucher(db, voucher.id).balance_fen == 100_000


def _voucher_world(db, lab1, firm):  # type: ignore[no-untyped-def]
    operator = make_account(db, "ops@platform.cn", kind=OrgKind.operator)
    op = operator.principal(db)
    prog = market.create_programme(db, op, ProgrammeIn(
        org_id=operator.org.id, code="SH-CX", name="创新券", budget_fen=5_000_000,
        valid_from=date(2026, 1, 1), valid_until=date(2099, 12, 31), notice_days=0))
    market.review_provider(db, op, market.apply_as_provider(
        db, lab1.principal(db), prog.id, lab1.org.id).id, approve=True)
    voucher = market.issue_voucher(db, op, prog.id, VoucherIn(
        holder_org_id=firm.org.id, face_fen=200_000, valid_until=date(2099, 12, 31)))
    return operator, prog, voucher


def test_cancelling_a_voucher_paid_order_gives_the_money_back(client, db, market_world) -> None:  # type: ignore[no-untyped-def]
    lab1, _lab2, inst1, _inst2, firm = market_world
    operator, prog, voucher = _voucher_world(db, lab1, firm)
    c, lh = head(db, firm), head(db, lab1)

    def new_order() -> str:
        [o] = ok(client.post("/api/requests", headers=c, json={
            "org_id": firm.org.id, "product": "电池", "institution_ids": [inst1]}), 201)
        ok(client.post(f"/api/orders/{o['id']}/actions", headers=lh,
                       json={"action": "quote", "amount_fen": 100_000}))
        ok(client.post(f"/api/orders/{o['id']}/actions", headers=c, json={
            "action": "accept", "amount_fen": 100_000, "voucher_id": voucher.id,
            "voucher_fen": 50_000}))
        return str(o["id"])

    first = new_order()
    db.expire_all()
    assert market.get_voucher(db, voucher.id).balance_fen == 150_000
    cancelled = ok(client.post(f"/api/orders/{first}/actions", headers=c,
                               json={"action": "cancel"}))
    assert (cancelled["status"], cancelled["voucher_fen"]) == ("cancelled", 0)
    db.expire_all()
    assert market.get_voucher(db, voucher.id).balance_fen == 200_000
    assert market.owed(db, prog.id, lab1.org.id) == 0
    balances = market.balances(db, prog.id)
    assert sum(balances.values()) == 0 and balances[f"provider:{lab1.org.id}"] == 0
    # once the provider has been paid, cancelling is refused: that is a dispute
    second = new_order()
    market.settle(db, operator.principal(db), prog.id, lab1.org.id)
    r = client.post(f"/api/orders/{second}/actions", headers=c, json={"action": "cancel"})
    assert r.status_code == 409 and "dispute" in r.text
    db.expire_all()
    assert db.get(Order, second).status.value == "accepted"
    # a stale page accepting a changed quote is refused
    [third] = ok(client.post("/api/requests", headers=c, json={
        "org_id": firm.org.id, "product": "电池", "institution_ids": [inst1]}), 201)
    ok(client.post(f"/api/orders/{third['id']}/actions", headers=lh,
                   json={"action": "quote", "amount_fen": 90_000}))
    r = client.post(f"/api/orders/{third['id']}/actions", headers=c,
                    json={"action": "accept", "amount_fen": 80_000})
    assert r.status_code == 409 and "changed since you saw it" in r.text


def test_the_operator_cannot_act_in_a_companys_name(db, market_world) -> None:  # type: ignore[no-untyped-def]
    from tichub.core import errors
    from tichub.market import orders
    from tichub.market.schemas import RedeemIn, RequestIn

    lab1, _lab2, inst1, _inst2, firm = market_world
    operator, _prog, voucher = _voucher_world(db, lab1, firm)
    op = operator.principal(db)
    with pytest.raises(errors.Problem, match="own members"):
        orders.create_request(db, op, RequestIn(org_id=firm.org.id, product="x",
                                                institution_ids=[inst1]))
    with pytest.raises(errors.Problem, match="own members"):
        market.redeem(db, op, voucher.id, RedeemIn(
            provider_org_id=lab1.org.id, reference="X", order_amount_fen=10_000,
            amount_fen=1_000))


def test_racing_steps_on_one_order_one_wins(sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    import threading

    from tichub.core import errors
    from tichub.market import orders
    from tichub.market.schemas import ActionIn, RequestIn

    with sessionmaker_() as db:
        lab = make_account(db, "lab@lab.cn")
        inst, _ = make_institution(db, lab, name="甲检测", serial=71, scope=SCOPE)
        firm = make_account(db, "buyer@firm.cn", kind=OrgKind.enterprise)
        lp, cp = lab.principal(db), firm.principal(db)
        [order] = orders.create_request(db, cp, RequestIn(
            org_id=firm.org.id, product="电池", institution_ids=[inst]))
        orders.act(db, lp, order.id, ActionIn(action="quote", amount_fen=10_000))
        orders.act(db, cp, order.id, ActionIn(action="accept"))
        orders.act(db, lp, order.id, ActionIn(action="receive_sample"))
        order_id = order.id
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def attempt(who: str) -> None:
        principal, action = (lp, "start_testing") if who == "lab" else (cp, "cancel")
        with sessionmaker_() as db:
            barrier.wait()
            try:
                orders.act(db, principal, order_id, ActionIn(action=action))
                outcomes[who] = "done"
            except errors.Problem as exc:
                assert exc.status == 409, exc
                outcomes[who] = "refused"

    threads = [threading.Thread(target=attempt, args=(w,)) for w in ("lab", "company")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["done", "refused"]
    with sessionmaker_() as db:
        final = db.get(Order, order_id).status.value
        events = [e.to_status for e in orders.events(db, db.get(Order, order_id))]
    assert final == ("testing" if outcomes["lab"] == "done" else "cancelled")
    assert events[-1] == final and events.count("testing") + events.count("cancelled") == 1
