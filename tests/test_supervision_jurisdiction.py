"""Jurisdiction across the credit, complaint and dashboard routes: a district bureau sees
its own district only, the city bureau every district; labs see only their own."""

from __future__ import annotations

from datetime import timedelta

from helpers import api_token, sign_in
from supervision_credit_setup import confirmed_signals, world
from tichub.core.auth import ANONYMOUS
from tichub.core.ids import today
from tichub.supervision.complaints import service as complaints
from tichub.supervision.complaints.schemas import ComplaintIn
from tichub.supervision.credit import service as credit
from tichub.supervision.models import (
    ApplicationKind,
    ApplicationRoute,
    ApplicationStatus,
    CreditScore,
    QualificationApplication,
    Severity,
    Signal,
)


def _bearer(db, account, scopes=("supervision:read",)):  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {api_token(db, account, list(scopes))}"}


def _fill(db, w):  # type: ignore[no-untyped-def]
    confirmed_signals(db, w.other_inst, "xuhui", 1, Severity.low)
    db.add(Signal(code="OPEN_RULE", subject="open-1", severity=Severity.high,
                  institution_id=w.other_inst, org_id="x", district="xuhui"))
    db.add(QualificationApplication(institution_id=w.other_inst,
                                    route=ApplicationRoute.commitment,
                                    kind=ApplicationKind.first,
                                    status=ApplicationStatus.provisional,
                                    check_due=today() - timedelta(days=1)))
    db.commit()
    credit.recompute(db)
    mine = complaints.submit(db, ANONYMOUS, ComplaintIn(
        institution_id=w.lab_inst, text="About the Pudong lab, at length.", contact="a@b.c"),
        "10.0.0.1")
    theirs = complaints.submit(db, ANONYMOUS, ComplaintIn(
        institution_id=w.other_inst, text="About the Xuhui lab, at length.", contact="a@b.c"),
        "10.0.0.2")
    return mine, theirs


def test_a_district_bureau_sees_its_district_only_and_the_city_bureau_all(client, db) -> None:  # type: ignore[no-untyped-def]
    w = world(db)
    mine, theirs = _fill(db, w)
    pudong, city = _bearer(db, w.pudong), _bearer(db, w.city)
    other_score = db.query(CreditScore).filter_by(institution_id=w.other_inst).one()

    # Credit: one institution, one score, the tier list.
    assert client.get(f"/api/supervision/credit/institutions/{w.lab_inst}",
                      headers=pudong).status_code == 200
    assert client.get(f"/api/supervision/credit/institutions/{w.other_inst}",
                      headers=pudong).status_code == 403
    assert client.get(f"/api/supervision/credit/scores/{other_score.id}",
                      headers=pudong).status_code == 403
    assert client.get(f"/api/supervision/credit/scores/{other_score.id}/verify",
                      headers=pudong).status_code == 403
    assert client.get(f"/api/supervision/credit/institutions/{w.other_inst}",
                      headers=city).status_code == 200
    listed = client.get("/api/supervision/credit/tiers", headers=pudong).json()
    assert [i["institution_id"] for i in listed["items"]] == [w.lab_inst]
    assert client.get("/api/supervision/credit/tiers?district=xuhui",
                      headers=pudong).status_code == 403
    assert listed["total"] == 1
    assert client.get("/api/supervision/credit/tiers", headers=city).json()["total"] == 2
    # Recomputing the whole of "its" registry touches its district only.
    write = _bearer(db, w.pudong, ("supervision:read", "supervision:write"))
    assert client.post("/api/supervision/credit/recompute", headers=write,
                       json={}).json() == {"scored": 1}
    assert client.post("/api/supervision/credit/recompute", headers=write,
                       json={"institution_id": w.other_inst}).status_code == 403

    # Complaints.
    got = client.get("/api/supervision/complaints", headers=pudong).json()
    assert [c["id"] for c in got["items"]] == [mine.id]
    assert client.get(f"/api/supervision/complaints/{theirs.id}",
                      headers=pudong).status_code == 403
    assert client.post(f"/api/supervision/complaints/{theirs.id}/status", headers=write,
                       json={"status": "investigating"}).status_code == 403
    assert client.get("/api/supervision/complaints", headers=city).json()["total"] == 2

    # The dashboard and its exports.
    d = client.get("/api/supervision/dashboard", headers=pudong).json()
    assert [r["district"] for r in d["districts"]] == ["pudong"]
    assert d["districts"][0]["institutions"] == 1 and d["checks_due"] == []
    assert d["all_districts"] is False
    c = client.get("/api/supervision/dashboard", headers=city).json()
    assert len(c["districts"]) == 16 and c["all_districts"] is True
    xuhui = next(r for r in c["districts"] if r["district"] == "xuhui")
    assert xuhui["open_signals"] == 1 and sum(xuhui["tiers"].values()) == 1
    assert [x["institution_id"] for x in c["checks_due"]] == [w.other_inst]
    assert c["checks_due"][0]["overdue"] is True
    assert sum(c["signals_per_month"]) == 2


