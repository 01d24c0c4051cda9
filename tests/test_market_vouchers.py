"""Innovation vouchers: a double-entry ledger that balances to the fen, never overspent."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy import func, select

from helpers import make_account
from tichub.core import errors
from tichub.core.models import OrgKind
from tichub.market import service
from tichub.market.models import LedgerEntry, LedgerTransaction, Redemption
from tichub.market.schemas import ProgrammeIn, RedeemIn, VoucherIn

TODAY = date(2026, 12, 1)


def programme_world(db):  # type: ignore[no-untyped-def]
    operator = make_account(db, "ops@platform.cn", kind=OrgKind.operator)
    firm = make_account(db, "boss@firm.cn", kind=OrgKind.enterprise)
    lab = make_account(db, "lab@lab.cn")
    op = operator.principal(db)
    prog = service.create_programme(db, op, ProgrammeIn(
        org_id=operator.org.id, code="SH-2026", name="科技创新券 2026", budget_fen=1_000_000,
        max_share_pct=50, valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31),
        notice_days=7))
    listing = service.apply_as_provider(db, lab.principal(db), prog.id, lab.org.id)
    service.review_provider(db, op, listing.id, approve=True, today=date(2026, 11, 1))
    return operator, firm, lab, prog


def assert_balanced(db, programme_id: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    db.expire_all()
    per_txn = db.execute(select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount_fen))
                         .group_by(LedgerEntry.transaction_id)).all()
    assert per_txn and all(total == 0 for _, total in per_txn)
    balances = service.balances(db, programme_id)
    assert sum(balances.values()) == 0
    return balances


def test_a_voucher_from_budget_to_settlement(db) -> None:  # type: ignore[no-untyped-def]
    operator, firm, lab, prog = programme_world(db)
    op = operator.principal(db)
    v = service.issue_voucher(db, op, prog.id, VoucherIn(
        holder_org_id=firm.org.id, face_fen=300_000, valid_until=date(2026, 12, 31)))
    assert v.number.startswith("SH-2026-") and v.balance_fen == 300_000
    fp = firm.principal(db)

    def redeem(amount: int, order: int = 1_000_000, ref: str = "ORDER-1", **kw: object):  # type: ignore[no-untyped-def]
        return service.redeem(db, fp, v.id, RedeemIn(
            provider_org_id=lab.org.id, reference=ref, order_amount_fen=order,
            amount_fen=amount), today=kw.get("today", TODAY))  # type: ignore[arg-type]

    with pytest.raises(errors.Problem, match=r"at most 50 % of an order: 1,000\.00 yuan"):
        redeem(120_000, order=200_000)
    redeem(100_000, order=200_000)
    with pytest.raises(errors.Problem, match="paid for that order already"):
        redeem(10_000, order=200_000)
    with pytest.raises(errors.Problem, match="balance does not cover"):
        redeem(250_000, ref="ORDER-2")
    with pytest.raises(errors.Problem, match="expired on 2026-12-31"):
        redeem(1_000, ref="ORDER-3", today=date(2027, 1, 2))
    balances = assert_balanced(db, prog.id)
    assert balances == {"source": -1_000_000, "funds": 700_000, f"voucher:{v.id}": 200_000,
                        f"provider:{lab.org.id}": 100_000}
    assert service.settle(db, op, prog.id, lab.org.id) == 100_000
    with pytest.raises(errors.Problem, match="nothing is owed"):
        service.settle(db, op, prog.id, lab.org.id)
    service.revoke(db, op, v.id)
    balances = assert_balanced(db, prog.id)
    assert balances == {"source": -1_000_000, "funds": 900_000, f"voucher:{v.id}": 0,
                        f"provider:{lab.org.id}": 0, "settled": 100_000}
    with pytest.raises(errors.Problem, match="revoked"):
        redeem(1_000, ref="ORDER-4")
    db.refresh(prog)
    assert prog.allocated_fen == 100_000  # what was spent stays allocated


def test_the_budget_and_the_listing_hold(db) -> None:  # type: ignore[no-untyped-def]
    operator, firm, lab, prog = programme_world(db)
    op = operator.principal(db)
    service.issue_voucher(db, op, prog.id, VoucherIn(
        holder_org_id=firm.org.id, face_fen=900_000, valid_until=date(2026, 12, 31)))
    with pytest.raises(errors.Problem, match="budget does not cover"):
        service.issue_voucher(db, op, prog.id, VoucherIn(
            holder_org_id=firm.org.id, face_fen=200_000, valid_until=date(2026, 12, 31)))
    with pytest.raises(errors.Problem, match="vouchers go to enterprises"):
        service.issue_voucher(db, op, prog.id, VoucherIn(
            holder_org_id=lab.org.id, face_fen=1_000, valid_until=date(2026, 12, 31)))
    with pytest.raises(errors.Problem) as exc:  # the firm cannot issue itself vouchers
        service.issue_voucher(db, firm.principal(db), prog.id, VoucherIn(
            holder_org_id=firm.org.id, face_fen=1_000, valid_until=date(2026, 12, 31)))
    assert exc.value.status == 403
    v = service.issue_voucher(db, op, prog.id, VoucherIn(
        holder_org_id=firm.org.id, face_fen=100_000, valid_until=date(2026, 12, 31)))
    other = make_account(db, "unlisted@lab.cn")
    with pytest.raises(errors.Problem, match="not listed"):
        service.redeem(db, firm.principal(db), v.id, RedeemIn(
            provider_org_id=other.org.id, reference="X", order_amount_fen=10_000,
            amount_fen=1_000), today=TODAY)
    # a provider approved today is listed only after the 7-day public notice
    late = service.apply_as_provider(db, other.principal(db), prog.id, other.org.id)
    service.review_provider(db, op, late.id, approve=True, today=TODAY)
    with pytest.raises(errors.Problem, match="public-notice period"):
        service.redeem(db, firm.principal(db), v.id, RedeemIn(
            provider_org_id=other.org.id, reference="X", order_amount_fen=10_000,
            amount_fen=1_000), today=TODAY)
    assert_balanced(db, prog.id)


def test_concurrent_redemptions_never_overspend(sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    with sessionmaker_() as db:
        operator, firm, lab, prog = programme_world(db)
        v = service.issue_voucher(db, operator.principal(db), prog.id, VoucherIn(
            holder_org_id=firm.org.id, face_fen=50_000, valid_until=date(2026, 12, 31)))
        fp = firm.principal(db)
    barrier = threading.Barrier(32)

    def attempt(i: int) -> str:
        with sessionmaker_() as db:
            if i < 32:
                barrier.wait()
            try:
                service.redeem(db, fp, v.id, RedeemIn(
                    provider_org_id=lab.org.id, reference=f"ORDER-{i}",
                    order_amount_fen=10_000, amount_fen=700), today=TODAY)
                return "paid"
            except errors.Problem as exc:
                assert exc.status == 409, exc
                return "refused"

    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(attempt, range(200)))
    paid = outcomes.count("paid")
    assert paid == 50_000 // 700  # 71 fit; the other 129 are refused
    with sessionmaker_() as db:
        voucher = service.get_voucher(db, v.id)
        assert voucher.balance_fen == 50_000 - 700 * paid >= 0
        assert db.scalar(select(func.count()).select_from(Redemption)) == paid
        balances = assert_balanced(db, prog.id)
        assert balances[f"voucher:{v.id}"] == voucher.balance_fen
        assert db.scalar(select(func.count()).select_from(LedgerTransaction)) == 2 + paid


def test_applications_claims_and_the_programmes_figures(client, db) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    from helpers import api_token
    from tichub.market.schemas import ApplicationDecisionIn, ApplicationIn

    operator, firm, lab, prog = programme_world(db)
    other = make_account(db, "second@firm.cn", kind=OrgKind.enterprise)
    op = operator.principal(db)
    with pytest.raises(errors.Problem, match="district"):
        service.apply_for_voucher(db, firm.principal(db), prog.id, ApplicationIn(
            org_id=firm.org.id, requested_fen=100_000, district="atlantis", sector="新能源"),
            today=TODAY)
    a1 = service.apply_for_voucher(db, firm.principal(db), prog.id, ApplicationIn(
        org_id=firm.org.id, requested_fen=100_000, district="浦东新区", sector="新能源"),
        today=TODAY)
    assert a1.district == "pudong"
    a2 = service.apply_for_voucher(db, other.principal(db), prog.id, ApplicationIn(
        org_id=other.org.id, requested_fen=80_000, district="jiading", sector="汽车"),
        today=TODAY)
    with pytest.raises(errors.Problem, match="applied to the programme already"):
        service.apply_for_voucher(db, firm.principal(db), prog.id, ApplicationIn(
            org_id=firm.org.id, requested_fen=1, district="pudong", sector="x"), today=TODAY)
    approved = service.decide_application(db, op, a1.id, ApplicationDecisionIn(
        approve=True, face_fen=60_000))
    assert approved.status.value == "approved" and approved.voucher_id
    service.decide_application(db, op, a2.id, ApplicationDecisionIn(approve=False))
    service.redeem(db, firm.principal(db), approved.voucher_id, RedeemIn(
        provider_org_id=lab.org.id, reference="ORDER-9", order_amount_fen=100_000,
        amount_fen=40_000), today=TODAY)
    assert service.claim(db, lab.principal(db), prog.id, lab.org.id) == 40_000
    service.settle(db, op, prog.id, lab.org.id)
    figures = service.programme_figures(db, op, prog.id)
    assert figures == [{"district": "pudong", "sector": "新能源", "vouchers": 1,
                        "issued_fen": 60_000, "redeemed_fen": 40_000, "settled_fen": 40_000}]
    head = {"Authorization": "Bearer " + api_token(db, operator, ["market:write"])}
    sheet = client.get(f"/api/vouchers/programmes/{prog.id}/figures.xlsx", headers=head)
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(  # type: ignore[union-attr]
        values_only=True))
    assert rows[0][:3] == ("district", "sector", "vouchers") and rows[1][3] == 60_000
    firm_head = {"Authorization": "Bearer " + api_token(db, firm, ["market:write"])}
    assert client.get(f"/api/vouchers/programmes/{prog.id}/figures",
                      headers=firm_head).status_code == 403
    assert_balanced(db, prog.id)


def test_two_approvals_of_one_application_issue_one_voucher(sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    from tichub.market.models import Voucher
    from tichub.market.schemas import ApplicationDecisionIn, ApplicationIn

    with sessionmaker_() as db:
        operator, firm, _lab, prog = programme_world(db)
        application = service.apply_for_voucher(db, firm.principal(db), prog.id, ApplicationIn(
            org_id=firm.org.id, requested_fen=300_000, district="pudong", sector="新能源"),
            today=TODAY)
        op = operator.principal(db)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def approve() -> None:
        with sessionmaker_() as db:
            barrier.wait()
            try:
                service.decide_application(db, op, application.id,
                                           ApplicationDecisionIn(approve=True))
                results.append("issued")
            except errors.Problem as exc:
                assert exc.status == 409, exc
                results.append("refused")

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["issued", "refused"]
    with sessionmaker_() as db:
        assert db.scalar(select(func.count()).select_from(Voucher)) == 1
        assert service.get_programme(db, prog.id).allocated_fen == 300_000
        assert_balanced(db, prog.id)
