"""Every signal rule: a positive case, a negative case and the boundary, through the batch
run and (for the rules that run there) at registration, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from signals_world import bj, edition, event, instrument, item, make_lab, record, run, signals
from signals_world import staff as make_staff
from tichub.market.models import InstrumentEventKind
from tichub.supervision.signals import rules, stats

D = date(2026, 6, 10)


def codes_of(found: list) -> list[tuple[str, str | None]]:  # type: ignore[type-arg]
    return sorted((s.code, s.number) for s in found)


# --- instruments ----------------------------------------------------------------------------

def test_calibration_valid_through_its_last_day(db: Session) -> None:
    lab = make_lab(db, "cal@lab.cn")
    ins = instrument(db, lab, "EQ-1", calibrated=(date(2025, 6, 11), D))
    record(db, lab, "R-on-last-day", issued=D, items=[item(ins, bj(D, 9))])  # boundary
    record(db, lab, "R-day-after", issued=D + timedelta(days=1),
           items=[item(ins, bj(D + timedelta(days=1), 9))])
    record(db, lab, "R-before", issued=D, items=[item(ins, bj(date(2025, 6, 10), 9))])
    found = run(db, "INSTRUMENT_UNCALIBRATED")
    assert codes_of(found) == [("INSTRUMENT_UNCALIBRATED", "R-before"),
                               ("INSTRUMENT_UNCALIBRATED", "R-day-after")]
    after = next(s for s in found if s.number == "R-day-after")
    assert after.params == {"instrument": "EQ-1", "day": "2026-06-11"}
    assert after.evidence[0]["table"] == "report_evidence_items"
    # A rerun raises nothing twice.
    assert len(run(db, "INSTRUMENT_UNCALIBRATED")) == 2


def test_calibration_on_the_beijing_date(db: Session) -> None:
    """A test at 07:00 Beijing is 23:00 UTC the day before: the Beijing date counts."""
    lab = make_lab(db, "tz@lab.cn")
    ins = instrument(db, lab, "EQ-1", calibrated=(D, date(2027, 1, 1)))
    record(db, lab, "R-early-morning", issued=D, items=[item(ins, bj(D, 7))])
    assert run(db, "INSTRUMENT_UNCALIBRATED") == []


def test_out_of_service(db: Session) -> None:
    lab = make_lab(db, "oos@lab.cn")
    ins = instrument(db, lab, "EQ-1")
    event(db, ins, InstrumentEventKind.out_of_service, date(2026, 5, 1), date(2026, 5, 20))
    record(db, lab, "R-in-repair", items=[item(ins, bj(date(2026, 5, 20), 9))])  # last day
    record(db, lab, "R-back", items=[item(ins, bj(date(2026, 5, 21), 9))])  # the day after
    open_ended = instrument(db, lab, "EQ-2")
    event(db, open_ended, InstrumentEventKind.out_of_service, date(2026, 6, 1), None)
    record(db, lab, "R-still-away", items=[item(open_ended, bj(D, 9))])
    assert codes_of(run(db, "INSTRUMENT_OUT_OF_SERVICE")) == [
        ("INSTRUMENT_OUT_OF_SERVICE", "R-in-repair"),
        ("INSTRUMENT_OUT_OF_SERVICE", "R-still-away")]


def test_instrument_not_registered(db: Session) -> None:
    lab = make_lab(db, "reg@lab.cn")
    ins = instrument(db, lab, "EQ-1")
    record(db, lab, "R-unknown", items=[item(None, bj(D), instrument_ref="EQ-999")])
    record(db, lab, "R-known", items=[item(ins, bj(D))])
    record(db, lab, "R-no-instrument", items=[item(None, bj(D))])  # none named: none needed
    found = run(db, "INSTRUMENT_NOT_REGISTERED")
    assert codes_of(found) == [("INSTRUMENT_NOT_REGISTERED", "R-unknown")]
    assert found[0].params == {"instrument": "EQ-999"}


def test_instrument_overlap_and_bookings(db: Session) -> None:
    from helpers import make_account
    from tichub.core.ids import utcnow
    from tichub.market.models import Booking, BookingStatus

    lab = make_lab(db, "ovl@lab.cn")
    ins = instrument(db, lab, "EQ-1", hours_per_test=2)
    record(db, lab, "R-a", items=[item(ins, bj(D, 9), 2)])
    record(db, lab, "R-touching", items=[item(ins, bj(D, 11), 2)])  # boundary: starts at end
    record(db, lab, "R-b", items=[item(ins, bj(D, 14), 2)])
    record(db, lab, "R-c", items=[item(ins, bj(D, 15), 2)])  # overlaps R-b
    other = make_account(db, "renter@co.cn")
    db.add(Booking(instrument_id=ins.id, org_id=other.org.id, starts_at=bj(D, 19),
                   ends_at=bj(D, 22), status=BookingStatus.confirmed, price_fen=100,
                   changed_at=utcnow()))
    db.commit()
    record(db, lab, "R-while-lent", items=[item(ins, bj(D, 20), 1)])
    assert codes_of(run(db, "INSTRUMENT_OVERLAP")) == [
        ("INSTRUMENT_OVERLAP", "R-b"), ("INSTRUMENT_OVERLAP", "R-c"),
        ("INSTRUMENT_OVERLAP", "R-while-lent")]


def test_instrument_over_capacity(db: Session) -> None:
    lab = make_lab(db, "cap@lab.cn")
    per_day = instrument(db, lab, "EQ-1", tests_per_day=3)
    for n in range(3):  # boundary: exactly its capacity
        record(db, lab, f"R-ok-{n}", items=[item(per_day, bj(D, 9 + n), 0.5)])
    day2 = D + timedelta(days=1)
    for n in range(4):
        record(db, lab, f"R-over-{n}", items=[item(per_day, bj(day2, 9 + n), 0.5)])
    found = run(db, "INSTRUMENT_OVER_CAPACITY")
    assert [(s.params["day"], s.params["count"], s.params["capacity"]) for s in found] == [
        ("2026-06-11", 4, 3)]
    slow = instrument(db, lab, "EQ-2", hours_per_test=8)  # three a day at most
    for n in range(3):
        record(db, lab, f"R-slow-{n}", items=[item(slow, bj(D, 1 + n), 0.5)])
    assert len(run(db, "INSTRUMENT_OVER_CAPACITY")) == 1
    record(db, lab, "R-slow-3", items=[item(slow, bj(D, 5), 0.5)])
    assert len(run(db, "INSTRUMENT_OVER_CAPACITY")) == 2


# --- people ---------------------------------------------------------------------------------

def test_travel_speed(db: Session) -> None:
    lab = make_lab(db, "travel@lab.cn")
    wang = make_staff(db, lab, "ST-1", "王强", ["sampler"])
    li = make_staff(db, lab, "ST-2", "李四", ["sampler"])
    # 31.2304 N: 0.1° of latitude is 11.12 km.
    a = {"lat": 31.0, "lon": 121.5}
    far = {"lat": 31.5, "lon": 121.5}  # 55.6 km north
    km = stats.great_circle_km(31.0, 121.5, 31.5, 121.5)
    exact = timedelta(seconds=km / rules.TRAVEL_SPEED_KMH * 3600)
    record(db, lab, "R-w1", samplings=[{"sampler": wang, "at": bj(D, 13), **a}])
    record(db, lab, "R-w2", samplings=[{"sampler": wang, "at": bj(D, 13) + timedelta(
        minutes=30), **far}])
    record(db, lab, "R-l1", samplings=[{"sampler": li, "at": bj(D, 13), **a}])
    record(db, lab, "R-l2", samplings=[{"sampler": li, "at": bj(D, 13) + exact
                                        + timedelta(seconds=1), **far}])
    found = run(db, "STAFF_TRAVEL")
    assert codes_of(found) == [("STAFF_TRAVEL", "R-w2")]
    assert found[0].params["person"] == "王强" and found[0].params["km"] == pytest.approx(
        55.6, abs=0.1)
    assert len(found[0].evidence) == 2


def test_travel_exactly_at_the_limit_is_not_a_signal() -> None:
    km = 60.0
    assert not stats.too_fast(km, 3600, 60, 1)
    assert stats.too_fast(km, 3599, 60, 1)
    assert not stats.too_fast(0.5, 0, 60, 1)  # the same place
    assert stats.too_fast(5, 0, 60, 1)


def test_staff_not_employed(db: Session) -> None:
    lab = make_lab(db, "emp@lab.cn")
    ins = instrument(db, lab, "EQ-1")
    gone = make_staff(db, lab, "ST-1", "赵六", ["tester", "sampler"],
                      employed=(date(2020, 1, 1), D))
    record(db, lab, "R-last-day", items=[item(ins, bj(D, 9), tester=gone)])  # boundary
    record(db, lab, "R-after", issued=D + timedelta(days=3),
           items=[item(ins, bj(D + timedelta(days=1), 9), tester=gone)])
    record(db, lab, "R-sampled-after", issued=D + timedelta(days=3),
           samplings=[{"sampler": gone, "at": bj(D + timedelta(days=2), 9)}])
    assert codes_of(run(db, "STAFF_NOT_EMPLOYED")) == [
        ("STAFF_NOT_EMPLOYED", "R-after"), ("STAFF_NOT_EMPLOYED", "R-sampled-after")]


def test_signatory(db: Session) -> None:
    lab = make_lab(db, "sig@lab.cn")
    make_staff(db, lab, "ST-1", "张明", ["signatory"], employed=(date(2020, 1, 1), D))
    make_staff(db, lab, "ST-2", "李静", ["tester"])
    record(db, lab, "R-ok", issued=D, signatories=["张明"])  # boundary: last day employed
    record(db, lab, "R-left", issued=D + timedelta(days=1), signatories=["张明"])
    record(db, lab, "R-not-signatory", issued=D, signatories=["李静"])
    record(db, lab, "R-stranger", issued=D, signatories=["无名"])
    # A lab without a staff register is not checked.
    other = make_lab(db, "noregister@lab.cn")
    record(db, other, "R-other", issued=D, signatories=["谁"])
    assert codes_of(run(db, "SIGNATORY_INVALID")) == [
        ("SIGNATORY_INVALID", "R-left"), ("SIGNATORY_INVALID", "R-not-signatory"),
        ("SIGNATORY_INVALID", "R-stranger")]


def test_signatory_outside_what_they_are_authorised_for(db: Session) -> None:
    lab = make_lab(db, "scope@lab.cn")
    make_staff(db, lab, "ST-1", "王芳", ["signatory"], authorised_for=["GB 4943.1", "GB 31241"])
    make_staff(db, lab, "ST-2", "赵强", ["signatory"])  # empty: everything
    # The same name twice: one of them covering the standard is enough.
    make_staff(db, lab, "ST-3", "陈晨", ["signatory"], authorised_for=["GB 4943.1"])
    make_staff(db, lab, "ST-4", "陈晨", ["signatory"], authorised_for=["GB/T 36276"])
    make_staff(db, lab, "ST-5", "刘洋", ["signatory"], authorised_for=["GB 4943.1"],
               employed=(date(2020, 1, 1), D - timedelta(days=1)))
    # Numbers written differently have the same key.
    record(db, lab, "R-covered", signatories=["王芳"], standards=["GB4943.1—2022"])
    record(db, lab, "R-one-of-two", signatories=["王芳"],
           standards=["GB 17625.1-2022", "gb 31241-2014"])
    record(db, lab, "R-outside", signatories=["王芳"], standards=["GB 17625.1-2022"])
    record(db, lab, "R-by-staff-no", signatories=["ST-1"], standards=["IEC 62133-2:2017"])
    record(db, lab, "R-part-is-not-the-whole", signatories=["王芳"],
           standards=["GB 4943.2-2022"])
    record(db, lab, "R-unrestricted", signatories=["赵强"], standards=["GB 17625.1-2022"])
    record(db, lab, "R-same-name", signatories=["陈晨"], standards=["GB/T 36276-2023"])
    record(db, lab, "R-no-standards", signatories=["王芳"])  # nothing to compare with
    # Authorised for parameters only: not restricted by standard.
    make_staff(db, lab, "ST-6", "孙丽", ["signatory"], authorised_for=["铅", "镉"])
    record(db, lab, "R-parameters-only", signatories=["孙丽"], standards=["GB 1-1999"])
    record(db, lab, "R-left-and-outside", signatories=["刘洋"], standards=["GB 1-1999"])
    found = run(db, "SIGNATORY_INVALID")
    assert codes_of(found) == [
        ("SIGNATORY_INVALID", "R-by-staff-no"), ("SIGNATORY_INVALID", "R-left-and-outside"),
        ("SIGNATORY_INVALID", "R-outside"), ("SIGNATORY_INVALID", "R-part-is-not-the-whole")]
    outside = next(s for s in found if s.number == "R-outside")
    assert outside.params == {"person": "王芳", "day": D.isoformat()}
    assert outside.evidence[0]["also"]["table"] == "staff"
    # One record, one signal: a second signatory out of scope adds evidence, not a signal.
    record(db, lab, "R-two-names", signatories=["王芳", "陈晨", "无名"],
           standards=["GB 17625.1-2022"])
    two = next(s for s in run(db, "SIGNATORY_INVALID") if s.number == "R-two-names")
    assert sorted(e["value"] for e in two.evidence) == ["无名", "王芳", "陈晨"]
    # At registration the same check runs on the new record alone.
    record(db, lab, "R-new-outside", signatories=["王芳"], standards=["GB 17625.1-2022"],
           check=True)
    record(db, lab, "R-new-covered", signatories=["王芳"], standards=["GB 31241-2022"],
           check=True)
    new = [(s.number, s.source) for s in signals(db, "SIGNATORY_INVALID")
           if s.number and s.number.startswith("R-new")]
    assert new == [("R-new-outside", "registration")]


# --- dates ----------------------------------------------------------------------------------

def test_issued_before_testing_ended(db: Session) -> None:
    lab = make_lab(db, "dates@lab.cn")
    ins = instrument(db, lab, "EQ-1")
    record(db, lab, "R-same-day", issued=D, items=[item(ins, bj(D, 9), 10)])  # ends 19:00
    record(db, lab, "R-late", issued=D, items=[item(ins, bj(D, 20), 5)])  # ends 01:00 next
    assert codes_of(run(db, "ISSUED_BEFORE_TESTED")) == [("ISSUED_BEFORE_TESTED", "R-late")]


def test_tested_before_receipt(db: Session) -> None:
    lab = make_lab(db, "receipt@lab.cn")
    ins = instrument(db, lab, "EQ-1")
    record(db, lab, "R-received-same-day", received=D, items=[item(ins, bj(D, 9))])
    record(db, lab, "R-before", received=D, items=[item(ins, bj(D - timedelta(days=1), 9))])
    record(db, lab, "R-sampled-later", items=[item(ins, bj(D, 9))],
           samplings=[{"at": bj(D, 10)}])
    record(db, lab, "R-sampled-first", items=[item(ins, bj(D, 9))],
           samplings=[{"at": bj(D, 9)}])  # boundary: sampled at the very start
    assert codes_of(run(db, "TESTED_BEFORE_RECEIPT")) == [
        ("TESTED_BEFORE_RECEIPT", "R-before"), ("TESTED_BEFORE_RECEIPT", "R-sampled-later")]


def test_standard_not_in_force(db: Session) -> None:
    lab = make_lab(db, "std@lab.cn")
    ins = instrument(db, lab, "EQ-1")
    # Numbers of no real standard: the curated editions the migration loads hold the real ones.
    edition(db, "GB 99901.1-2011", date(2012, 12, 1), D)
    edition(db, "GB 99901.1-2022", D, None)
    old, new = "GB 99901.1-2011", "GB 99901.1-2022"
    yesterday = D - timedelta(days=1)
    record(db, lab, "R-old-last-day", items=[item(ins, bj(yesterday), standard=old)])
    record(db, lab, "R-old-withdrawn", items=[item(ins, bj(D), standard=old)])
    record(db, lab, "R-new-first-day", items=[item(ins, bj(D), standard=new)])
    record(db, lab, "R-new-early", items=[item(ins, bj(yesterday), standard=new)])
    record(db, lab, "R-unknown", items=[item(ins, bj(D), standard="GB 1-1999")])
    found = run(db, "STANDARD_NOT_IN_FORCE")
    assert codes_of(found) == [("STANDARD_NOT_IN_FORCE", "R-new-early"),
                               ("STANDARD_NOT_IN_FORCE", "R-old-withdrawn")]
    assert {s.params["why"] for s in found} == {"not_yet", "withdrawn"}


def test_standard_not_in_force_from_the_records_public_standards(db: Session) -> None:
    """Items that name no standard: the record's printed standards against its test dates."""
    lab = make_lab(db, "pubstd@lab.cn")
    ins = instrument(db, lab, "EQ-1")
    edition(db, "GB 99902.1-2011", date(2012, 12, 1), D)
    edition(db, "GB 99902.1-2022", D, None)
    old, new = "GB 99902.1-2011", "GB 99902.1-2022"
    yesterday = D - timedelta(days=1)
    record(db, lab, "R-pub-old-last-day", standards=[old], tested=(yesterday, D))  # boundary
    record(db, lab, "R-pub-old-withdrawn", standards=[old], tested=(D, None))
    record(db, lab, "R-pub-new-first-day", standards=[new], tested=(D, D))  # boundary
    record(db, lab, "R-pub-new-early", standards=["GB 1-1999", new], tested=(None, yesterday),
           items=[item(ins, bj(D))])  # an item naming no standard; only tested_to given
    record(db, lab, "R-pub-no-dates", standards=[new])  # no test date: not checked
    # An item names a standard (in force): the item's answers, not the printed list.
    record(db, lab, "R-pub-item-names", standards=[new], tested=(yesterday, D),
           items=[item(ins, bj(D), standard=new)])
    found = run(db, "STANDARD_NOT_IN_FORCE")
    assert codes_of(found) == [("STANDARD_NOT_IN_FORCE", "R-pub-new-early"),
                               ("STANDARD_NOT_IN_FORCE", "R-pub-old-withdrawn")]
    early = next(s for s in found if s.number == "R-pub-new-early")
    assert early.params == {"standard": new, "day": yesterday.isoformat(), "why": "not_yet"}
    assert early.evidence[0]["table"] == "report_records"
    assert early.evidence[0]["value"] == new
    assert len(run(db, "STANDARD_NOT_IN_FORCE")) == 2  # a rerun raises nothing twice
    # At registration (a record with evidence items) the printed list is checked too.
    record(db, lab, "R-pub-new-registered", standards=[new], tested=(yesterday, yesterday),
           items=[item(ins, bj(yesterday))], check=True)
    registered = [s for s in signals(db, "STANDARD_NOT_IN_FORCE")
                  if s.number == "R-pub-new-registered"]
    assert [s.source for s in registered] == ["registration"]


