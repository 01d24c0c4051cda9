"""Double-random inspections through the API: inspectors with conflicts, a plan frozen,
drawn from the log's first checkpoint after the freeze, recomputed from the public JSON,
inspected, completed and published; jurisdiction at each step."""

from __future__ import annotations

from datetime import date, timedelta

from supervision_world import PLAN, build, inspectors, integrate, register
from tichub.core.ids import utcnow
from tichub.supervision.inspections import draw, service
from tichub.supervision.models import CreditScore

API = "/api/supervision"


def _freeze(client, w, who: str = "pudong") -> dict:  # type: ignore[no-untyped-def]
    r = client.post(f"{API}/plans", json=PLAN, headers=w.auth[who])
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["status"] == "draft" and plan["tier_shares"]["A"] == 0.03
    r = client.post(f"{API}/plans/{plan['id']}/freeze", headers=w.auth[who])
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_plan_is_frozen_drawn_from_the_next_checkpoint_and_recomputed(client, db) -> None:  # type: ignore[no-untyped-def]
    w = build(db)
    # One institution in tier D: D is drawn whole, whatever the seed.
    db.add(CreditScore(institution_id=w.pudong_ids[2], period="2026-11", rule_version="v1",
                       score=20.0, tier="D", computed_at=utcnow()))
    db.commit()
    register(client, w, "R-2026-0001")
    integrate(client, db)
    inspectors(client, w, "pudong", 3)
    frozen = _freeze(client, w)
    doc = frozen["frozen"]
    assert frozen["status"] == "frozen" and frozen["digest"] == draw.digest(doc)
    # The pool is the district's institutions, sorted by id, with their tiers at freeze.
    assert [i["id"] for i in doc["institutions"]] == sorted(w.pudong_ids)
    assert {i["id"]: i["tier"] for i in doc["institutions"]}[w.pudong_ids[2]] == "D"
    assert w.jiading_id not in str(doc)
    assert doc["log_size"] == 1 and doc["shares_bp"] == {"A": 300, "B": 1000, "C": 3000,
                                                         "D": 10000}
    # The log has signed nothing since the freeze: the draw waits.
    r = client.post(f"{API}/plans/{frozen['id']}/draw", headers=w.auth["pudong"])
    assert r.status_code == 409
    register(client, w, "R-2026-0002")
    integrate(client, db)
    r = client.post(f"{API}/plans/{frozen['id']}/draw", headers=w.auth["pudong"])
    assert r.status_code == 200, r.text
    drawn = r.json()
    assert drawn["status"] == "drawn" and drawn["checkpoint"]["size"] == 2
    picked = {p["institution_id"]: p for p in drawn["picks"]}
    # 3 B-tier institutions at 10 %: one; the D one always.
    assert len(picked) == 2 and w.pudong_ids[2] in picked
    assert all(len(set(p["inspector_ids"])) == 2 for p in drawn["picks"])

    # Anyone, signed out, reads the plan and recomputes the same picks from it alone.
    public = client.get(f"{API}/plans/{frozen['id']}", headers={}).json()
    root = bytes.fromhex(public["checkpoint"]["root_hash"])
    again = draw.draw(public["frozen"], public["digest"], root, public["checkpoint"]["size"])
    assert draw.same_picks([p.as_dict() for p in again], public["picks"])
    assert public["results"] is None  # not published yet: no results to the public
    other = draw.draw(public["frozen"], public["digest"], bytes(32), 2)
    assert len(other) == 2  # a different checkpoint draws too, and (see the draw tests) differently
    # The signed note is the log's and names the seeding root.
    note = client.get(f"/api/reports/log/checkpoints/{public['checkpoint']['size']}").text
    assert note == public["checkpoint"]["note"]

    # Inspections: a finding per item, then closed; the plan completes with the last one.
    for inspection in client.get(f"{API}/plans/{frozen['id']}",
                                 headers=w.auth["pudong"]).json()["results"]:
        iid = inspection["id"]
        r = client.post(f"{API}/inspections/{iid}/done", json={}, headers=w.auth["pudong"])
        assert r.status_code == 422  # no findings yet
        up = client.post(f"{API}/inspections/{iid}/files", headers=w.auth["pudong"],
                         files={"file": ("photo.jpg", b"\xff\xd8jpeg", "image/jpeg")})
        assert up.status_code == 201, up.text
        for item, outcome in (("1", "compliant"), ("2", "minor")):
            r = client.post(f"{API}/inspections/{iid}/findings", headers=w.auth["pudong"],
                            json={"item": item, "outcome": outcome, "note": "现场核查",
                                  "files": [up.json()["id"]] if item == "2" else []})
            assert r.status_code == 200, r.text
        bad = client.post(f"{API}/inspections/{iid}/findings", headers=w.auth["pudong"],
                          json={"item": "9", "outcome": "serious"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "item"
        # The lab does not see its inspection before it is closed.
        assert client.get(f"{API}/inspections/{iid}", headers=w.auth["lab"]).status_code == 404
        r = client.post(f"{API}/inspections/{iid}/done", json={"summary": "已完成"},
                        headers=w.auth["pudong"])
        assert r.status_code == 200 and r.json()["status"] == "done"
        assert client.get(f"{API}/inspections/{iid}", headers=w.auth["lab"]).status_code == 200
    plan = client.get(f"{API}/plans/{frozen['id']}", headers=w.auth["pudong"]).json()
    assert plan["status"] == "completed"
    assert plan["publication_due"] == service.add_working_days(
        date.fromisoformat(plan["completed_on"]), 20).isoformat()
    r = client.post(f"{API}/plans/{frozen['id']}/publish", headers=w.auth["pudong"])
    assert r.status_code == 200 and r.json()["status"] == "published"
    public = client.get(f"{API}/plans/{frozen['id']}").json()
    assert len(public["results"]) == 2
    # Evidence is never public: the published findings carry no files.
    assert all("files" not in f for i in public["results"] for f in i["findings"])
    page = client.get(f"/supervision/plans/{frozen['id']}")
    assert page.status_code == 200 and frozen["digest"] in page.text
    disclosure = client.get("/supervision")
    assert disclosure.status_code == 200 and PLAN["title"] in disclosure.text
    csv = client.get("/supervision/export?format=csv")
    assert csv.status_code == 200 and "一般不符合" not in csv.text and "minor" in csv.text


def test_no_freeze_while_an_institution_lacks_unconflicted_inspectors(client, db) -> None:  # type: ignore[no-untyped-def]
    w = build(db, pudong_count=2)
    target = w.pudong_ids[1]
    future = (date.today() + timedelta(days=30)).isoformat()
    past = (date.today() - timedelta(days=1)).isoformat()
    ids = inspectors(client, w, "pudong", 2, conflicts=[
        [{"institution_id": target, "reason": "former_employer", "until": future}]])
    r = client.post(f"{API}/plans", json=PLAN, headers=w.auth["pudong"])
    plan_id = r.json()["id"]
    r = client.post(f"{API}/plans/{plan_id}/freeze", headers=w.auth["pudong"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "inspectors"
    # A conflict that ended yesterday no longer counts; one ending today still does.
    today = date.today().isoformat()
    r = client.put(f"{API}/inspectors/{ids[0]}/conflicts", headers=w.auth["pudong"],
                   json={"conflicts": [{"institution_id": target, "reason": "recent_audit",
                                        "until": today}]})
    assert r.status_code == 200
    assert client.post(f"{API}/plans/{plan_id}/freeze",
                       headers=w.auth["pudong"]).status_code == 422
    client.put(f"{API}/inspectors/{ids[0]}/conflicts", headers=w.auth["pudong"],
               json={"conflicts": [{"institution_id": target, "reason": "relative",
                                    "until": past}]})
    r = client.post(f"{API}/plans/{plan_id}/freeze", headers=w.auth["pudong"])
    assert r.status_code == 200 and r.json()["frozen"]["conflicts"] == []
    # Frozen, it cannot change.
    assert client.put(f"{API}/plans/{plan_id}", json=PLAN,
                      headers=w.auth["pudong"]).status_code == 409
    bad = client.put(f"{API}/inspectors/{ids[0]}/conflicts", headers=w.auth["pudong"],
                     json={"conflicts": [{"institution_id": "0" * 26, "reason": "relative"}]})
    assert bad.status_code == 422


def test_jurisdiction_of_plans_and_inspections(client, db) -> None:  # type: ignore[no-untyped-def]
    w = build(db)
    inspectors(client, w, "pudong", 2)
    draft = client.post(f"{API}/plans", json=PLAN, headers=w.auth["pudong"]).json()
    # A draft is the bureau's: not another district's, not the lab's, not the public's.
    assert client.get(f"{API}/plans/{draft['id']}", headers=w.auth["jiading"]).status_code == 404
    assert client.get(f"{API}/plans/{draft['id']}").status_code == 404
    assert client.get(f"{API}/plans/{draft['id']}", headers=w.auth["city"]).status_code == 200
    assert client.get(f"{API}/plans", headers=w.auth["lab"]).status_code == 403
    assert client.post(f"{API}/plans", json=PLAN, headers=w.auth["lab"]).status_code == 403
    assert client.post(f"{API}/plans/{draft['id']}/freeze",
                       headers=w.auth["jiading"]).status_code == 404
    assert draft["id"] not in str(client.get(f"{API}/plans", headers=w.auth["jiading"]).json())
    assert client.get(f"{API}/inspectors", headers=w.auth["jiading"]).json() == []
    # A bureau's inspectors are its own.
    assert len(client.get(f"{API}/inspectors", headers=w.auth["pudong"]).json()) == 2
    register(client, w, "R-2026-0001")
    integrate(client, db)
    client.post(f"{API}/plans/{draft['id']}/freeze", headers=w.auth["pudong"])
    assert client.get(f"{API}/plans/{draft['id']}").status_code == 200  # frozen: public
    register(client, w, "R-2026-0002")
    integrate(client, db)
    drawn = client.post(f"{API}/plans/{draft['id']}/draw", headers=w.auth["pudong"]).json()
    iid = client.get(f"{API}/plans/{draft['id']}",
                     headers=w.auth["pudong"]).json()["results"][0]["id"]
    assert drawn["picks"]
    finding = {"item": "1", "outcome": "serious"}
    for who in ("jiading", "lab"):
        r = client.post(f"{API}/inspections/{iid}/findings", json=finding, headers=w.auth[who])
        assert r.status_code in (403, 404), who
        assert client.get(f"{API}/inspections/{iid}", headers=w.auth[who]).status_code in (
            403, 404)
    # The city bureau sees every district's inspections but records only its own.
    assert client.get(f"{API}/inspections/{iid}", headers=w.auth["city"]).status_code == 200
    assert client.post(f"{API}/inspections/{iid}/findings", json=finding,
                       headers=w.auth["city"]).status_code == 403
    assert client.post(f"{API}/inspections/{iid}/findings", json=finding,
                       headers=w.auth["pudong"]).status_code == 200
    assert client.get(f"/supervision/plans/{draft['id']}").status_code == 200
    assert client.get("/supervision/plans").status_code in (401, 303, 200)


def test_working_days_and_the_overdue_publication() -> None:
    friday = date(2026, 12, 4)
    assert service.add_working_days(friday, 1) == date(2026, 12, 7)  # Monday
    assert service.add_working_days(friday, 5) == date(2026, 12, 11)
    assert service.add_working_days(friday, 20) == date(2027, 1, 1)
    assert service.add_working_days(date(2026, 12, 5), 1) == date(2026, 12, 7)  # Saturday


def test_the_background_integrator_draws_a_frozen_plan_unasked(client, db) -> None:  # type: ignore[no-untyped-def]
    import time

    from tichub.reports.integrator import Integrator

    w = build(db)
    register(client, w, "R-2026-0001")
    integrate(client, db)
    inspectors(client, w, "pudong", 3)
    frozen = _freeze(client, w)
    register(client, w, "R-2026-0002")  # queued; the integrator signs the checkpoint after it
    app = client.app
    calls: list[int] = []

    def failing(_db) -> None:  # type: ignore[no-untyped-def]
        calls.append(1)
        raise RuntimeError("a broken hook does not stop the draw")

    from tichub.app import after_checkpoint

    # What the app wires at start-up, after a hook that fails.
    integrator = Integrator(app.state.sessionmaker, app.state.log, 0.05,
                            after_checkpoint=[failing, *after_checkpoint()])
    integrator.start()
    try:
        deadline = time.monotonic() + 20
        status = "frozen"
        while status == "frozen" and time.monotonic() < deadline:
            time.sleep(0.1)
            status = client.get(f"{API}/plans/{frozen['id']}",
                                headers=w.auth["pudong"]).json()["status"]
    finally:
        integrator.stop()
    assert status == "drawn" and calls
    plan = client.get(f"{API}/plans/{frozen['id']}", headers=w.auth["pudong"]).json()
    assert plan["checkpoint"]["size"] == 2 and plan["picks"]


def test_no_draw_while_no_checkpoint_follows_the_freeze(client, db) -> None:  # type: ignore[no-untyped-def]
    from tichub.reports.integrator import Integrator

    w = build(db)
    register(client, w, "R-2026-0001")
    integrate(client, db)
    inspectors(client, w, "pudong", 3)
    frozen = _freeze(client, w)
    app = client.app
    integrator = Integrator(app.state.sessionmaker, app.state.log, 0.05,
                            after_checkpoint=[service.draw_ready])
    integrator.signed()  # nothing signed since the freeze: the hook runs and waits
    plan = client.get(f"{API}/plans/{frozen['id']}", headers=w.auth["pudong"]).json()
    assert plan["status"] == "frozen"
