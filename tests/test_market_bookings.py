"""Shared instruments: the owner's rules, and no double booking however requests race."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from helpers import Account, api_token, make_account
from tichub.core import errors
from tichub.core.models import OrgKind
from tichub.market import service
from tichub.market.models import Booking, BookingStatus
from tichub.market.schemas import BookingIn, InstrumentIn

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 12, day, hour, 0, tzinfo=UTC)


def instrument(db, owner: Account, **rules) -> str:  # type: ignore[no-untyped-def]
    data = {"org_id": owner.org.id, "name": "电感耦合等离子体质谱仪", "kind": "ICP-MS",
            "maker": "Agilent", "model": "7900", "hourly_rate_fen": 60_000,
            "daily_rate_fen": 1_000_000, "calibration_due": date.today() + timedelta(days=365),
            **rules}
    return service.add_instrument(db, owner.principal(db), InstrumentIn(**data)).id


def booking(org: Account, start: datetime, end: datetime, **extra: str) -> BookingIn:
    return BookingIn(org_id=org.org.id, starts_at=start, ends_at=end, **extra)


def test_rules_of_the_owner(db) -> None:  # type: ignore[no-untyped-def]
    owner = make_account(db, "owner@lab.cn")
    firm = make_account(db, "user@firm.cn", kind=OrgKind.enterprise)
    p = firm.principal(db)
    inst = instrument(db, owner, min_lead_hours=24, max_advance_days=30,
                      quota_hours_per_month=10)

    def refused(data: BookingIn, status: int, text: str) -> None:
        with pytest.raises(errors.Problem) as exc:
            service.book(db, p, inst, data, now=NOW)
        assert exc.value.status == status and text in str(exc.value)

    refused(booking(firm, at(1, 12), at(1, 14)), 422, "at least 24 hours ahead")
    refused(booking(firm, NOW + timedelta(days=40), NOW + timedelta(days=40, hours=1)), 422,
            "at most 30 days ahead")
    b = service.book(db, p, inst, booking(firm, at(3, 9), at(3, 17), on_behalf_of="王工"),
                     now=NOW)
    assert (b.status, b.price_fen, b.on_behalf_of) == (BookingStatus.confirmed, 480_000, "王工")
    refused(booking(firm, at(4, 9), at(4, 12)), 409, "quota is 10 hours a month; 8 are booked")
    refused(booking(firm, at(3, 16), at(3, 18)), 409, "already booked")
    # a day's rental costs the daily rate, not 24 hours
    assert service.price_of(service.get_instrument(db, inst), at(5, 0), at(6, 0)) == 1_000_000
    # cancelling frees the slot; a late cancellation is recorded as late
    service.cancel(db, p, b.id, now=at(2, 20))
    again = service.book(db, p, inst, booking(firm, at(3, 10), at(3, 12)), now=NOW)
    assert again.status is BookingStatus.confirmed


def test_overdue_calibration_and_owner_approval(db) -> None:  # type: ignore[no-untyped-def]
    owner = make_account(db, "owner@lab.cn")
    firm = make_account(db, "user@firm.cn", kind=OrgKind.enterprise)
    p = firm.principal(db)
    stale = instrument(db, owner, calibration_due=date(2026, 12, 2))
    with pytest.raises(errors.Problem, match="calibration is due 2026-12-02"):
        service.book(db, p, stale, booking(firm, at(3, 9), at(3, 10)), now=NOW)
    checked = instrument(db, owner, auto_approve=False)
    b = service.book(db, p, checked, booking(firm, at(3, 9), at(3, 10)), now=NOW)
    assert b.status is BookingStatus.requested
    with pytest.raises(errors.Problem) as exc:  # the booker cannot approve itself
        service.decide(db, p, b.id, approve=True)
    assert exc.value.status == 403
    assert service.decide(db, owner.principal(db), b.id, True).status is BookingStatus.confirmed


def test_no_shows_bar_the_booker(db) -> None:  # type: ignore[no-untyped-def]
    owner = make_account(db, "owner@lab.cn")
    firm = make_account(db, "user@firm.cn", kind=OrgKind.enterprise)
    p, o = firm.principal(db), owner.principal(db)
    inst = instrument(db, owner, no_show_limit=2, bar_days=14)
    for day in (2, 3):
        b = service.book(db, p, inst, booking(firm, at(day, 9), at(day, 10)), now=NOW)
        service.record_outcome(db, o, b.id, "no_show", now=at(day, 11))
    with pytest.raises(errors.Problem, match="may book this owner's instruments again from "
                                             "2026-12-17"):
        service.book(db, p, inst, booking(firm, at(20, 9), at(20, 10)), now=at(4, 8))
    later = service.book(db, p, inst, booking(firm, at(20, 9), at(20, 10)), now=at(18, 8))
    assert later.status is BookingStatus.confirmed


def test_share_kept_for_enterprises(db) -> None:  # type: ignore[no-untyped-def]
    owner = make_account(db, "owner@lab.cn")
    lab = make_account(db, "other@lab.cn")
    firm = make_account(db, "user@firm.cn", kind=OrgKind.enterprise)
    # 1 bookable hour a day, 31 in December; 90 % kept for enterprises: 3.1 h for others
    inst = instrument(db, owner, enterprise_share_pct=90, hours_per_day=1)
    service.book(db, lab.principal(db), inst, booking(lab, at(2, 9), at(2, 12)), now=NOW)
    with pytest.raises(errors.Problem, match="kept for enterprises"):
        service.book(db, lab.principal(db), inst, booking(lab, at(3, 9), at(3, 10)), now=NOW)
    service.book(db, firm.principal(db), inst, booking(firm, at(3, 9), at(3, 17)), now=NOW)


@pytest.mark.parametrize("attempts", [200])
def test_concurrent_attempts_on_one_slot_one_wins(sessionmaker_, attempts: int) -> None:  # type: ignore[no-untyped-def]
    with sessionmaker_() as db:
        owner = make_account(db, "owner@lab.cn")
        firms = [make_account(db, f"u{i}@firm.cn", kind=OrgKind.enterprise)
                 for i in range(4)]
        inst = instrument(db, owner)
        principals = [f.principal(db) for f in firms]
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    barrier = threading.Barrier(min(attempts, 32))

    def attempt(i: int) -> str:
        # overlapping, not identical, requests: each holds part of the others' time
        s = start + timedelta(minutes=i % 30)
        data = BookingIn(org_id=firms[i % 4].org.id, starts_at=s, ends_at=s + timedelta(hours=1))
        with sessionmaker_() as db:
            if i < 32:
                barrier.wait()
            try:
                service.book(db, principals[i % 4], inst, data)
                return "booked"
            except errors.Problem as exc:
                assert exc.status == 409, exc
                return "refused"

    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(attempt, range(attempts)))
    assert outcomes.count("booked") == 1 and outcomes.count("refused") == attempts - 1
    with sessionmaker_() as db:
        assert db.scalar(select(func.count()).select_from(Booking)) == 1


def test_calendar_shows_others_only_busy_slots(client, db) -> None:  # type: ignore[no-untyped-def]
    owner = make_account(db, "owner@lab.cn")
    firm = make_account(db, "user@firm.cn", kind=OrgKind.enterprise)
    rival = make_account(db, "rival@firm.cn", kind=OrgKind.enterprise)
    inst = instrument(db, owner)
    head = {"Authorization": "Bearer " + api_token(db, firm, ["market:write"])}
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=9, minute=0, second=0,
                                                             microsecond=0)
    r = client.post(f"/api/instruments/{inst}/bookings", headers=head, json={
        "org_id": firm.org.id, "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(), "purpose": "秘密新品"})
    assert r.status_code == 201 and r.json()["price_fen"] == 120_000
    r = client.post(f"/api/instruments/{inst}/bookings", headers=head, json={
        "org_id": firm.org.id, "starts_at": (start + timedelta(hours=1)).isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat()})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "starts_at"
    params = {"start": (start - timedelta(days=1)).isoformat(),
              "end": (start + timedelta(days=1)).isoformat()}
    seen = client.get(f"/api/instruments/{inst}/calendar", params=params, headers={
        "Authorization": "Bearer " + api_token(db, rival, ["market:write"])}).json()
    assert [s["status"] for s in seen] == ["busy"] and seen[0]["purpose"] is None
    own = client.get(f"/api/instruments/{inst}/calendar", params=params, headers=head).json()
    assert own[0]["purpose"] == "秘密新品"
    bad = client.post(f"/api/instruments/{inst}/bookings", headers=head, json={
        "org_id": firm.org.id, "starts_at": "2026-12-01T10:00", "ends_at": "2026-12-01T11:00"})
    assert bad.status_code == 422 and "with its zone" in bad.text
