"""Sanctions: each changes the registry, false reports are revoked in the log in the
regulator's name (and /verify says so), the lab is told; the 2026 thresholds; jurisdiction."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from supervision_world import build, integrate, register
from tichub.core.models import AuditEvent, Notification
from tichub.registry import service as registry
from tichub.registry.models import Qualification, QualificationKind, QualificationStatus
from tichub.registry.schemas import QualificationIn
from tichub.supervision.models import Sanction, SanctionKind
from tichub.supervision.sanctions import service

API = "/api/supervision/sanctions"


def _cma(db, w) -> str:  # type: ignore[no-untyped-def]
    q = registry.add_qualification(db, w.lab.account.principal(db), w.lab.institution_id,
                                   QualificationIn(kind=QualificationKind.cma, number="CMA 310001",
                                                   valid_until=date(2030, 1, 1)))
    return q.id


def _sanction(**changes):  # type: ignore[no-untyped-def]
    return {"kind": "warning", "decision_no": "沪市监浦处〔2026〕1号",
            "decided_on": date.today().isoformat(), "reason": "出具虚假检验检测报告",
            "basis": "order39_art14", **changes}


def test_revocation_withdraws_the_cma_and_revokes_the_false_report(client, db) -> None:  # type: ignore[no-untyped-def]
    w = build(db)
    cma = _cma(db, w)
    register(client, w, "R-2026-0100")
    register(client, w, "R-2026-0101")
    integrate(client, db)
    body = _sanction(institution_id=w.lab.institution_id, kind="revocation",
                     decision_no="沪市监浦处〔2026〕7号", false_numbers=["R-2026-0100"],
                     key_field=True)
    r = client.post(API, json=body, headers=w.auth["pudong"])
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    db.expire_all()
    assert db.get(Qualification, cma).status is QualificationStatus.withdrawn
    # The CNAS accreditation is not the CMA qualification: untouched.
    cnas = db.get(Qualification, w.lab.qualification_id)
    assert cnas.status is QualificationStatus.valid
    verdict = client.get("/api/reports/verify", params={"number": "R-2026-0100"}).json()
    assert verdict["status"] == "revoked"
    assert verdict["revoked_by"]["decision_no"] == "沪市监浦处〔2026〕7号"
    assert "revoked by the market regulator" in verdict["verdict"]
    assert verdict["history"][-1]["public"]["revoked_by"]["authority"] == "market_regulator"
    # The other report stands.
    assert client.get("/api/reports/verify",
                      params={"number": "R-2026-0101"}).json()["status"] == "valid"
    page = client.get("/verify", params={"number": "R-2026-0100"})
    assert "被市场监管部门撤销" in page.text and "沪市监浦处〔2026〕7号" in page.text
    page_en = client.get("/verify", params={"number": "R-2026-0100", "lang": "en"})
    assert "Revoked by the market regulator" in page_en.text
    # Audited, and the lab told.
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"supervision.sanction", "qualification.status_by_regulator",
            "report.registered"} <= actions
    told = db.scalars(select(Notification).where(
        Notification.org_id == w.lab.account.org.id)).all()
    assert any("7号" in n.title for n in told)
    # Integrated, the revocation is in the signed log like any record.
    integrate(client, db)
    assert client.get("/api/reports/verify", params={"number": "R-2026-0100"}).json()[
        "integrity"] == "verified"
    assert client.get(f"{API}/{sid}").json()["false_numbers"] == ["R-2026-0100"]
    assert client.get(f"/supervision/sanctions/{sid}").status_code == 200


def test_a_bad_number_refuses_the_whole_sanction(client, db) -> None:  # type: ignore[no-untyped-def]
    w = build(db)
    cma = _cma(db, w)
    register(client, w, "R-2026-0200")
    body = _sanction(institution_id=w.lab.institution_id, kind="suspension",
                     false_numbers=["R-2026-0200", "R-NOT-THERE"])
    r = client.post(API, json=body, headers=w.auth["pudong"])
    assert r.status_code == 422
    assert r.json()["errors"][0] == {"field": "false_numbers", "row": 2, "message":
                                     "R-NOT-THERE: no valid document of this institution "
                                     "has this number"}
    db.expire_all()
    assert db.get(Qualification, cma).status is QualificationStatus.valid
    assert db.scalar(select(Sanction.id)) is None
    assert client.get("/api/reports/verify",
                      params={"number": "R-2026-0200"}).json()["status"] == "valid"


def test_suspension_and_its_lifting(client, db) -> None:  # type: ignore[no-untyped-def]
    w = build(db)
    cma = _cma(db, w)
    r = client.post(API, json=_sanction(institution_id=w.lab.institution_id, kind="suspension",
                                        deadline=(date.today() + timedelta(days=90)).isoformat()),
                    headers=w.auth["pudong"])
    assert r.status_code == 201, r.text
    db.expire_all()
    assert db.get(Qualification, cma).status is QualificationStatus.suspended
    sid = r.json()["id"]
    assert client.post(f"{API}/{sid}/lift", json={}, headers=w.auth["jiading"]).status_code == 403
    r = client.post(f"{API}/{sid}/lift", json={}, headers=w.auth["pudong"])
    assert r.status_code == 200 and r.json()["lifted_on"] == date.today().isoformat()
    db.expire_all()
    assert db.get(Qualification, cma).status is QualificationStatus.valid
    assert client.post(f"{API}/{sid}/lift", json={}, headers=w.auth["pudong"]).status_code == 409


def test_each_kind_needs_its_own_fields(client, db) -> None:  # type: ignore[no-untyped-def]
    w = build(db)
    inst = w.lab.institution_id
    cases = [
        (_sanction(institution_id=inst, kind="fine"), "fine_fen"),
        (_sanction(institution_id=inst, kind="warning", fine_fen=100), "fine_fen"),
        (_sanction(institution_id=inst, kind="correction"), "deadline"),
        (_sanction(institution_id=inst, kind="correction",
                   deadline=(date.today() - timedelta(days=400)).isoformat()), "deadline"),
        (_sanction(institution_id=inst, decided_on=(date.today() + timedelta(days=1))
                   .isoformat()), "decided_on"),
        # No CMA qualification in force: nothing to suspend.
        (_sanction(institution_id=inst, kind="suspension"), "kind"),
    ]
    for body, field in cases:
        r = client.post(API, json=body, headers=w.auth["pudong"])
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field, (body, r.json())
    ok = client.post(API, json=_sanction(institution_id=inst, kind="fine", fine_fen=5_000_000),
                     headers=w.auth["pudong"])
    assert ok.status_code == 201 and ok.json()["fine_fen"] == 5_000_000
    due = (date.today() + timedelta(days=30)).isoformat()
    corr = client.post(API, json=_sanction(institution_id=inst, kind="correction", deadline=due),
                       headers=w.auth["pudong"]).json()
    r = client.post(f"{API}/{corr['id']}/corrected", json={}, headers=w.auth["pudong"])
    assert r.status_code == 200 and r.json()["corrected_on"] == date.today().isoformat()


def test_jurisdiction_of_sanctions(client, db) -> None:  # type: ignore[no-untyped-def]
    w = build(db)
    body = _sanction(institution_id=w.lab.institution_id)
    assert client.post(API, json=body, headers=w.auth["jiading"]).status_code == 403
    assert client.post(API, json=body, headers=w.auth["lab"]).status_code == 403
    assert client.post(API, json=body).status_code == 401
    r = client.post(API, json=body, headers=w.auth["city"])
    assert r.status_code == 201
    # Lists are the district's; one sanction is public (penalties are disclosed).
    assert client.get(API, headers=w.auth["jiading"]).json() == []
    assert len(client.get(API, headers=w.auth["pudong"]).json()) == 1
    assert client.get(API, headers=w.auth["lab"]).status_code == 403
    assert client.get(f"{API}/{r.json()['id']}").status_code == 200
    assert client.get(f"/api/supervision/institutions/{w.lab.institution_id}/thresholds",
                      headers=w.auth["jiading"]).status_code == 403


def test_the_dishonesty_list_on_the_directory_and_disclosure_pages(client, db) -> None:  # type: ignore[no-untyped-def]
    w = build(db)
    inst = w.lab.institution_id
    assert 'data-testid="dishonesty-listed"' not in client.get(f"/institutions/{inst}").text
    r = client.post(API, json=_sanction(institution_id=inst, kind="dishonesty_list",
                                        decision_no="沪市监信〔2026〕3号"),
                    headers=w.auth["pudong"])
    page = client.get(f"/institutions/{inst}")
    assert 'data-testid="dishonesty-listed"' in page.text and "沪市监信〔2026〕3号" in page.text
    assert "沪市监信〔2026〕3号" in client.get("/supervision").text
    client.post(f"{API}/{r.json()['id']}/lift", json={}, headers=w.auth["pudong"])
    assert 'data-testid="dishonesty-listed"' not in client.get(f"/institutions/{inst}").text


def _record(db, inst: str, bureau: str, kind: SanctionKind, on: date, numbers=(),  # type: ignore[no-untyped-def]
            key: bool = False) -> None:
    db.add(Sanction(institution_id=inst, bureau_org_id=bureau, kind=kind, decision_no="x",
                    decided_on=on, false_numbers=list(numbers), key_field=key))
    db.commit()


def test_the_2026_thresholds_at_their_boundaries(client, db) -> None:  # type: ignore[no-untyped-def]
    w = build(db)
    a, b, c = w.pudong_ids[1], w.pudong_ids[2], w.pudong_ids[3]
    bureau = w.pudong.org.id
    day = date(2026, 3, 1)
    # Key fields: one is below, two reach the threshold (a flag or the product's words).
    _record(db, a, bureau, SanctionKind.correction, day, ["K-1"], key=True)
    t = service.thresholds(db, a)
    assert (t.false_reports, t.key_field_reports, t.propose_revocation) == (1, 1, False)
    assert service.thresholds(db, a, pending=["K-2"], pending_key=True).propose_revocation
    # Any field: nine are below, ten reach it.
    _record(db, b, bureau, SanctionKind.correction, day, [f"N-{k}" for k in range(9)])
    assert not service.thresholds(db, b).propose_revocation
    t = service.thresholds(db, b, pending=["N-9"])
    assert t.false_reports == 10 and t.propose_revocation
    # A repeat: a false report two years to the day after a penalty is one; a day later, not.
    _record(db, c, bureau, SanctionKind.fine, date(2024, 3, 1))
    assert service.thresholds(db, c, pending=["F-1"], on=date(2026, 3, 1)).repeat
    assert not service.thresholds(db, c, pending=["F-1"], on=date(2026, 3, 2)).repeat
    assert not service.thresholds(db, c).repeat  # the penalty alone is no repeat
    # The key field read from the logged record: an e-bike report.
    register(client, w, "R-EB-1", product="电动自行车用锂离子蓄电池")
    register(client, w, "R-EB-2", product="电动自行车用锂离子蓄电池")
    register(client, w, "R-PLAIN", product="工业用锂离子电池")
    t = service.thresholds(db, w.lab.institution_id, pending=["R-EB-1", "R-PLAIN"])
    assert (t.false_reports, t.key_field_reports) == (2, 1)
    t = service.thresholds(db, w.lab.institution_id, pending=["R-EB-1", "R-EB-2"])
    assert t.key_field_reports == 2 and t.propose_revocation
    out = client.get(f"/api/supervision/institutions/{b}/thresholds",
                     headers=w.auth["pudong"]).json()
    assert out["false_reports"] == 9 and out["propose_revocation"] is False
    form = client.get(f"/supervision/sanctions/new?institution={a}")
    assert form.status_code in (401, 303, 200)