# --- volume ---------------------------------------------------------------------------------

def test_lab_daily_volume(db: Session) -> None:
    lab = make_lab(db, "vol@lab.cn")
    ins = instrument(db, lab, "EQ-1", tests_per_day=100)
    make_staff(db, lab, "ST-1", "测一", ["tester"])
    # One tester: 20 items a day at most; the instrument allows 100.
    record(db, lab, "R-full", items=[item(ins, bj(D, 8) + timedelta(minutes=n), 0.1)
                                     for n in range(20)])
    day2 = D + timedelta(days=1)
    record(db, lab, "R-too-many", items=[item(ins, bj(day2, 8) + timedelta(minutes=n), 0.1)
                                         for n in range(21)])
    found = run(db, "LAB_DAILY_VOLUME")
    assert [(s.params["day"], s.params["count"], s.params["staff"]) for s in found] == [
        ("2026-06-11", 21, 20)]


# --- results --------------------------------------------------------------------------------

def test_duplicate_results(db: Session) -> None:
    lab = make_lab(db, "dup@lab.cn")
    vec = [("Pb", "0.0250"), ("Cd", "0.0031"), ("Hg", "0.0007")]
    record(db, lab, "R-first", results=vec)
    record(db, lab, "R-copy", results=list(reversed(vec)))
    record(db, lab, "R-differs", results=[("Pb", "0.0250"), ("Cd", "0.0031"),
                                          ("Hg", "0.00070")])  # a trailing zero differs
    record(db, lab, "R-pair-1", results=vec[:2])  # boundary: two results are not a vector
    record(db, lab, "R-pair-2", results=vec[:2])
    found = run(db, "DUPLICATE_RESULTS")
    assert codes_of(found) == [("DUPLICATE_RESULTS", "R-copy")]
    assert found[0].params == {"count": 3, "other": "R-first"}


