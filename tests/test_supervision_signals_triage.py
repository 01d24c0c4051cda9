"""Triage of signals: jurisdiction, asking the lab, its answer with files, decisions and
their audit, precision; the lab's view; the figures colleagues read; the pages."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpers import Account, api_token, make_account, sign_in
from signals_world import Lab, bj, instrument, item, make_lab, record, run
from tichub.core.models import AuditEvent, Notification, OrgKind
from tichub.supervision.models import Bureau, Severity, Signal, SignalStatus
from tichub.supervision.signals import service

D = date(2026, 6, 10)
API = "/api/supervision"


def bureau(db: Session, email: str, district: str | None) -> Account:
    acc = make_account(db, email, kind=OrgKind.regulator)
    db.add(Bureau(org_id=acc.org.id, district=district))
    db.commit()
    return acc


def bearer(db: Session, acc: Account, *scopes: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + api_token(db, acc, list(scopes))}


@pytest.fixture
def world(db: Session) -> dict[str, object]:
    pudong = make_lab(db, "a@lab.cn", "pudong")
    xuhui = make_lab(db, "b@lab.cn", "xuhui")
    for lab, n in ((pudong, "PD"), (xuhui, "XH")):
        ins = instrument(db, lab, f"EQ-{n}", calibrated=(date(2025, 1, 1), date(2025, 12, 31)))
        record(db, lab, f"{n}-1", items=[item(ins, bj(D))])
    run(db)
    signals = {s.number: s.id for s in db.scalars(select(Signal))}
    return {"pudong": pudong, "xuhui": xuhui, "pd_signal": signals["PD-1"],
            "xh_signal": signals["XH-1"],
            "pd_bureau": bureau(db, "pd@samr.gov.cn", "pudong"),
            "xh_bureau": bureau(db, "xh@samr.gov.cn", "xuhui"),
            "city": bureau(db, "city@samr.gov.cn", None)}


def test_jurisdiction(client: TestClient, db: Session, world: dict) -> None:  # type: ignore[type-arg]
    pd = bearer(db, world["pd_bureau"], "supervision:read")
    listed = client.get(f"{API}/signals", headers=pd).json()
    assert [s["number"] for s in listed["items"]] == ["PD-1"]
    assert listed["items"][0]["evidence"][0]["table"] == "report_evidence_items"
    assert client.get(f"{API}/signals/{world['xh_signal']}", headers=pd).status_code == 404
    assert client.get(f"{API}/signals", params={"district": "xuhui"},
                      headers=pd).status_code == 403
    city = bearer(db, world["city"], "supervision:read")
    assert sorted(s["number"] for s in client.get(f"{API}/signals", headers=city)
                  .json()["items"]) == ["PD-1", "XH-1"]
    assert [s["number"] for s in client.get(f"{API}/signals", params={
        "district": "xuhui"}, headers=city).json()["items"]] == ["XH-1"]
    # The other district's bureau may not decide on it either.
    xh = bearer(db, world["xh_bureau"], "supervision:read", "supervision:write")
    r = client.post(f"{API}/signals/{world['pd_signal']}/decision",
                    json={"status": "dismissed", "reason": "x"}, headers=xh)
    assert r.status_code == 404
    # A read-only token may not decide.
    r = client.post(f"{API}/signals/{world['pd_signal']}/decision",
                    json={"status": "under_review"}, headers=pd)
    assert r.status_code == 403


def test_lab_sees_only_what_it_was_asked(client: TestClient, db: Session,
                                         world: dict) -> None:  # type: ignore[type-arg]
    lab: Lab = world["pudong"]
    other: Lab = world["xuhui"]
    own = bearer(db, lab.account, "supervision:read", "supervision:write")
    theirs = bearer(db, other.account, "supervision:read", "supervision:write")
    sid = world["pd_signal"]
    # Unconfirmed and not asked: invisible to the lab itself, and to everyone else.
    assert client.get(f"{API}/mine/signals", headers=own).json() == []
    assert client.get(f"{API}/signals/{sid}", headers=own).status_code == 404
    assert client.post(f"{API}/mine/signals/{sid}/answer", data={"answer": "x"},
                       headers=own).status_code == 404
    pd = bearer(db, world["pd_bureau"], "supervision:read", "supervision:write")
    r = client.post(f"{API}/signals/{sid}/question", json={"question": "校准证书在哪里？"},
                    headers=pd)
    assert r.status_code == 200 and r.json()["status"] == "under_review"
    note = db.scalars(select(Notification).where(Notification.org_id == lab.org_id)).one()
    assert note.link == f"/supervision/mine/signals/{sid}"
    mine = client.get(f"{API}/mine/signals", headers=own).json()
    assert [m["id"] for m in mine] == [sid] and mine[0]["evidence"] == []
    assert client.get(f"{API}/mine/signals", headers=theirs).json() == []
    assert client.get(f"{API}/signals/{sid}", headers=theirs).status_code == 404
    # The answer, with a file; bounded in count, size and type.
    pdf = ("cal.pdf", b"%PDF-1.4 calibration", "application/pdf")
    r = client.post(f"{API}/mine/signals/{sid}/answer", data={"answer": "已重新校准"},
                    files=[("files", pdf)], headers=own)
    assert r.status_code == 200, r.text
    file_id = r.json()["files"][0]["id"]
    assert client.post(f"{API}/mine/signals/{sid}/answer", data={"answer": "x"},
                       files=[("files", ("a.exe", b"MZ", "application/x-msdownload"))],
                       headers=own).status_code == 422
    assert client.post(f"{API}/mine/signals/{sid}/answer", data={"answer": "x"},
                       files=[("files", pdf)] * 5, headers=own).status_code == 422
    big = ("big.pdf", b"0" * (service.MAX_FILE_BYTES + 1), "application/pdf")
    assert client.post(f"{API}/mine/signals/{sid}/answer", data={"answer": "x"},
                       files=[("files", big)], headers=own).status_code == 422
    assert client.post(f"{API}/mine/signals/{sid}/answer", data={"answer": "y"},
                       headers=theirs).status_code == 404
    # The supervisor reads it; the file is the lab's and its supervisors' alone.
    got = client.get(f"{API}/signals/{sid}", headers=pd).json()
    assert got["answer"] == "已重新校准" and got["files"][0]["name"] == "cal.pdf"
    path = f"{API}/signals/{sid}/files/{file_id}"
    assert client.get(path, headers=pd).content == b"%PDF-1.4 calibration"
    assert client.get(path, headers=own).status_code == 200
    assert client.get(path, headers=theirs).status_code == 404
    assert client.get(path).status_code == 401


def test_decisions_precision_and_figures(client: TestClient, db: Session,
                                         world: dict) -> None:  # type: ignore[type-arg]
    city = bearer(db, world["city"], "supervision:read", "supervision:write")
    pd_sig, xh_sig = world["pd_signal"], world["xh_signal"]

    def decide(sid: str, status: str, reason: str = "") -> object:
        return client.post(f"{API}/signals/{sid}/decision",
                           json={"status": status, "reason": reason}, headers=city)

    assert decide(pd_sig, "confirmed").status_code == 422  # a reason is needed
    assert decide(pd_sig, "open").status_code == 422
    assert decide(pd_sig, "under_review").status_code == 200
    assert decide(pd_sig, "under_review").status_code == 409
    assert decide(pd_sig, "confirmed", "证书过期").status_code == 200
    assert decide(pd_sig, "dismissed", "改主意").status_code == 409
    assert decide(xh_sig, "dismissed", "已在有效期内（证书补录）").status_code == 200
    actions = list(db.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "signal")))
    assert actions == ["supervision.signal.under_review", "supervision.signal.confirmed",
                       "supervision.signal.dismissed"]
    rules_out = {r["code"]: r for r in client.get(f"{API}/signals/rules",
                                                  headers=city).json()}
    assert rules_out["INSTRUMENT_UNCALIBRATED"]["precision"] == 0.5
    assert rules_out["INSTRUMENT_UNCALIBRATED"]["basis_label"]
    assert rules_out["TRAILING_DIGITS"]["deterministic"] is False
    assert rules_out["STAFF_TRAVEL"]["precision"] is None
    lab: Lab = world["pudong"]
    counts = service.confirmed_counts(db, lab.institution_id)
    assert counts[Severity.high] == 1 and sum(counts.values()) == 1
    assert service.confirmed_counts(db, world["xuhui"].institution_id)[Severity.high] == 0
    # A confirmed signal is the lab's to see, unasked.
    own = bearer(db, lab.account, "supervision:read")
    assert [m["status"] for m in client.get(f"{API}/mine/signals", headers=own).json()] == [
        "confirmed"]
    # A rerun raises neither again: the dismissed one stays dismissed.
    run(db)
    db.expire_all()
    assert db.get(Signal, xh_sig).status is SignalStatus.dismissed  # type: ignore[union-attr]
    assert len(list(db.scalars(select(Signal)))) == 2
    assert service.open_counts_by_district(db, None) == {}
    runs = client.get(f"{API}/signals/runs", headers=city).json()
    assert runs[0]["figures"]["INSTRUMENT_UNCALIBRATED"] == {
        "found": 2, "new": 0, "seconds": pytest.approx(runs[0]["figures"][
            "INSTRUMENT_UNCALIBRATED"]["seconds"])}


def test_open_counts_by_district(db: Session, world: dict) -> None:  # type: ignore[type-arg]
    assert service.open_counts_by_district(db, {"pudong"}) == {
        "pudong": {Severity.low: 0, Severity.medium: 0, Severity.high: 1,
                   Severity.critical: 0}}


def test_pages(client: TestClient, db: Session, world: dict) -> None:  # type: ignore[type-arg]
    sid = world["pd_signal"]
    csrf = sign_in(client, "pd@samr.gov.cn")
    page = client.get("/supervision/signals", params={"severity": "high"})
    assert page.status_code == 200 and "PD-1" in page.text and "XH-1" not in page.text
    assert "未在校准有效期内" in page.text or "校准" in page.text
    csv = client.get("/supervision/signals", params={"format": "csv"})
    assert csv.status_code == 200 and "PD-1" in csv.text and "XH-1" not in csv.text
    detail = client.get(f"/supervision/signals/{sid}")
    assert detail.status_code == 200 and "EQ-PD" in detail.text
    assert "第十三条" in detail.text  # the basis in words
    assert client.get(f"/supervision/signals/{world['xh_signal']}").status_code == 404
    r = client.post(f"/supervision/signals/{sid}/question",
                    data={"question": "请说明", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/supervision/signals/{sid}/decision",
                    data={"status": "confirmed", "reason": "", "csrf_token": csrf},
                    headers={"accept": "application/json"}, follow_redirects=False)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    client.cookies.clear()
    csrf = sign_in(client, "a@lab.cn")
    mine = client.get("/supervision/mine/signals")
    assert mine.status_code == 200 and "PD-1" in mine.text
    r = client.post(f"/supervision/mine/signals/{sid}/answer",
                    data={"answer": "证书见附件", "csrf_token": csrf},
                    files=[("files", ("cert.pdf", b"%PDF", "application/pdf"))],
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    assert "证书见附件" in client.get(f"/supervision/mine/signals/{sid}").text
    assert client.get("/supervision/signals").status_code == 403


def test_demo_helper(db: Session, world: dict) -> None:  # type: ignore[type-arg]
    from tichub.demo.signals import run_demo_signals

    assert run_demo_signals(db) == 0  # the fixture's run raised them already
    asked = list(db.scalars(select(Signal).where(Signal.asked_at.is_not(None))))
    assert len(asked) == 1 and asked[0].status is SignalStatus.under_review


def test_cli_run(world: dict, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def, type-arg]
    import json

    from typer.testing import CliRunner

    from tichub.cli import app
    from tichub.core.config import get_settings

    monkeypatch.setenv("TICHUB_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(app, ["supervision", "signals", "run", "--no-progress"])
        assert out.exit_code == 0, out.output
        figures = json.loads(out.stdout)["figures"]
        assert figures["INSTRUMENT_UNCALIBRATED"] == {"found": 2, "new": 0,
                                                      "seconds": figures[
                                                          "INSTRUMENT_UNCALIBRATED"]["seconds"]}
        bad = CliRunner().invoke(app, ["supervision", "signals", "run", "--rule", "NOPE"])
        assert bad.exit_code == 1 and "unknown rule NOPE" in bad.stderr
    finally:
        get_settings.cache_clear()
