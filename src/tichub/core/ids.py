"""Identifiers and times: ULIDs for rows, timezone-aware UTC for every instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from ulid import ULID


def new_id() -> str:
    return str(ULID())


def utcnow() -> datetime:
    return datetime.now(UTC)


# The platform's local time: deadlines, months and dates as people here mean them.
BEIJING = timezone(timedelta(hours=8))


def today() -> date:
    """Today's date as people here mean it: in Beijing, whatever the server's zone. (From
    16:00 UTC the UTC date is still yesterday's: a report dated today would be "in the
    future" and a sample received today "after" it.)"""
    return datetime.now(BEIJING).date()