def test_the_pages_and_exports_follow_the_district(client, db) -> None:  # type: ignore[no-untyped-def]
    w = world(db)
    _, theirs = _fill(db, w)
    sign_in(client, "pudong@bureau.example")
    page = client.get("/supervision/dashboard?lang=en")
    assert page.status_code == 200
    assert 'data-district="pudong"' in page.text and 'data-district="xuhui"' not in page.text
    assert client.get(f"/supervision/institutions/{w.lab_inst}").status_code == 200
    assert client.get(f"/supervision/institutions/{w.other_inst}").status_code == 403
    assert client.get(f"/supervision/complaints/{theirs.id}").status_code == 403
    assert theirs.id not in client.get("/supervision/complaints").text
    csv = client.get("/supervision/dashboard/export?table=institutions&format=csv")
    assert csv.status_code == 200 and "浦东检测" in csv.text and "徐汇检测" not in csv.text
    xlsx = client.get("/supervision/dashboard/export?table=districts&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get("/supervision/dashboard/export?table=nope").status_code == 422

    client.cookies.clear()
    sign_in(client, "city@bureau.example")
    page = client.get("/supervision/dashboard?lang=en")
    assert 'data-district="xuhui"' in page.text and "City bureau" in page.text
    csv = client.get("/supervision/dashboard/export?table=institutions&format=csv")
    assert "徐汇检测" in csv.text and "浦东检测" in csv.text
    assert client.get(f"/supervision/institutions/{w.other_inst}").status_code == 200


def test_labs_and_the_public_see_no_supervisor_page(client, db) -> None:  # type: ignore[no-untyped-def]
    w = world(db)
    mine, _ = _fill(db, w)
    lab = _bearer(db, w.lab, ("supervision:read", "supervision:write"))
    for path in ("/api/supervision/dashboard", "/api/supervision/credit/tiers",
                 "/api/supervision/complaints", f"/api/supervision/complaints/{mine.id}",
                 f"/api/supervision/credit/institutions/{w.other_inst}"):
        assert client.get(path, headers=lab).status_code == 403, path
        assert client.get(path).status_code == 401, path
    assert client.post("/api/supervision/credit/recompute", headers=lab,
                       json={"institution_id": w.lab_inst}).status_code == 403
    # Its own institution's tier it reads.
    assert client.get(f"/api/supervision/credit/institutions/{w.lab_inst}",
                      headers=lab).status_code == 200
    sign_in(client, "lab@pudong.example")
    for path in ("/supervision/dashboard", "/supervision/complaints", "/supervision/appeals",
                 f"/supervision/institutions/{w.lab_inst}",
                 f"/supervision/complaints/{mine.id}"):
        assert client.get(path).status_code == 403, path
    assert client.get("/supervision/mine").status_code == 200
    # Appeals the lab lists are its own only.
    assert client.get("/api/supervision/credit/appeals", headers=lab).json() == []