def test_duplicate_results_leaves_amendments_alone(db: Session) -> None:
    from tichub.reports.models import RecordEvent

    lab = make_lab(db, "amend@lab.cn")
    vec = [("Pb", "1.25"), ("Cd", "2.50"), ("Hg", "3.75")]
    original = record(db, lab, "R-orig", results=vec)
    record(db, lab, "R-orig", event=RecordEvent.amended, refers_to=original.id)
    record(db, lab, "R-replacement", results=vec)
    assert run(db, "DUPLICATE_RESULTS") == []


def test_trailing_digits() -> None:
    honest = {d: 10 for d in range(10)}
    assert not stats.digits_test(honest, 50, 1e-4)[0]
    forged = {d: 2 for d in range(10)} | {5: 40}
    flag, _, p, n = stats.digits_test(forged, 50, 1e-4)
    assert flag and n == 58 and p < 1e-4
    assert not stats.digits_test({5: 49}, 50, 1e-4)[0]  # boundary: too few to judge
    assert stats.digits_test({5: 50}, 50, 1e-4)[0]
    assert stats.last_digit("0.0250", 3) == 0 and stats.last_digit("0.025", 3) is None
    assert stats.last_digit("-12.7", 3) == 7
    # The p-value agrees with the chi-square distribution (9 d.f.: 21.67 at 1 %).
    assert stats.chi2_sf(21.666, 9) == pytest.approx(0.01, rel=1e-3)
    assert stats.chi2_sf(2.088, 9) == pytest.approx(0.99, rel=1e-3)


