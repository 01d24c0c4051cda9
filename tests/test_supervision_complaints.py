"""Complaints: filed by anyone about a report number or an institution, routed to the
district's bureau, followed by a tracking code, worked to an outcome; the complainant's
contact stays with the bureau; filing is rate-limited."""

from __future__ import annotations

from sqlalchemy import select

from helpers import api_token, sign_in
from supervision_credit_setup import world
from tichub.core.auth import ANONYMOUS
from tichub.core.models import AuditEvent, Notification
from tichub.supervision.complaints import service
from tichub.supervision.complaints.schemas import ComplaintIn
from tichub.supervision.models import Complaint

BATTERY = ("GB 31241-2022", "锂离子电池", "过充电保护")


def _report(client, db, w) -> str:  # type: ignore[no-untyped-def]
    """A report registered by the Pudong lab; returns its number."""
    from helpers import make_institution

    inst, _ = make_institution(db, w.lab, name="浦东电池检测", serial=21, district="pudong",
                               scope=[BATTERY])
    token = api_token(db, w.lab, ["reports:write", "registry:write"])
    auth = {"Authorization": f"Bearer {token}"}
    r = client.post(f"/api/registry/institutions/{inst}/signatories", headers=auth,
                    json={"name": "张工", "title": "授权签字人", "authorised_from": "2020-01-01"})
    assert r.status_code == 201, r.text
    body = {"number": "PD-2026-0001", "kind": "test_report", "institution_id": inst,
            "client": "上海某储能科技有限公司", "product": "锂离子电池组",
            "standards": ["GB 31241-2022"], "marks": ["CNAS"],
            "sample_received_on": "2026-01-02", "tested_from": "2026-01-03",
            "tested_to": "2026-01-04", "issued_on": "2026-01-05",
            "signatories": ["张工"], "conclusion": "合格", "pdf_sha256": "ab" * 32}
    r = client.post("/api/reports", json=body, headers=auth)
    assert r.status_code == 201, r.text
    return "PD-2026-0001"


