"""The rules run at registration, on the records just prepared, in the registration's own
transaction. Only the rules that look at the new records run here (``Rule.incremental``),
each through indexed queries restricted to them; the rules over the whole registry (daily
volume, duplicate vectors, trailing digits, prices) wait for the batch run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from tichub.reports.models import EvidenceItem, EvidenceResult, EvidenceSampling
from tichub.supervision.signals import queries, rules, service

ITEM_RULES = ("INSTRUMENT_UNCALIBRATED", "INSTRUMENT_OUT_OF_SERVICE",
              "INSTRUMENT_NOT_REGISTERED", "INSTRUMENT_OVERLAP", "INSTRUMENT_OVER_CAPACITY",
              "ISSUED_BEFORE_TESTED", "TESTED_BEFORE_RECEIPT", "STANDARD_NOT_IN_FORCE")
STAFF_RULES = ("STAFF_NOT_EMPLOYED",)
SAMPLING_RULES = ("STAFF_TRAVEL",)
RESULT_RULES = ("PT_NO_CORRECTION",)
RECORD_RULES = ("SIGNATORY_INVALID", "NOT_SIGNED_BY_ISSUER")


_IDS: Any = bindparam("ids", expanding=True)
_KINDS = select(exists().where(EvidenceItem.record_id.in_(_IDS)),
                exists().where(EvidenceSampling.record_id.in_(_IDS)),
                exists().where(EvidenceResult.record_id.in_(_IDS)))


def check(db: Session, record_ids: Sequence[str]) -> int:
    """Raises the signals the new records' evidence shows; returns how many. Does not
    commit: the caller's transaction holds the records and their signals together."""
    if not record_ids:
        return 0
    ids = list(record_ids)
    # One round trip says which evidence the new records carry; rules for absent kinds
    # are skipped.
    has_items, has_samplings, has_results = db.connection().execute(_KINDS, {"ids": ids}).one()
    codes = list(RECORD_RULES)
    if has_items:
        codes += ITEM_RULES
    if has_items or has_samplings:
        codes += STAFF_RULES
    if has_samplings:
        codes += SAMPLING_RULES
    if has_results:
        codes += RESULT_RULES
    ctx = queries.Ctx(db, ids)
    new = 0
    for code in dict.fromkeys(codes):
        assert rules.rule(code).incremental
        new += service.save_hits(db, queries.QUERIES[code](ctx), "registration")
    return new