def test_trailing_digits_batch(db: Session) -> None:
    forger = make_lab(db, "digits@lab.cn")
    honest = make_lab(db, "honest@lab.cn")
    for n in range(6):
        record(db, forger, f"R-f{n}", results=[(f"P{k}", f"1.{n}{k}5") for k in range(10)])
        record(db, honest, f"R-h{n}", results=[(f"P{k}", f"1.{n}{(k * 7 + n) % 10}")
                                               for k in range(10)])
    found = run(db, "TRAILING_DIGITS")
    assert [s.institution_id for s in found] == [forger.institution_id]
    assert found[0].params["count"] == 60


def test_pt_no_correction(db: Session) -> None:
    from pt_world import unsatisfactory_result
    from tichub.pt.models import PtCorrectiveAction

    lab = make_lab(db, "pt@lab.cn")
    published, result_id = unsatisfactory_result(db, lab.org_id, "Pb")
    after = published + timedelta(days=10)
    record(db, lab, "R-same-day", issued=published, results=[("Pb", "1.0")])  # boundary
    record(db, lab, "R-after", issued=after, results=[("Pb", "1.0"), ("Cd", "2.0")])
    record(db, lab, "R-other-param", issued=after, results=[("Cd", "2.0")])
    record(db, lab, "R-much-later", issued=published + timedelta(days=181),
           results=[("Pb", "1.0")])
    assert codes_of(run(db, "PT_NO_CORRECTION")) == [("PT_NO_CORRECTION", "R-after")]
    db.add(PtCorrectiveAction(result_id=result_id, org_id=lab.org_id,
                              recorded_on=published + timedelta(days=5), note="retrained"))
    db.commit()
    record(db, lab, "R-corrected", issued=after, results=[("Pb", "1.0")])
    assert codes_of(run(db, "PT_NO_CORRECTION")) == [("PT_NO_CORRECTION", "R-after")]


