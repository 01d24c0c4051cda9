"""Sign-in throttling: growing delays and a lock per account and per client address, kept
in the database so that every server process shares them; failed and successful sign-ins
in the audit log. Time passes by moving the stored failures back, never by sleeping."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpers import PASSWORD, csrf_from, make_account
from tichub.app import create_app
from tichub.core import throttle
from tichub.core.ids import utcnow
from tichub.core.models import AuditEvent, SignInFailures

WRONG = "not the password at all"


def _post(client: TestClient, email: str, password: str, lang: str = "en") -> object:
    page = client.get(f"/login?lang={lang}")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_from(page.text)},
                       follow_redirects=False)


def _age(db: Session, by: timedelta) -> None:
    """As if ``by`` had passed since every stored failure (and lock)."""
    for row in db.scalars(select(SignInFailures)):
        row.last_failure_at -= by
        if row.locked_until is not None:
            row.locked_until -= by
    db.commit()


def test_an_account_waits_longer_after_each_failure_then_locks(client, db) -> None:  # type: ignore[no-untyped-def]
    make_account(db, "a@example.com")
    waits = []
    for n in range(1, 10):
        r = _post(client, "a@example.com", WRONG)
        assert r.status_code == 401, n
        if n >= 5:  # 4 s and more: a probe right after lands inside the wait
            # Even the right password waits: it is not looked at.
            probe = _post(client, "a@example.com", PASSWORD)
            assert probe.status_code == 429
            waits.append(int(probe.headers["retry-after"]))
            assert "Too many failed sign-ins. Try again in" in probe.text
        _age(db, timedelta(seconds=61))
    assert waits == sorted(set(waits)) and waits[-1] <= 60, waits  # growing, capped

    assert _post(client, "a@example.com", WRONG).status_code == 401  # the tenth: locked
    r = _post(client, "a@example.com", PASSWORD)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 60
    assert "This account is locked for 15 minutes" in r.text
    _age(db, timedelta(minutes=10))
    assert _post(client, "a@example.com", PASSWORD).status_code == 429  # still locked

    _age(db, timedelta(minutes=6))
    assert _post(client, "a@example.com", PASSWORD).status_code == 303
    # A success starts the account again: a typo right after passes.
    assert _post(client, "a@example.com", WRONG).status_code == 401
    assert _post(client, "a@example.com", PASSWORD).status_code == 303


def test_an_unknown_account_is_throttled_like_a_known_one(client, db) -> None:  # type: ignore[no-untyped-def]
    # Otherwise the answers would tell which e-mails have accounts.
    for _ in range(10):
        assert _post(client, "nobody@example.com", WRONG).status_code == 401
        _age(db, timedelta(seconds=61))
    r = _post(client, "nobody@example.com", WRONG)
    assert r.status_code == 429 and "This account is locked" in r.text


def test_the_lock_message_is_in_the_users_language(client, db) -> None:  # type: ignore[no-untyped-def]
    make_account(db, "a@example.com")
    for _ in range(throttle.ACCOUNT.lock_at):
        throttle.record_failure(db, utcnow(), "a@example.com", "elsewhere")
    db.commit()
    r = _post(client, "a@example.com", PASSWORD, lang="zh")
    assert r.status_code == 429
    assert "该账户已锁定 15 分钟" in r.text and "即使密码正确也无法登录" in r.text


def test_one_address_guessing_over_many_accounts_is_slowed(app, client, db) -> None:  # type: ignore[no-untyped-def]
    make_account(db, "a@example.com")
    for i in range(throttle.ADDRESS.free + 2):
        assert _post(client, f"guess{i}@example.com", WRONG).status_code == 401
        _age(db, timedelta(seconds=61))
    _age(db, timedelta(seconds=-61))  # back to just after the last failure
    r = _post(client, "a@example.com", PASSWORD)
    assert r.status_code == 429 and 0 < int(r.headers["retry-after"]) <= 60
    # Another address signs in to the same account meanwhile.
    with TestClient(app, client=("192.0.2.7", 40000)) as other:
        assert _post(other, "a@example.com", PASSWORD).status_code == 303


def test_an_address_locks_after_many_failures(db) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    for i in range(throttle.ADDRESS.lock_at):
        throttle.record_failure(db, now, f"user{i}@example.com", "198.51.100.9")
    db.commit()
    try:
        throttle.check(db, now, "someone-else@example.com", "198.51.100.9")
    except throttle.Throttled as exc:
        assert exc.locked == "address" and exc.retry_after == 15 * 60
    else:
        raise AssertionError("the address was not locked")
    throttle.check(db, now, "someone-else@example.com", "198.51.100.10")  # others pass


def test_the_counts_are_shared_by_every_server_process(settings, client, db) -> None:  # type: ignore[no-untyped-def]
    make_account(db, "a@example.com")
    for _ in range(throttle.ACCOUNT.lock_at):
        assert _post(client, "a@example.com", WRONG).status_code == 401
        _age(db, timedelta(seconds=61))
    second = create_app(settings)  # another process's application, same database
    try:
        with TestClient(second, client=("192.0.2.8", 40000)) as c:
            assert _post(c, "a@example.com", PASSWORD).status_code == 429
    finally:
        second.state.engine.dispose()


def test_old_failures_are_forgotten_and_their_rows_pruned(client, db) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        assert _post(client, f"old{i}@example.com", WRONG).status_code == 401
    _age(db, throttle.FORGET_AFTER + timedelta(minutes=1))
    assert _post(client, "new@example.com", WRONG).status_code == 401
    # Only the newest failure's account and address rows are left.
    assert db.scalar(select(SignInFailures.failures).where(
        SignInFailures.key == throttle.address_key("testclient"))) == 1
    assert len(db.scalars(select(SignInFailures)).all()) == 2


def test_sign_ins_are_audited_without_passwords_or_typed_emails(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "a@example.com")
    assert _post(client, "a@example.com", WRONG).status_code == 401
    assert _post(client, "nobody@example.com", "my secret pass").status_code == 401
    assert _post(client, "a@example.com", PASSWORD).status_code == 303

    events = db.scalars(select(AuditEvent).where(AuditEvent.action.in_(
        ["sign_in.failed", "session.started"])).order_by(AuditEvent.at, AuditEvent.id)).all()
    assert [e.action for e in events] == ["sign_in.failed", "sign_in.failed", "session.started"]
    known, unknown, good = events
    assert known.object_id == acc.user.id and unknown.object_id == ""
    assert set(known.data) == set(unknown.data) == {"client", "email_sha256", "locked"}
    assert known.data["client"] == "testclient" and good.data == {"client": "testclient"}
    assert good.actor_user_id == acc.user.id
    text = repr([(e.data, e.summary) for e in events])
    for secret in (WRONG, "my secret pass", PASSWORD, "nobody@example.com"):
        assert secret not in text
