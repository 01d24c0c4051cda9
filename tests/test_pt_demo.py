"""The demo's proficiency testing: dates that make sense for each round's status, relative
to the day the demo is seeded; names in Chinese with their English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from helpers import sign_in
from tichub.core.ids import BEIJING
from tichub.core.models import AuditEvent
from tichub.demo import seed as demo
from tichub.demo.pt import plans, seed_pt
from tichub.pt import service as pt
from tichub.pt.models import PtResult, RoundStatus


def test_round_codes_follow_the_dates_and_never_repeat() -> None:
    # every day of a year: three distinct codes, the open round's from this half year
    start = datetime(2027, 1, 1, 4, tzinfo=UTC)
    for day in range(366):
        today = start + timedelta(days=day)
        codes = [p.code for p in plans(today)]
        assert len(set(codes)) == 3, (today, codes)
        here = (today - timedelta(days=7)).astimezone(BEIJING)
        assert codes[-1] == f"{here.year}-{1 if here.month <= 6 else 2}"


def test_demo_proficiency_testing(client, app) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    with app.state.sessionmaker() as db:
        demo.seed(db, scale=0.3, seed=2027)
        assert seed_pt(db, app.state.log, labs=12) == 3
        rounds = sorted(pt.list_rounds(db), key=lambda r: r.deadline)
        flagged = db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "pt.result.unsatisfactory"))
        latest_result = {r.id: db.scalar(select(func.max(PtResult.submitted_at)).where(
            PtResult.round_id == r.id)) for r in rounds}
        scheme = rounds[0].scheme
        names = [(m.name, m.name_en) for m in scheme.measurands]
    old, previous, current = rounds
    assert [r.status for r in rounds] == [RoundStatus.published, RoundStatus.published,
                                          RoundStatus.open]
    assert flagged  # supervision's feed has something to show
    # published rounds closed and were published in the past, results before the deadline
    for r in (old, previous):
        assert r.deadline < r.published_at < now - timedelta(days=30)
        assert r.dispatch_on and r.dispatch_on < r.deadline.astimezone(BEIJING).date()
        assert r.computed_at and r.computed_at <= r.published_at
        assert latest_result[r.id] and latest_result[r.id] <= r.deadline
    # the open round takes results for weeks yet
    assert now + timedelta(days=14) < current.deadline < now + timedelta(days=30)
    assert current.published_at is None and latest_result[current.id] is None
    assert old.code < previous.code < current.code
    assert "年第" in current.title and "大米中铅、镉" in current.title
    assert names == [("铅", "Lead (Pb)"), ("镉", "Cadmium (Cd)")] and scheme.field == "食品"

    sign_in(client, "lab@demo.tichub.cn", demo.DEMO_PASSWORD)
    report = client.get(f"/pt/rounds/{previous.id}/report")
    assert report.status_code == 200 and report.text.count('data-testid="section"') == 6
    # the demo lab can still send its results to the open round
    page = client.get(f"/pt/rounds/{current.id}")
    assert 'data-testid="results-form"' in page.text
    history = client.get("/pt/history")
    assert f"DEMO-FOOD-METALS/{old.code}" in history.text