def test_price_far_below_median(db: Session) -> None:
    from tichub.market.models import ServiceListing

    labs = [make_lab(db, f"price{n}@lab.cn") for n in range(5)]

    def offer(lab: object, price: int, std: str = "GB 4943.1") -> None:
        db.add(ServiceListing(org_id=lab.org_id, institution_id=lab.institution_id,  # type: ignore[attr-defined]
                              title="安全测试", standards=[std], price_fen=price,
                              accredited=True))

    for lab, price in zip(labs[:4], (10_000, 10_000, 12_000, 14_000), strict=True):
        offer(lab, price)
    offer(labs[4], 2_999)  # five offers; median 10,000: 30 % is 3,000
    offer(labs[0], 100, "GB 1")  # a standard with one offer: no median to compare with
    db.commit()
    found = run(db, "PRICE_FAR_BELOW_MEDIAN")
    assert [(s.institution_id, s.params["median"]) for s in found] == [
        (labs[4].institution_id, "100.00")]
    db.query(ServiceListing).filter(ServiceListing.price_fen == 2_999).update(
        {"price_fen": 3_000})  # boundary: exactly 30 % is not "far below"
    db.commit()
    from sqlalchemy import delete

    from tichub.supervision.models import Signal
    db.execute(delete(Signal))
    db.commit()
    assert run(db, "PRICE_FAR_BELOW_MEDIAN") == []