def test_an_anonymous_complaint_about_a_report_reaches_its_district_and_is_tracked(
        client, db) -> None:  # type: ignore[no-untyped-def]
    w = world(db)
    number = _report(client, db, w)
    r = client.post("/api/supervision/complaints", json={
        "about_number": number, "text": "The report's test date is before the sample came.",
        "contact_name": "王先生", "contact": "139-0000-0000"})
    assert r.status_code == 201, r.text
    code = r.json()["tracking_code"]
    item = db.scalar(select(Complaint).where(Complaint.tracking_code == code))
    assert item.district == "pudong" and item.contact == "139-0000-0000"
    # The Pudong bureau is told; the audit log has it.
    assert db.scalar(select(Notification).where(Notification.org_id == w.pudong.org.id))
    assert db.scalar(select(AuditEvent).where(AuditEvent.object_id == item.id))
    # Anyone with the code follows it; the contact is never in what they get.
    tracked = client.get(f"/api/supervision/complaints/track/{code.lower()}")
    assert tracked.status_code == 200 and tracked.json()["status"] == "received"
    assert "139-0000-0000" not in tracked.text and "王先生" not in tracked.text
    assert client.get("/api/supervision/complaints/track/TS-0000-0000-0000"
                      ).status_code == 404
    page = client.get(f"/supervision/complaints/track?code={code}&lang=en")
    assert "Received" in page.text and "139-0000-0000" not in page.text

    # The bureau works it: received → investigating → upheld, with the outcome.
    token = api_token(db, w.pudong, ["supervision:read", "supervision:write"])
    auth = {"Authorization": f"Bearer {token}"}
    seen = client.get(f"/api/supervision/complaints/{item.id}", headers=auth).json()
    assert seen["contact"] == "139-0000-0000"
    r = client.post(f"/api/supervision/complaints/{item.id}/status", headers=auth,
                    json={"status": "upheld", "outcome": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "outcome"
    assert client.post(f"/api/supervision/complaints/{item.id}/status", headers=auth,
                       json={"status": "investigating"}).status_code == 200
    assert client.post(f"/api/supervision/complaints/{item.id}/status", headers=auth,
                       json={"status": "received"}).status_code == 409
    r = client.post(f"/api/supervision/complaints/{item.id}/status", headers=auth,
                    json={"status": "upheld", "outcome": "Confirmed; correction ordered."})
    assert r.status_code == 200
    tracked = client.get(f"/api/supervision/complaints/track/{code}").json()
    assert tracked["status"] == "upheld" and tracked["outcome"].startswith("Confirmed")
    # Nothing about a complaint is on the lab's side: it cannot list or read it.
    lab = api_token(db, w.lab, ["supervision:read"])
    assert client.get(f"/api/supervision/complaints/{item.id}",
                      headers={"Authorization": f"Bearer {lab}"}).status_code == 403


def test_a_complaint_needs_a_subject_and_a_way_to_reach_an_anonymous_complainant(
        client, db) -> None:  # type: ignore[no-untyped-def]
    w = world(db)
    text = "Something is badly wrong here."
    cases = [({"text": text, "contact": "x@example.com"}, "about_number"),
             ({"about_number": "NO-SUCH-1", "text": text, "contact": "x"}, "about_number"),
             ({"institution_id": w.lab_inst, "text": text}, "contact"),
             ({"institution_id": "01" * 13, "text": text, "contact": "x"}, "institution_id"),
             ({"institution_id": w.lab_inst, "text": "short", "contact": "x"}, "text"),
             ({"institution_id": w.lab_inst, "text": text * 200, "contact": "x"}, "text"),
             ({"institution_id": w.lab_inst, "text": text, "contact": "x" * 255}, "contact")]
    for body, field in cases:
        r = client.post("/api/supervision/complaints", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field
    # Signed in, no contact is needed: the bureau knows the user.
    csrf = sign_in(client, "lab@xuhui.example")
    r = client.post("/supervision/complaints/new", headers={"X-CSRF-Token": csrf},
                    data={"institution_id": w.lab_inst, "text": text},
                    follow_redirects=False)
    assert r.status_code == 303 and "/supervision/complaints/track?code=TS-" in \
        r.headers["location"]
    assert db.scalar(select(Complaint.user_id)) == w.other.user.id


def test_filing_is_rate_limited_per_address(client, db) -> None:  # type: ignore[no-untyped-def]
    w = world(db)
    body = {"institution_id": w.other_inst, "text": "Something is badly wrong here.",
            "contact": "x@example.com"}
    for _ in range(service.PER_HOUR):
        assert client.post("/api/supervision/complaints", json=body).status_code == 201
    r = client.post("/api/supervision/complaints", json=body)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # The refused one stored nothing.
    assert len(db.scalars(select(Complaint)).all()) == service.PER_HOUR


def test_the_bureau_pages_show_the_contact_and_work_the_complaint(client, db) -> None:  # type: ignore[no-untyped-def]
    w = world(db)
    item = service.submit(db, ANONYMOUS, ComplaintIn(
        institution_id=w.lab_inst, text="Sampler was in two places at once.",
        contact="pd@example.com"), "10.0.0.1")
    csrf = sign_in(client, "pudong@bureau.example")
    listing = client.get("/supervision/complaints?lang=en")
    assert listing.status_code == 200 and item.id in listing.text
    one = client.get(f"/supervision/complaints/{item.id}?lang=en")
    assert "pd@example.com" in one.text and 'data-testid="to-investigating"' in one.text
    r = client.post(f"/supervision/complaints/{item.id}", headers={"X-CSRF-Token": csrf},
                    data={"status": "rejected", "outcome": "No evidence found."},
                    follow_redirects=False)
    assert r.status_code == 303
    db.refresh(item)
    assert item.status.value == "rejected" and item.outcome == "No evidence found."


def test_tracking_codes_are_normalised_and_hard_to_guess() -> None:
    code = service.new_code()
    assert len(code) == len("TS-XXXX-XXXX-XXXX")
    assert service.normalise_code(code.lower().replace("-", " ")) == code
    assert service.normalise_code("TS-1") == ""
    assert len({service.new_code() for _ in range(1000)}) == 1000
