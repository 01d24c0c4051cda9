"""Sign-in throttling: growing delays, then a temporary lock, per account and per client
address. The counts live in the database (table sign_in_failures) so that every server
process and thread sees the same ones. A refused attempt is answered at once with 429 and
Retry-After: the server never sleeps, so waiting costs an attacker time and us nothing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tichub.core.errors import Problem
from tichub.core.models import SignInFailures
from tichub.core.security import sha256_hex


@dataclass(frozen=True)
class Policy:
    free: int  # failures answered without any wait
    lock_at: int  # failures that lock the key
    lock_for: timedelta
    max_delay: timedelta

    def delay(self, failures: int) -> timedelta:
        """The wait after ``failures`` failures: none, then 1 s doubling up to the cap."""
        if failures < self.free:
            return timedelta(0)
        return min(timedelta(seconds=2 ** min(failures - self.free, 30)), self.max_delay)


# An account: three typos pass; then 1, 2, 4 … 60 s; the tenth failure locks it for
# 15 minutes, and each failure after the lock locks it again. About ten guesses in the
# first two minutes, then four an hour.
ACCOUNT = Policy(free=3, lock_at=10, lock_for=timedelta(minutes=15),
                 max_delay=timedelta(seconds=60))
# An address is shared by everyone behind one office's NAT, so it gets more room before
# it slows down: it only stops one machine from spraying guesses over many accounts.
ADDRESS = Policy(free=20, lock_at=100, lock_for=timedelta(minutes=15),
                 max_delay=timedelta(seconds=60))
# A key without a failure for this long starts again from nothing; its row is deleted.
FORGET_AFTER = timedelta(hours=1)


@dataclass
class Throttled(Problem):
    """A sign-in refused before its password was looked at."""

    retry_after: int = 1
    locked: str = ""  # "account" or "address" when locked, "" while only delayed


def account_key(email: str) -> str:
    return "account:" + sha256_hex(email.strip().lower())


def address_key(address: str) -> str:
    return "address:" + sha256_hex(address)


def check(db: Session, now: datetime, email: str, address: str) -> None:
    """Raises Throttled when the account or the address must still wait."""
    keys = {account_key(email): ("account", ACCOUNT), address_key(address): ("address", ADDRESS)}
    rows = db.scalars(select(SignInFailures).where(SignInFailures.key.in_(keys)))
    worst: Throttled | None = None
    for row in rows:
        if row.last_failure_at < now - FORGET_AFTER:
            continue
        kind, policy = keys[row.key]
        if row.locked_until and row.locked_until > now:
            wait, locked = row.locked_until - now, kind
        else:
            wait, locked = row.last_failure_at + policy.delay(row.failures) - now, ""
        if wait <= timedelta(0):
            continue
        seconds = math.ceil(wait.total_seconds())
        if worst is None or (locked, seconds) > (worst.locked, worst.retry_after):
            worst = _throttled(seconds, locked)
    if worst is not None:
        raise worst


def _throttled(seconds: int, locked: str) -> Throttled:
    if locked == "account":
        detail = (f"this account is locked for {math.ceil(seconds / 60)} minutes "
                  "after repeated failed sign-ins")
    elif locked == "address":
        detail = (f"too many failed sign-ins from this address; try again in "
                  f"{math.ceil(seconds / 60)} minutes")
    else:
        detail = f"too many failed sign-ins; try again in {seconds} seconds"
    return Throttled(429, "Too many sign-in attempts", detail, retry_after=seconds,
                     locked=locked)


def record_failure(db: Session, now: datetime, email: str, address: str) -> bool:
    """Counts a failure against both keys, in the caller's transaction; True when it
    locked the account. The count is incremented in SQL, so concurrent failures from
    several processes all count."""
    locked_account = False
    for key, policy in ((account_key(email), ACCOUNT), (address_key(address), ADDRESS)):
        failures = _increment(db, key, now)
        if failures >= policy.lock_at:
            db.execute(update(SignInFailures).where(SignInFailures.key == key)
                       .values(locked_until=now + policy.lock_for))
            locked_account = locked_account or policy is ACCOUNT
    # Bounded: a row lives at most FORGET_AFTER past its last failure.
    db.execute(delete(SignInFailures).where(SignInFailures.last_failure_at < now - FORGET_AFTER))
    return locked_account


def _increment(db: Session, key: str, now: datetime) -> int:
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    table = SignInFailures.__table__
    stmt = dialect.insert(table).values(key=key, failures=1, last_failure_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"failures": case((table.c.last_failure_at < now - FORGET_AFTER, 1),
                               else_=table.c.failures + 1),
              "last_failure_at": now},
    ).returning(table.c.failures)
    return int(db.execute(stmt).scalar_one())


def forget_account(db: Session, email: str) -> None:
    """After a successful sign-in the account starts again; the address does not, or one
    good account would wash an address's failures on others away."""
    db.execute(delete(SignInFailures).where(SignInFailures.key == account_key(email)))