def test_price_far_below_median_counts_agreed_orders(db: Session) -> None:
    from sqlalchemy import delete

    from tichub.core.ids import utcnow
    from tichub.market.models import Order, OrderStatus, ServiceListing
    from tichub.supervision.models import Signal

    labs = [make_lab(db, f"orders{n}@lab.cn") for n in range(6)]
    std = "GB 99903"
    n = iter(range(100))

    def order(lab: object, amount: int, quantity: int = 1,
              status: OrderStatus = OrderStatus.accepted, listing_id: str | None = None
              ) -> Order:
        o = Order(number=f"O-{next(n)}", company_org_id=labs[5].org_id,
                  lab_org_id=lab.org_id, institution_id=lab.institution_id,  # type: ignore[attr-defined]
                  listing_id=listing_id, product="充电宝", standards=[std], quantity=quantity,
                  status=status, amount_fen=amount, updated_at=utcnow())
        db.add(o)
        db.flush()
        return o

    listing = ServiceListing(org_id=labs[0].org_id, institution_id=labs[0].institution_id,
                             title="安全测试", standards=[std], price_fen=10_000,
                             accredited=True)
    db.add(listing)
    db.flush()
    # Prices a sample: 10,000 (listing), 10,000, 12,000 (36,000 for 3), 14,000 → with the
    # cheap one, five prices and the median 10,000.
    order(labs[1], 10_000)
    order(labs[2], 36_000, quantity=3)
    order(labs[3], 14_000, status=OrderStatus.completed)
    cheap = order(labs[4], 5_998, quantity=2)  # 2,999 a sample: under 30 %
    # Not agreed, or a listing's own price again: not counted, not flagged.
    order(labs[4], 100, status=OrderStatus.quoted)
    order(labs[4], 100, status=OrderStatus.cancelled)
    order(labs[4], 100, listing_id=listing.id)
    db.commit()
    found = run(db, "PRICE_FAR_BELOW_MEDIAN")
    assert [(s.institution_id, s.params["price"], s.params["median"], s.params["offers"])
            for s in found] == [(labs[4].institution_id, "29.99", "100.00", 5)]
    assert found[0].evidence == [{"table": "orders", "key": {"id": cheap.id}}]
    # Boundary: exactly 30 % of the median is not "far below".
    cheap.amount_fen = 6_000
    db.commit()
    db.execute(delete(Signal))
    db.commit()
    assert run(db, "PRICE_FAR_BELOW_MEDIAN") == []
    # Negative: with one agreed order fewer, four prices are too few for a median.
    cheap.amount_fen = 100
    db.query(Order).filter(Order.amount_fen == 14_000).update(
        {"status": OrderStatus.cancelled})
    db.commit()
    assert run(db, "PRICE_FAR_BELOW_MEDIAN") == []


