"""Qualification approval by commitment and by the general route: the provisional
qualification, the three-month check, the three-year bar, jurisdiction and isolation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpers import Account, api_token, make_account, make_institution
from tichub.core import errors
from tichub.core.models import AuditEvent, Notification, OrgKind, Role
from tichub.registry import service as registry
from tichub.registry.models import (
    Institution,
    Qualification,
    QualificationKind,
    QualificationStatus,
    ScopeLine,
)
from tichub.registry.schemas import ScopeLineIn, SignatoryIn
from tichub.supervision.approval import service
from tichub.supervision.approval.schemas import ApplicationIn, CheckIn, Conditions, DecisionIn
from tichub.supervision.models import (
    ApplicationKind,
    ApplicationRoute,
    ApplicationStatus,
    Bureau,
    QualificationApplication,
)

ON = date(2026, 11, 30)  # signed on this day: the check is due 2027-02-28
SCOPE = [ScopeLineIn(standard="GB 4943.1-2022", product="信息技术设备", parameter="电气强度")]


# --- calendar rules, on their own ----------------------------------------------------------

def test_three_months_and_three_years_end_on_the_same_day_or_the_months_last() -> None:
    assert service.check_due_for(date(2026, 1, 15)) == date(2026, 4, 15)
    assert service.check_due_for(ON) == date(2027, 2, 28)  # no 30 February
    assert service.check_due_for(date(2027, 11, 30)) == date(2028, 2, 29)  # leap year
    assert service.check_due_for(date(2026, 10, 31)) == date(2027, 1, 31)  # across the year
    assert service.add_years(date(2028, 2, 29), 3) == date(2031, 2, 28)
    assert service.add_years(date(2026, 5, 6), 3) == date(2029, 5, 6)


def test_reminder_steps_at_30_days_7_days_and_overdue() -> None:
    due = date(2027, 2, 28)
    assert service.reminder_stage(due, due - timedelta(days=31)) == 0
    assert service.reminder_stage(due, due - timedelta(days=30)) == 1
    assert service.reminder_stage(due, due - timedelta(days=8)) == 1
    assert service.reminder_stage(due, due - timedelta(days=7)) == 2
    assert service.reminder_stage(due, due) == 2  # the last day is still on time
    assert service.reminder_stage(due, due + timedelta(days=1)) == 3


# --- fixtures -----------------------------------------------------------------------------

def _bureau(db: Session, email: str, district: str | None, role: Role = Role.editor) -> Account:
    acc = make_account(db, email, kind=OrgKind.regulator, role=role)
    db.add(Bureau(org_id=acc.org.id, district=district))
    db.commit()
    return acc


@pytest.fixture
def world(db: Session) -> dict[str, Any]:
    lab = make_account(db, "lab@example.com")
    inst, cnas = make_institution(db, lab, name="甲检测", serial=1, district="pudong")
    other = make_account(db, "other@example.com")
    other_inst, _ = make_institution(db, other, name="乙检测", serial=2, district="xuhui")
    return {"lab": lab, "inst": inst, "cnas": cnas, "other": other, "other_inst": other_inst,
            "pudong": _bureau(db, "pudong@reg.example", "pudong"),
            "xuhui": _bureau(db, "xuhui@reg.example", "xuhui"),
            "city": _bureau(db, "city@reg.example", None)}


def _data(inst: str, kind: ApplicationKind = ApplicationKind.first,
          route: ApplicationRoute = ApplicationRoute.commitment, db: Session | None = None,
          qualification_id: str | None = None, scope: list[ScopeLineIn] | None = None,
          address: str = "上海市浦东新区张江路 1 号") -> ApplicationIn:
    text = ""
    if route is ApplicationRoute.commitment:
        assert db is not None
        text = service.commitment_text(db.get(Institution, inst).name_zh, kind, "zh")
    return ApplicationIn(institution_id=inst, route=route, kind=kind,
                         qualification_id=qualification_id,
                         conditions=Conditions(site_address=address, staff_count=12,
                                               scope=SCOPE if scope is None else scope),
                         commitment=text)


def _apply(db: Session, w: dict[str, Any], on: date = ON, **kw: Any) -> QualificationApplication:
    return service.apply(db, w["lab"].principal(db), _data(w["inst"], db=db, **kw), on=on)


# --- the commitment route -----------------------------------------------------------------

def test_a_signed_commitment_grants_a_provisional_qualification_at_once(db, world) -> None:  # type: ignore[no-untyped-def]
    app = _apply(db, world)
    assert app.status is ApplicationStatus.provisional
    assert app.check_due == date(2027, 2, 28)
    assert app.signed_by == world["lab"].user.id and app.signed_at is not None
    assert "三个月" in app.commitment
    q = db.get(Qualification, app.qualification_id)
    assert q.kind is QualificationKind.cma and q.on_commitment
    assert q.status is QualificationStatus.valid and q.issued_on == ON
    assert q.valid_until == date(2032, 11, 30)
    assert [line.parameter for line in db.scalars(
        select(ScopeLine).where(ScopeLine.qualification_id == q.id))] == ["电气强度"]
    audit = db.scalars(select(AuditEvent).where(AuditEvent.object_id == app.id)).all()
    assert [a.action for a in audit] == ["qualification_application.submitted"]
    assert audit[0].data["commitment_signed"] is True
    # The district's bureau is told, with the deadline.
    told = db.scalars(select(Notification).where(
        Notification.org_id == world["pudong"].org.id)).all()
    assert len(told) == 1 and "2027-02-28" in told[0].title
    assert not db.scalars(select(Notification).where(
        Notification.org_id == world["xuhui"].org.id)).all()


def test_the_commitment_must_be_signed_as_shown(db, world) -> None:  # type: ignore[no-untyped-def]
    data = _data(world["inst"], db=db)
    for text in ("", "我承诺", data.commitment + "（另有约定）"):
        with pytest.raises(errors.Problem) as exc:
            service.apply(db, world["lab"].principal(db), data.model_copy(
                update={"commitment": text}), on=ON)
        assert exc.value.errors[0].field == "commitment"
    english = service.commitment_text("甲检测", ApplicationKind.first, "en")
    app = service.apply(db, world["lab"].principal(db), data.model_copy(
        update={"commitment": english}), on=ON)
    assert app.commitment == english and "three months" in english


def test_kinds_change_the_registry_as_asked(db, world) -> None:  # type: ignore[no-untyped-def]
    first = _apply(db, world)
    qid = first.qualification_id
    service.record_check(db, world["pudong"].principal(db), first.id,
                         CheckIn(passed=True, checked_on=ON), on=ON)
    later = date(2027, 3, 1)
    added = _apply(db, world, on=later, kind=ApplicationKind.added_parameters,
                   qualification_id=qid, scope=[ScopeLineIn(
                       standard="GB 4943.1-2022", product="信息技术设备", parameter="接触电流")])
    q = db.get(Qualification, qid)
    db.refresh(q)
    assert q.on_commitment and added.check_due == date(2027, 6, 1)
    assert sorted(db.scalars(select(ScopeLine.line_no).where(
        ScopeLine.qualification_id == qid))) == [1, 2]
    service.record_check(db, world["pudong"].principal(db), added.id,
                         CheckIn(passed=True, checked_on=later), on=later)
    moved = _apply(db, world, on=later, kind=ApplicationKind.site_change,
                   qualification_id=qid, scope=[], address="上海市浦东新区新地址 9 号")
    assert db.get(Institution, world["inst"]).address == "上海市浦东新区新地址 9 号"
    service.record_check(db, world["pudong"].principal(db), moved.id,
                         CheckIn(passed=True, checked_on=later), on=later)
    renewal_on = date(2032, 10, 1)
    _apply(db, world, on=renewal_on, kind=ApplicationKind.renewal, qualification_id=qid,
           scope=[])
    db.refresh(q)
    assert q.valid_until == date(2038, 11, 30) and q.on_commitment  # six years from the old end


def test_application_faults_name_their_field(db, world) -> None:  # type: ignore[no-untyped-def]
    p = world["lab"].principal(db)
    cases = [
        (_data(world["inst"], db=db, scope=[]), "conditions.scope"),
        (_data(world["inst"], db=db, scope=[ScopeLineIn(standard="not a standard",
                                                       product="x", parameter="y")]),
         "conditions.scope.standard"),
        (_data(world["inst"], db=db, kind=ApplicationKind.renewal), "qualification_id"),
        # A CNAS accreditation is not a CMA qualification.
        (_data(world["inst"], db=db, kind=ApplicationKind.renewal,
               qualification_id=world["cnas"]), "qualification_id"),
        (_data(world["inst"], db=db, qualification_id=world["cnas"]), "qualification_id"),
    ]
    for data, field in cases:
        with pytest.raises(errors.Problem) as exc:
            service.apply(db, p, data, on=ON)
        assert exc.value.status == 422 and exc.value.errors[0].field == field, exc.value
    assert db.scalar(select(QualificationApplication.id)) is None


def test_one_open_application_per_qualification(db, world) -> None:  # type: ignore[no-untyped-def]
    _apply(db, world)
    with pytest.raises(errors.Problem) as exc:
        _apply(db, world)
    assert exc.value.status == 409


# --- the on-site check --------------------------------------------------------------------

def test_a_passed_check_verifies_the_qualification(db, world) -> None:  # type: ignore[no-untyped-def]
    app = _apply(db, world)
    due = app.check_due
    assert not service.to_out(db, app, on=due).overdue  # the last day is on time
    assert service.to_out(db, app, on=due + timedelta(days=1)).overdue
    service.record_check(db, world["pudong"].principal(db), app.id,
                         CheckIn(passed=True, checked_on=due), on=due + timedelta(days=3))
    assert app.status is ApplicationStatus.verified and app.checked_on == due
    q = db.get(Qualification, app.qualification_id)
    assert not q.on_commitment and q.status is QualificationStatus.valid
    assert not service.to_out(db, app, on=due + timedelta(days=9)).overdue
    with pytest.raises(errors.Problem) as exc:  # checked once
        service.record_check(db, world["pudong"].principal(db), app.id,
                             CheckIn(passed=False, note="x"), on=due)
    assert exc.value.status == 409


def test_check_dates_are_neither_future_nor_before_signing(db, world) -> None:  # type: ignore[no-untyped-def]
    app = _apply(db, world)
    bureau = world["pudong"].principal(db)
    signed = app.signed_at.astimezone(service.BEIJING).date()
    for day in (date(2099, 1, 1), signed - timedelta(days=1)):
        with pytest.raises(errors.Problem) as exc:
            service.record_check(db, bureau, app.id, CheckIn(passed=True, checked_on=day),
                                 on=signed + timedelta(days=5))
        assert exc.value.errors[0].field == "checked_on"
    with pytest.raises(errors.Problem) as exc:  # a failure says why
        service.record_check(db, bureau, app.id, CheckIn(passed=False, checked_on=signed),
                             on=signed)
    assert exc.value.errors[0].field == "note"


def test_a_failed_check_revokes_and_bars_the_route_for_exactly_three_years(db, world) -> None:  # type: ignore[no-untyped-def]
    app = _apply(db, world)
    checked = date(2027, 1, 20)
    service.record_check(db, world["city"].principal(db), app.id,  # the city bureau may too
                         CheckIn(passed=False, checked_on=checked, note="关键设备不存在"),
                         on=checked)
    assert app.status is ApplicationStatus.failed
    q = db.get(Qualification, app.qualification_id)
    assert q.status is QualificationStatus.withdrawn and q.on_commitment
    # What the credit record reads: a failed application, its date, and the audit's event.
    event = db.scalar(select(AuditEvent).where(AuditEvent.object_id == app.id,
                                               AuditEvent.action.like("%failed")))
    assert event.data["credit_event"] == "commitment_check_failed"
    assert service.to_out(db, app).barred_until == date(2030, 1, 20)
    # No mark may stand on the revoked qualification.
    assert registry.accreditation_faults(db, world["inst"], QualificationKind.cma,
                                         ["GB 4943.1-2022"], checked)
    # Barred up to the day before the third anniversary …
    with pytest.raises(errors.Problem) as exc:
        _apply(db, world, on=date(2030, 1, 19))
    assert exc.value.errors[0].field == "route" and "2030-01-20" in exc.value.detail
    assert service.barred_until(db, world["inst"], date(2030, 1, 19)) == date(2030, 1, 20)
    # … the general route stays open meanwhile …
    general = _apply(db, world, on=date(2028, 1, 1), route=ApplicationRoute.general)
    service.decide(db, world["pudong"].principal(db), general.id,
                   DecisionIn(approved=False, note="条件不足"), on=date(2028, 1, 1))
    # … and on the anniversary itself the commitment route opens again.
    assert service.barred_until(db, world["inst"], date(2030, 1, 20)) is None
    again = _apply(db, world, on=date(2030, 1, 20))
    assert again.status is ApplicationStatus.provisional


# --- the general route --------------------------------------------------------------------

def test_the_general_route_waits_for_the_bureau(db, world) -> None:  # type: ignore[no-untyped-def]
    app = _apply(db, world, route=ApplicationRoute.general)
    assert app.status is ApplicationStatus.submitted
    assert app.qualification_id is None and app.check_due is None and app.commitment == ""
    assert db.scalar(select(Qualification.id).where(
        Qualification.kind == QualificationKind.cma)) is None
    with pytest.raises(errors.Problem) as exc:  # no check on the general route
        service.record_check(db, world["pudong"].principal(db), app.id,
                             CheckIn(passed=True), on=ON)
    assert exc.value.status == 409
    with pytest.raises(errors.Problem) as exc:
        service.decide(db, world["pudong"].principal(db), app.id,
                       DecisionIn(approved=False), on=ON)
    assert exc.value.errors[0].field == "note"
    service.decide(db, world["pudong"].principal(db), app.id, DecisionIn(approved=True),
                   on=ON)
    assert app.status is ApplicationStatus.approved
    q = db.get(Qualification, app.qualification_id)
    assert not q.on_commitment and q.status is QualificationStatus.valid
    assert db.scalar(select(Notification.id).where(
        Notification.org_id == world["lab"].org.id,
        Notification.kind == "supervision.application.approved")) is not None


def test_a_rejection_changes_nothing_in_the_registry(db, world) -> None:  # type: ignore[no-untyped-def]
    app = _apply(db, world, route=ApplicationRoute.general)
    service.decide(db, world["pudong"].principal(db), app.id,
                   DecisionIn(approved=False, note="人员不足"), on=ON)
    assert app.status is ApplicationStatus.rejected and app.qualification_id is None
    assert db.scalar(select(Qualification.id).where(
        Qualification.kind == QualificationKind.cma)) is None


# --- jurisdiction and isolation -----------------------------------------------------------

def test_only_the_districts_bureau_or_the_city_sees_and_decides(db, world) -> None:  # type: ignore[no-untyped-def]
    app = _apply(db, world)
    page = service.PageParams(page=1, per_page=20)
    f = service.Filters()
    assert [a.id for a in service.list_for_bureau(db, world["pudong"].principal(db), f,
                                                  page)[0]] == [app.id]
    assert [a.id for a in service.list_for_bureau(db, world["city"].principal(db), f,
                                                  page)[0]] == [app.id]
    assert service.list_for_bureau(db, world["xuhui"].principal(db), f, page)[0] == []
    for who in ("xuhui", "other"):
        with pytest.raises(errors.Problem) as exc:
            service.get_application(db, world[who].principal(db), app.id)
        assert exc.value.status == 404
        with pytest.raises(errors.Problem) as exc:
            service.record_check(db, world[who].principal(db), app.id, CheckIn(passed=True),
                                 on=ON)
        assert exc.value.status == 404
    with pytest.raises(errors.Problem) as exc:  # a lab is no supervisor
        service.list_for_bureau(db, world["lab"].principal(db), f, page)
    assert exc.value.status == 403
    # The lab itself sees it but may not check itself.
    assert service.get_application(db, world["lab"].principal(db), app.id).id == app.id
    with pytest.raises(errors.Problem) as exc:
        service.record_check(db, world["lab"].principal(db), app.id, CheckIn(passed=True),
                             on=ON)
    assert exc.value.status == 403
    assert service.list_mine(db, world["other"].principal(db), f, page)[0] == []


def test_a_bureau_viewer_sees_but_does_not_decide(db, world) -> None:  # type: ignore[no-untyped-def]
    viewer = make_account(db, "v2@reg.example", kind=OrgKind.regulator, role=Role.viewer,
                          org=world["pudong"].org)
    app = _apply(db, world)
    assert service.get_application(db, viewer.principal(db), app.id).id == app.id
    with pytest.raises(errors.Problem) as exc:
        service.record_check(db, viewer.principal(db), app.id, CheckIn(passed=True), on=ON)
    assert exc.value.status == 403


def test_only_the_institutions_own_editors_apply(db, world) -> None:  # type: ignore[no-untyped-def]
    for who in ("other", "pudong", "city"):
        with pytest.raises(errors.Problem) as exc:
            service.apply(db, world[who].principal(db), _data(world["inst"], db=db), on=ON)
        assert exc.value.status == 403


# --- reminders ----------------------------------------------------------------------------

def test_reminders_go_to_the_bureau_once_per_step(db, world) -> None:  # type: ignore[no-untyped-def]
    app = _apply(db, world)
    due = app.check_due
    bureau = world["pudong"].org.id

    def reminders() -> list[str]:
        return [n.title for n in db.scalars(select(Notification).where(
            Notification.org_id == bureau, Notification.kind == "supervision.check_due")
            .order_by(Notification.at, Notification.id))]

    assert service.remind(db, due - timedelta(days=31)) == 0
    assert service.remind(db, due - timedelta(days=30)) == 1
    assert service.remind(db, due - timedelta(days=29)) == 0  # said already
    assert service.remind(db, due - timedelta(days=7)) == 1
    assert service.remind(db, due) == 0
    assert service.remind(db, due + timedelta(days=1)) == 1
    assert service.remind(db, due + timedelta(days=2)) == 0
    said = reminders()
    assert len(said) == 3 and "30" in said[0] and "7" in said[1] and "逾期" in said[2]
    assert service.due_count(db, due - timedelta(days=31)) == 0
    assert service.due_count(db, due - timedelta(days=30)) == 1
    service.record_check(db, world["pudong"].principal(db), app.id, CheckIn(passed=True),
                         on=due + timedelta(days=3))
    assert service.remind(db, due + timedelta(days=40)) == 0  # checked: nothing more


def test_the_due_list_puts_the_most_urgent_check_first(db, world) -> None:  # type: ignore[no-untyped-def]
    late = _apply(db, world, on=date(2026, 6, 1))  # due 2026-09-01
    other_inst = make_institution(db, world["lab"], name="甲检测二部", serial=3,
                                  district="pudong")[0]
    soon = service.apply(db, world["lab"].principal(db), _data(other_inst, db=db),
                         on=date(2026, 7, 1))  # due 2026-10-01
    rows = service.checks_due(db, world["pudong"].principal(db), within_days=30,
                              on=date(2026, 9, 5))
    assert [a.id for a in rows] == [late.id, soon.id]
    assert service.checks_due(db, world["pudong"].principal(db), within_days=30,
                              on=date(2026, 7, 1)) == []
    assert service.due_by_district(db, world["city"].principal(db),
                                   on=date(2026, 9, 5)) == {"pudong": {"due": 2, "overdue": 1}}
    assert service.due_by_district(db, world["pudong"].principal(db),
                                   on=date(2026, 9, 1)) == {"pudong": {"due": 2, "overdue": 0}}
    assert service.due_by_district(db, world["xuhui"].principal(db), on=date(2026, 9, 5)) == {}


# --- the API ------------------------------------------------------------------------------

def _auth(db: Session, acc: Account, *scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(db, acc, list(scopes))}"}


def test_the_api_from_application_to_check(client, db, world) -> None:  # type: ignore[no-untyped-def]
    lab = _auth(db, world["lab"], "supervision:read", "supervision:write")
    r = client.get("/api/supervision/applications/commitment", headers=lab,
                   params={"institution_id": world["inst"], "kind": "first", "lang": "en"})
    assert r.status_code == 200, r.text
    text = r.json()["text"]
    body = {"institution_id": world["inst"], "route": "commitment", "kind": "first",
            "conditions": {"site_address": "上海市浦东新区张江路 1 号", "staff_count": 9,
                           "key_instruments": [{"name": "耐压测试仪", "asset_no": "EQ-001"}],
                           "scope": [{"standard": "GB 4943.1-2022", "product": "信息技术设备",
                                      "parameter": "电气强度"}]},
            "commitment": text}
    bad = client.post("/api/supervision/applications", headers=lab,
                      json={**body, "commitment": "I promise"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "commitment"
    r = client.post("/api/supervision/applications", headers=lab, json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["status"] == "provisional" and out["check_due"] and out["qualification_number"]
    # Search and the institution's API show the qualification on commitment.
    inst = client.get(f"/api/registry/institutions/{world['inst']}").json()
    assert [q["on_commitment"] for q in inst["qualifications"] if q["kind"] == "cma"] == [True]

    mine = client.get("/api/supervision/mine/applications", headers=lab).json()
    assert [a["id"] for a in mine["items"]] == [out["id"]]
    other = _auth(db, world["other"], "supervision:read", "supervision:write")
    assert client.get(f"/api/supervision/applications/{out['id']}",
                      headers=other).status_code == 404
    assert client.get("/api/supervision/mine/applications",
                      headers=other).json()["items"] == []
    assert client.get("/api/supervision/applications", headers=lab).status_code == 403

    xuhui = _auth(db, world["xuhui"], "supervision:read", "supervision:write")
    assert client.get("/api/supervision/applications",
                      headers=xuhui).json()["total"] == 0
    assert client.post(f"/api/supervision/applications/{out['id']}/check", headers=xuhui,
                       json={"passed": True}).status_code == 404
    read_only = _auth(db, world["pudong"], "supervision:read")
    assert client.post(f"/api/supervision/applications/{out['id']}/check",
                       headers=read_only, json={"passed": True}).status_code == 403
    pudong = _auth(db, world["pudong"], "supervision:read", "supervision:write")
    due = client.get("/api/supervision/applications", headers=pudong,
                     params={"due_within": 100}).json()
    assert [a["id"] for a in due["items"]] == [out["id"]]
    r = client.post(f"/api/supervision/applications/{out['id']}/check", headers=pudong,
                    json={"passed": True, "note": "现场核查符合"})
    assert r.status_code == 200 and r.json()["status"] == "verified", r.text
    inst = client.get(f"/api/registry/institutions/{world['inst']}").json()
    assert [q["on_commitment"] for q in inst["qualifications"] if q["kind"] == "cma"] == [False]


def test_the_api_bounds_its_input(client, db, world) -> None:  # type: ignore[no-untyped-def]
    lab = _auth(db, world["lab"], "supervision:read", "supervision:write")
    base = {"institution_id": world["inst"], "route": "general", "kind": "first",
            "conditions": {"site_address": "x", "staff_count": 1,
                           "scope": [{"standard": "GB 4943.1-2022", "product": "p",
                                      "parameter": "q"}]}}
    for change, field in ((("staff_count", 0), "conditions.staff_count"),
                          (("staff_count", 100_001), "conditions.staff_count"),
                          (("site_address", ""), "conditions.site_address"),
                          (("site_address", "x" * 301), "conditions.site_address")):
        body = {**base, "conditions": {**base["conditions"], change[0]: change[1]}}
        r = client.post("/api/supervision/applications", headers=lab, json=body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    r = client.post("/api/supervision/applications", headers=lab, json=base)
    assert r.status_code == 201 and r.json()["status"] == "submitted"


# --- registration under a qualification on commitment -------------------------------------

def test_a_record_says_its_mark_stood_on_a_commitment(client, db, world) -> None:  # type: ignore[no-untyped-def]
    on = date.today() - timedelta(days=1)
    app = _apply(db, world, on=on)
    registry.add_signatory(db, world["lab"].principal(db), world["inst"], SignatoryIn(
        name="张工", authorised_from=date(2020, 1, 1)))
    token = _auth(db, world["lab"], "reports:write")

    def register(number: str) -> Any:
        return client.post("/api/reports", headers=token, json={
            "number": number, "kind": "test_report", "institution_id": world["inst"],
            "client": "某公司", "product": "服务器", "standards": ["GB 4943.1-2022"],
            "marks": ["CMA"], "tested_from": on.isoformat(), "tested_to": on.isoformat(),
            "issued_on": on.isoformat(), "signatories": ["张工"], "conclusion": "合格"})

    r = register("R-1")
    assert r.status_code == 201, r.text
    assert "mark_on_commitment" in r.json()["flags"]
    service.record_check(db, world["pudong"].principal(db), app.id,
                         CheckIn(passed=True, checked_on=on), on=date.today())
    r = register("R-2")
    assert r.status_code == 201 and "mark_on_commitment" not in r.json()["flags"], r.text
