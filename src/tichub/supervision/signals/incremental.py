"""The rules run at registration, on the records just prepared, in the registration's own
transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session


def check(db: Session, record_ids: Sequence[str]) -> int:
    """Raises the signals the new records' evidence shows; returns how many.
    Placeholder until the signals branch lands: raises none."""
    return 0