def test_not_signed_by_issuer(db: Session) -> None:
    lab = make_lab(db, "unsigned@lab.cn")
    record(db, lab, "R-unsigned", flags=["not_signed_by_issuer"])
    record(db, lab, "R-other-flag", flags=["number_registered_before"])
    record(db, lab, "R-clean")
    assert codes_of(run(db, "NOT_SIGNED_BY_ISSUER")) == [("NOT_SIGNED_BY_ISSUER", "R-unsigned")]


# --- at registration ------------------------------------------------------------------------

def test_registration_raises_the_record_rules(db: Session) -> None:
    lab = make_lab(db, "incr@lab.cn")
    ins = instrument(db, lab, "EQ-1", calibrated=(date(2025, 1, 1), D), hours_per_test=2)
    gone = make_staff(db, lab, "ST-1", "赵六", ["tester", "sampler"],
                      employed=(date(2020, 1, 1), D))
    nxt = D + timedelta(days=1)
    record(db, lab, "R-fine", issued=D, items=[item(ins, bj(D, 9), tester=gone)], check=True)
    assert signals(db, *rules.BY_CODE) == []
    record(db, lab, "R-bad", issued=nxt, items=[item(ins, bj(nxt, 9), tester=gone)],
           samplings=[{"sampler": gone, "at": bj(nxt, 8), "lat": 31.0, "lon": 121.5}],
           check=True)
    record(db, lab, "R-overlap", issued=nxt, items=[item(ins, bj(nxt, 10))], check=True)
    record(db, lab, "R-far", issued=nxt,
           samplings=[{"sampler": gone, "at": bj(nxt, 8, 30), "lat": 31.5, "lon": 121.5}],
           check=True)
    found = {(s.code, s.number, s.source) for s in signals(db, *rules.BY_CODE)}
    assert found == {
        ("INSTRUMENT_UNCALIBRATED", "R-bad", "registration"),
        ("INSTRUMENT_UNCALIBRATED", "R-overlap", "registration"),
        ("STAFF_NOT_EMPLOYED", "R-bad", "registration"),
        ("STAFF_NOT_EMPLOYED", "R-far", "registration"),
        ("INSTRUMENT_OVERLAP", "R-overlap", "registration"),
        ("STAFF_TRAVEL", "R-far", "registration"),
    }
    # The batch finds the same and raises none of them twice.
    before = len(signals(db, *rules.BY_CODE))
    run(db)
    after = {(s.code, s.number) for s in signals(db, *rules.BY_CODE)}
    # R-bad overlaps too, seen from the batch's side; and on the day after the tester left
    # the lab has no tester employed (a rule the batch alone runs).
    assert len(after) == before + 2
    assert {("INSTRUMENT_OVERLAP", "R-bad"), ("LAB_DAILY_VOLUME", None)} <= after


def test_every_rule_has_its_words_and_basis() -> None:
    from tichub.core.messages import Msg

    for r in rules.RULES:
        assert r.basis in rules.Basis
        msg = r.explain({})
        assert isinstance(msg, Msg)
        assert Msg(r.explanation).localize("zh") != r.explanation, r.code
        assert r.title.localize("zh") != r.title.localize("en"), r.code
