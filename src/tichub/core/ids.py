"""Identifiers and times: ULIDs for rows, timezone-aware UTC for every instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from ulid import ULID


def new_id() -> str:
    return str(ULID())


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return utcnow().date()


# The platform's local time: deadlines, months and dates as people here mean them.
BEIJING = timezone(timedelta(hours=8))
