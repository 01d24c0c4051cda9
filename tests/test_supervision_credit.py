"""Credit-risk tiers on the database: the inputs gathered in SQL, recomputing on demand and
monthly, verification of a stored score (API and CLI), the lab's own view and appeals."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from helpers import api_token, sign_in
from supervision_credit_setup import confirmed_signals, world
from tichub.cli import app as cli_app
from tichub.core.ids import today, utcnow
from tichub.core.models import AuditEvent, Notification
from tichub.market.models import Order, OrderStatus
from tichub.supervision.credit import service
from tichub.supervision.models import (
    Complaint,
    ComplaintStatus,
    CreditScore,
    Sanction,
    SanctionKind,
    Severity,
)


def test_a_never_scored_institution_is_tier_b_and_an_empty_record_scores_the_base(
        client, db) -> None:  # type: ignore[no-untyped-def]
    w = world(db)
    assert service.latest_tiers(db, [w.lab_inst, w.other_inst]) == {
        w.lab_inst: "B", w.other_inst: "B"}
    assert service.recompute(db) == 2
    row = db.scalar(select(CreditScore).where(CreditScore.institution_id == w.lab_inst))
    assert row.score == 90 and row.tier == "B" and row.inputs == {}
    assert row.rule_version == "v1" and row.trigger == "monthly"
    assert row.period == f"{today().year:04d}-{today().month:02d}"
    # Each new score is audited in the same transaction.
    assert db.scalar(select(AuditEvent).where(AuditEvent.object_id == row.id)) is not None


def test_every_input_is_gathered_per_institution_within_the_window(client, db) -> None:  # type: ignore[no-untyped-def]
    w = world(db)
    confirmed_signals(db, w.lab_inst, "pudong", 2, Severity.high)
    confirmed_signals(db, w.other_inst, "xuhui", 1, Severity.low, tag="x")
    on = today()
    db.add_all([
        Complaint(tracking_code="TS-AAAA-BBBB-CCC1", institution_id=w.lab_inst,
                  district="pudong", text="t", status=ComplaintStatus.upheld),
        Complaint(tracking_code="TS-AAAA-BBBB-CCC2", institution_id=w.lab_inst,
                  district="pudong", text="t", status=ComplaintStatus.rejected),
        Sanction(institution_id=w.lab_inst, bureau_org_id=w.pudong.org.id,
                 kind=SanctionKind.correction, decision_no="D-1",
                 decided_on=on - timedelta(days=20), deadline=on - timedelta(days=10),
                 corrected_on=on - timedelta(days=10)),
        # On time means by the deadline: one day late does not count.
        Sanction(institution_id=w.lab_inst, bureau_org_id=w.pudong.org.id,
                 kind=SanctionKind.correction, decision_no="D-2",
                 decided_on=on - timedelta(days=20), deadline=on - timedelta(days=5),
                 corrected_on=on - timedelta(days=4)),
        # Decided before the 24-month window: not counted.
        Sanction(institution_id=w.lab_inst, bureau_org_id=w.pudong.org.id,
                 kind=SanctionKind.fine, decision_no="D-0",
                 decided_on=service.months_before(on, 24) - timedelta(days=1)),
        Sanction(institution_id=w.lab_inst, bureau_org_id=w.pudong.org.id,
                 kind=SanctionKind.fine, decision_no="D-3",
                 decided_on=service.months_before(on, 24)),
        Order(number="O-1", company_org_id=w.other.org.id, lab_org_id=w.lab.org.id,
              institution_id=w.lab_inst, product="p", status=OrderStatus.disputed,
              updated_at=utcnow()),
    ])
    db.commit()
    inputs = service.gather_inputs(db, on)
    assert inputs[w.lab_inst] == {
        "signals_high": 2, "complaints_upheld": 1, "sanctions_correction": 2,
        "sanctions_fine": 1, "corrections_on_time": 1, "orders_disputed": 1}
    assert inputs[w.other_inst] == {"signals_low": 1}
    only = service.gather_inputs(db, on, [w.other_inst])
    assert set(only) == {w.other_inst}


def test_one_more_confirmed_signal_moves_the_tier_as_the_rule_set_says(client, db) -> None:  # type: ignore[no-untyped-def]
    w = world(db)
    token = api_token(db, w.pudong, ["supervision:read", "supervision:write"])
    auth = {"Authorization": f"Bearer {token}"}
    confirmed_signals(db, w.lab_inst, "pudong", 5)  # 90 - 5 × 2 = 80: still B
    r = client.post("/api/supervision/credit/recompute", headers=auth,
                    json={"institution_id": w.lab_inst})
    assert r.status_code == 200 and r.json() == {"scored": 1}
    first = client.get(f"/api/supervision/credit/institutions/{w.lab_inst}",
                       headers=auth).json()
    assert (first["tier"], first["latest"]["score"]) == ("B", 80)
    confirmed_signals(db, w.lab_inst, "pudong", 1, tag="more")  # 78: C
    client.post("/api/supervision/credit/recompute", headers=auth,
                json={"institution_id": w.lab_inst})
    after = client.get(f"/api/supervision/credit/institutions/{w.lab_inst}",
                       headers=auth).json()
    assert (after["tier"], after["latest"]["score"]) == ("C", 78)
    assert [h["tier"] for h in after["history"]] == ["C", "B"]
    for s in after["history"]:
        assert sum(c["points"] for c in s["contributions"]) == s["score"]
    # The lab is told its tier changed.
    assert db.scalar(select(Notification).where(Notification.org_id == w.lab.org.id,
                                                Notification.kind == "supervision.tier"))
    # Recomputed by anyone from the stored inputs and the public rule set.
    v = client.get(f"/api/supervision/credit/scores/{after['latest']['id']}/verify",
                   headers=auth).json()
    assert v["matches"] is True and v["recomputed"]["tier"] == "C"


def test_a_stored_score_verifies_from_a_file_and_a_tampered_one_fails(
        client, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = world(db)
    confirmed_signals(db, w.lab_inst, "pudong", 3)
    service.recompute(db, institution_ids=[w.lab_inst], trigger="on_demand")
    token = api_token(db, w.lab, ["supervision:read"])
    row = db.scalar(select(CreditScore).where(CreditScore.institution_id == w.lab_inst))
    stored = client.get(f"/api/supervision/credit/scores/{row.id}",
                        headers={"Authorization": f"Bearer {token}"}).json()
    good = tmp_path / "score.json"
    good.write_text(json.dumps(stored), encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["supervision", "tiers-verify", str(good)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["matches"] is True
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**stored, "tier": "A"}), encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["supervision", "tiers-verify", str(bad)])
    assert result.exit_code == 1 and '"matches": false' in result.stdout
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["supervision", "tiers-verify", str(broken)])
    assert result.exit_code == 1 and "not JSON" in result.stderr


def test_the_monthly_run_from_the_command_line(client, db, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    w = world(db)
    monkeypatch.setenv("TICHUB_DATABASE_URL", settings.database_url)
    from tichub.core.config import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["supervision", "tiers"])
        assert result.exit_code == 0, result.output
        assert "scored 2 institutions" in result.stdout
        result = CliRunner().invoke(cli_app, ["supervision", "tiers", "--institution", "nope"])
        assert result.exit_code == 1 and "no institution" in result.stderr
    finally:
        get_settings.cache_clear()
    db.expire_all()
    assert service.latest_tiers(db, None) == {w.lab_inst: "B", w.other_inst: "B"}


def test_the_rule_set_is_public(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/supervision/credit/rules/v1")
    assert r.status_code == 200 and r.json()["version"] == "v1"
    assert client.get("/api/supervision/credit/rules").json()[0] == "v1"
    assert client.get("/api/supervision/credit/rules/v404").status_code == 404
    page = client.get("/supervision/credit/rules?lang=en")
    assert page.status_code == 200 and "Confirmed risk signals: critical" in page.text
    assert "已确认风险信号：严重" in client.get("/supervision/credit/rules?lang=zh").text


def test_the_lab_sees_its_tier_and_appeals_with_a_file_and_the_bureau_decides(
        client, db) -> None:  # type: ignore[no-untyped-def]
    w = world(db)
    confirmed_signals(db, w.lab_inst, "pudong", 6)
    service.recompute(db, institution_ids=[w.lab_inst])
    csrf = sign_in(client, "lab@pudong.example")
    page = client.get("/supervision/mine?lang=en")
    assert page.status_code == 200
    assert 'data-testid="tier">C<' in page.text and "Confirmed risk signals: medium" in page.text
    score_id = db.scalar(select(CreditScore.id).where(CreditScore.institution_id == w.lab_inst))
    r = client.post("/supervision/mine/appeals", headers={"X-CSRF-Token": csrf},
                    data={"score_id": score_id, "text": "Two of these signals were dismissed."},
                    files={"files": ("letter.pdf", b"%PDF-1.4 letter", "application/pdf")},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    # A second open appeal on the same score is refused.
    again = client.post("/supervision/mine/appeals", headers={"X-CSRF-Token": csrf},
                        data={"score_id": score_id, "text": "again"}, follow_redirects=False)
    assert again.status_code == 409
    # A file of a kind we do not keep is refused, naming the field.
    bad = client.post("/supervision/mine/appeals", headers={"X-CSRF-Token": csrf,
                                                            "Accept": "application/json"},
                      data={"score_id": score_id, "text": "x"},
                      files={"files": ("x.exe", b"MZ", "application/x-msdownload")})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "files"
    # The other lab cannot read this lab's tier, nor appeal it.
    other = api_token(db, w.other, ["supervision:read", "supervision:write"])
    h = {"Authorization": f"Bearer {other}"}
    assert client.get(f"/api/supervision/credit/institutions/{w.lab_inst}",
                      headers=h).status_code == 403
    assert client.post("/api/supervision/credit/appeals", headers=h,
                       json={"score_id": score_id, "text": "x"}).status_code == 403

    client.cookies.clear()
    csrf = sign_in(client, "pudong@bureau.example")
    listing = client.get("/supervision/appeals")
    assert "Two of these signals were dismissed." in listing.text
    appeal_id = service.list_appeals(db, w.pudong.principal(db))[0][0].id
    file_id = service.list_appeals(db, w.pudong.principal(db))[0][0].files[0]
    got = client.get(f"/supervision/appeals/{appeal_id}/files/{file_id}")
    assert got.status_code == 200 and got.content == b"%PDF-1.4 letter"
    assert got.headers["content-disposition"].startswith("attachment")
    r = client.post(f"/supervision/appeals/{appeal_id}", headers={"X-CSRF-Token": csrf},
                    data={"status": "rejected", "answer": "The signals stand."},
                    follow_redirects=False)
    assert r.status_code == 303
    # Decided once only.
    r = client.post(f"/supervision/appeals/{appeal_id}", headers={"X-CSRF-Token": csrf},
                    data={"status": "upheld", "answer": "x"}, follow_redirects=False)
    assert r.status_code == 409

    client.cookies.clear()
    sign_in(client, "lab@pudong.example")
    assert "The signals stand." in client.get("/supervision/mine").text


def test_a_district_viewer_reads_but_does_not_decide(client, db) -> None:  # type: ignore[no-untyped-def]
    w = world(db)
    token = api_token(db, w.pudong_viewer, ["supervision:read", "supervision:write"])
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/supervision/credit/institutions/{w.lab_inst}",
                      headers=auth).status_code == 200
    assert client.post("/api/supervision/credit/recompute", headers=auth,
                       json={"institution_id": w.lab_inst}).status_code == 403
    # A read-only token reads, and cannot recompute.
    ro = api_token(db, w.pudong, ["supervision:read"])
    assert client.post("/api/supervision/credit/recompute",
                       headers={"Authorization": f"Bearer {ro}"}, json={}).status_code == 403


def test_months_before_keeps_the_day_or_the_months_last(client) -> None:  # type: ignore[no-untyped-def]
    assert service.months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert service.months_before(date(2026, 12, 3), 24) == date(2024, 12, 3)
    assert service.months_before(date(2026, 1, 15), 1) == date(2025, 12, 15)


def _pt_round(db, provider_org: str, code: str, published_days_ago: int):  # type: ignore[no-untyped-def]
    from tichub.pt.models import (
        PtMeasurand,
        PtRound,
        PtRoundMeasurand,
        PtScheme,
        RoundStatus,
    )

    scheme = PtScheme(provider_org_id=provider_org, code=f"S-{code}", name_zh="方案")
    db.add(scheme)
    db.flush()
    m = PtMeasurand(scheme_id=scheme.id, name="Pb", unit="mg/kg")
    rnd = PtRound(scheme_id=scheme.id, code=code, status=RoundStatus.published,
                  deadline=utcnow(), published_at=utcnow() - timedelta(days=published_days_ago))
    db.add_all([m, rnd])
    db.flush()
    setting = PtRoundMeasurand(round_id=rnd.id, measurand_id=m.id)
    db.add(setting)
    db.flush()
    return rnd, setting


def test_pt_outcomes_and_their_trend_count_for_the_participants_institutions(
        client, db) -> None:  # type: ignore[no-untyped-def]
    from tichub.pt.models import ParticipantStatus, PtParticipant, PtResult

    w = world(db)
    # An unsatisfactory result 18 months ago, two satisfactory and one questionable lately,
    # and one result of a round published before the 24-month window.
    plan = [("old", 800, ["unsatisfactory"]), ("earlier", 540, ["unsatisfactory"]),
            ("recent", 30, ["satisfactory", "satisfactory", "questionable"])]
    for code, days, verdicts in plan:
        rnd, setting = _pt_round(db, w.other.org.id, code, days)
        part = PtParticipant(round_id=rnd.id, org_id=w.lab.org.id, code="P1",
                             status=ParticipantStatus.accepted, changed_at=utcnow())
        db.add(part)
        db.flush()
        for i, verdict in enumerate(verdicts):
            db.add(PtResult(round_id=rnd.id, participant_id=part.id,
                            round_measurand_id=setting.id, item=f"I{i}", reported_value=1.0,
                            reported_unit="mg/kg", value=1.0, submitted_at=utcnow(),
                            verdict=verdict))
    db.commit()
    inputs = service.gather_inputs(db, today())[w.lab_inst]
    assert inputs == {"pt_satisfactory": 2, "pt_questionable": 1, "pt_unsatisfactory": 1,
                      "pt_trend": 1}  # one unsatisfactory before the last 12 months, none since
    service.recompute(db, institution_ids=[w.lab_inst])
    row = db.scalar(select(CreditScore).where(CreditScore.institution_id == w.lab_inst))
    # 90 + 2 × 0.5 − 1 − 4 + 1 = 87
    assert (row.score, row.tier) == (87, "B")
