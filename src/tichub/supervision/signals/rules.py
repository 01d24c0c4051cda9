"""The catalogue of signal rules: each rule's code, severity, the legal basis it points to,
its plain explanation, and the thresholds it uses. No database here: the SQL that applies
each rule is in ``queries.py``; the arithmetic that SQL cannot do portably is in ``stats.py``.

Thresholds, decided and stated once (the rules page and the tests read them from here):

- A calibration or verification is valid from ``valid_from`` to ``valid_until`` inclusive: an
  instrument whose calibration expires on the test date may still be used that day. An
  out-of-service period covers ``valid_from`` to ``valid_until`` inclusive (open-ended if
  ``valid_until`` is empty). Test days are Beijing dates of the item's start and end.
- An instrument with ``hours_per_test`` runs one test at a time: two items on it that overlap
  in time (one starting strictly before the other ends; touching ends are fine), or an item
  overlapping a marketplace booking of it by another organisation, are a signal. Per Beijing
  day an instrument may run at most ``tests_per_day`` items, or ``24 / hours_per_test``.
- A person may not be in two places further apart than ``TRAVEL_SPEED_KMH`` allows in the
  time between them (great-circle distance; exactly at the limit is not a signal; distances
  under ``TRAVEL_MIN_KM`` are GPS noise). Events more than ``TRAVEL_WINDOW_HOURS`` apart are
  not compared (in a city no trip takes that long).
- A lab's daily volume: items started on one Beijing day beyond the sum of its registered
  instruments' daily capacities, or beyond ``TESTS_PER_TESTER_DAY`` per tester employed that
  day. Only for labs that keep the register (some instrument capacity, some tester).
- A result vector is a record's set of (parameter, value as reported, unit) with at least
  ``DUPLICATE_MIN_RESULTS`` entries; the same vector on two issued records (different
  samples) is a signal on the later one.
- Trailing digits: a lab's results with at least ``DIGITS_MIN_SIGNIFICANT`` significant
  digits, at least ``DIGITS_MIN_VALUES`` of them, tested for uniform last digits with
  Pearson's chi-square (9 degrees of freedom); a signal when p < ``DIGITS_ALPHA`` (the false
  positive rate per lab on honest data).
- PT: results for a parameter in the ``PT_WINDOW_DAYS`` after the publication of the lab's
  unsatisfactory PT result in it, with no corrective action recorded before the issue date.
- Price: a listing, or an agreed order quoted on a company's request (its amount divided
  by its quantity: a sample's price, as a listing's), priced strictly below ``PRICE_RATIO``
  of the median of at least ``PRICE_MIN_OFFERS`` such prices for the same standard (active
  listings and agreed orders together; orders placed from a listing repeat its price and
  are left out). A multi-standard listing or order counts once under each of its standards.
- Signatories: only checked for institutions that keep a staff register (some staff row).
  A signatory whose ``authorised_for`` names standards (entries that are parameters do not
  restrict by standard) must cover at least one of the record's standards, compared by
  key (``registry/standards.py``: "GB4943.1—2022" is "GB 4943.1"; a part is not its
  whole); a record naming no standard is not checked for that.
- Standards in force: each evidence item's standard on its start day; for a record whose
  items name none, its printed ``standards`` on its first test day (``tested_from``, else
  ``tested_to``; a record stating neither is not checked).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from tichub.core.messages import Msg
from tichub.supervision.models import Severity

TRAVEL_SPEED_KMH = 60.0
TRAVEL_MIN_KM = 1.0
TRAVEL_WINDOW_HOURS = 6
TESTS_PER_TESTER_DAY = 20
DUPLICATE_MIN_RESULTS = 3
DIGITS_MIN_SIGNIFICANT = 3
DIGITS_MIN_VALUES = 50
DIGITS_ALPHA = 1e-4
PT_WINDOW_DAYS = 180
PRICE_RATIO = 0.30
PRICE_MIN_OFFERS = 5


class Basis(enum.StrEnum):
    """The rule a signal points to, as the page names it."""

    order39_art13 = "order39_art13"  # inaccurate report
    order39_art14 = "order39_art14"  # false report
    cma_rule = "cma_rule"  # the CMA qualification rules (RB/T 214 and the 2021 measures)
    cnas_rule = "cnas_rule"  # CNAS-CL01 / CNAS-RL02


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    basis: Basis
    title: Msg
    explanation: str  # an English template over the signal's params; zh in the catalogue
    deterministic: bool = True  # False: a statistical test with a stated false-positive rate
    incremental: bool = True  # also run at registration

    def explain(self, params: dict[str, Any]) -> Msg:
        shown: dict[str, Any] = {k: v for k, v in params.items()
                                 if isinstance(v, str | int | float)}
        if shown.get("why") in WHY:
            shown["why"] = WHY[shown["why"]]
        return Msg(self.explanation, **shown)


# Why a standard was not in force, in words.
WHY = {"not_yet": Msg("not yet implemented"), "withdrawn": Msg("already withdrawn")}


RULES: tuple[Rule, ...] = (
    Rule("INSTRUMENT_UNCALIBRATED", Severity.high, Basis.order39_art13,
         Msg("Instrument outside its calibration"),
         "Instrument {instrument} was used on {day} with no calibration or verification "
         "valid that day."),
    Rule("INSTRUMENT_OUT_OF_SERVICE", Severity.critical, Basis.order39_art14,
         Msg("Instrument out of service"),
         "Instrument {instrument} was used on {day}, while it was recorded out of service."),
    Rule("INSTRUMENT_NOT_REGISTERED", Severity.medium, Basis.cma_rule,
         Msg("Instrument not in the register"),
         "Instrument {instrument} is named in the evidence but is not in the lab's "
         "equipment register."),
    Rule("INSTRUMENT_OVERLAP", Severity.high, Basis.order39_art14,
         Msg("Instrument in overlapping tests"),
         "Instrument {instrument} runs one test at a time, but was in {count} tests or "
         "bookings at once around {at}."),
    Rule("INSTRUMENT_OVER_CAPACITY", Severity.medium, Basis.order39_art14,
         Msg("Instrument beyond its daily capacity"),
         "Instrument {instrument} ran {count} tests on {day}; its capacity is {capacity}."),
    Rule("STAFF_TRAVEL", Severity.high, Basis.order39_art14,
         Msg("One person in two places"),
         "{person} was at two places {km} km apart within {minutes} minutes "
         "({speed} km/h; at most {limit} km/h is plausible)."),
    Rule("STAFF_NOT_EMPLOYED", Severity.high, Basis.order39_art14,
         Msg("Work outside employment"),
         "{person} tested or sampled on {day}, outside their employment."),
    Rule("SIGNATORY_INVALID", Severity.high, Basis.order39_art14,
         Msg("Signatory not authorised"),
         "{person} signed on {day} but was not an authorised signatory employed that day."),
    Rule("ISSUED_BEFORE_TESTED", Severity.critical, Basis.order39_art14,
         Msg("Issued before testing ended"),
         "The report was issued on {day}, but testing ended on {ended}."),
    Rule("TESTED_BEFORE_RECEIPT", Severity.critical, Basis.order39_art14,
         Msg("Tested before the sample was received"),
         "Testing started on {started}, before the sample was received or taken ({received})."),
    Rule("STANDARD_NOT_IN_FORCE", Severity.medium, Basis.order39_art13,
         Msg("Standard not in force"),
         "{standard} was not in force on the test date {day} ({why})."),
    Rule("LAB_DAILY_VOLUME", Severity.medium, Basis.order39_art14,
         Msg("Daily volume beyond capacity"),
         "The lab started {count} test items on {day}; its instruments allow {instruments} "
         "and its testers {staff}.", incremental=False),
    Rule("DUPLICATE_RESULTS", Severity.high, Basis.order39_art14,
         Msg("Identical results on different samples"),
         "The {count} results are identical to those of report {other}, on a different "
         "sample.", incremental=False),
    Rule("TRAILING_DIGITS", Severity.medium, Basis.order39_art14,
         Msg("Trailing digits beyond chance"),
         "The last digits of {count} results are far from uniform (chi-square {chi2}, "
         "p = {p}; threshold {alpha}).", deterministic=False, incremental=False),
    Rule("PT_NO_CORRECTION", Severity.medium, Basis.cnas_rule,
         Msg("Results after an unsatisfactory PT, no correction"),
         "Results for {parameter} were reported on {day}, {days} days after an unsatisfactory "
         "PT result in it (round {round}), with no corrective action recorded."),
    Rule("PRICE_FAR_BELOW_MEDIAN", Severity.low, Basis.cma_rule,
         Msg("Price far below the market"),
         "The price for {standard} is {price} yuan a sample, under {ratio} % of the median "
         "{median} yuan of {offers} prices (listed offers and agreed orders).",
         incremental=False),
    Rule("NOT_SIGNED_BY_ISSUER", Severity.medium, Basis.order39_art14,
         Msg("Record not signed by its issuer"),
         "The record names this lab as issuer but carries no signature of its keys."),
)

BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}


def rule(code: str) -> Rule:
    return BY_CODE[code]
