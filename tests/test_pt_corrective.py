"""A laboratory records its corrective action after an unsatisfactory PT result (API and
its score history page); nobody else can; bad input names the field; the supervision rule
PT_NO_CORRECTION reads what was recorded."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from helpers import api_token, make_account, sign_in
from pt_world import unsatisfactory_result
from signals_world import make_lab, record, run
from tichub.core.ids import today
from tichub.core.models import AuditEvent, OrgKind
from tichub.pt.models import PtCorrectiveAction


def _url(result_id: str) -> str:
    return f"/api/pt/results/{result_id}/corrective-actions"


def test_the_lab_records_a_corrective_action_and_the_signal_stops(client, db) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(db, "fix@lab.cn")
    published, result_id = unsatisfactory_result(db, lab.org_id, "Pb")
    head = {"Authorization": "Bearer " + api_token(db, lab.account, ["pt:write", "pt:read"])}
    done = published + timedelta(days=5)
    r = client.post(_url(result_id), headers=head,
                    json={"done_on": done.isoformat(), "note": "  重新校准并培训人员  "})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["result_id"] == result_id and body["org_id"] == lab.org_id
    assert body["done_on"] == done.isoformat() and body["note"] == "重新校准并培训人员"
    listed = client.get(_url(result_id), headers=head).json()
    assert [a["id"] for a in listed] == [body["id"]]
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "pt.corrective_action"))
    assert event is not None and event.org_id == lab.org_id and event.object_id == result_id
    # Supervision reads it: results reported from that day on raise nothing; before, they do.
    record(db, lab, "R-before-fix", issued=done - timedelta(days=1), results=[("Pb", "1.0")])
    record(db, lab, "R-on-fix-day", issued=done, results=[("Pb", "1.0")])  # boundary
    assert [s.number for s in run(db, "PT_NO_CORRECTION")] == ["R-before-fix"]
    # Supervision reads the list too.
    regulator = make_account(db, "samr-fix@example.cn", kind=OrgKind.regulator)
    supervisor = {"Authorization": "Bearer " + api_token(db, regulator, ["pt:read"])}
    assert len(client.get(_url(result_id), headers=supervisor).json()) == 1
    # …but may not act in the lab's name.
    r = client.post(_url(result_id), headers={"Authorization": "Bearer " + api_token(
        db, regulator, ["pt:write"])}, json={"done_on": done.isoformat(), "note": "代录"})
    assert r.status_code == 403


def test_another_lab_can_neither_record_nor_read(client, db) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(db, "own@lab.cn")
    other = make_lab(db, "other@lab.cn")
    published, result_id = unsatisfactory_result(db, lab.org_id, "Pb")
    head = {"Authorization": "Bearer " + api_token(db, other.account, ["pt:write", "pt:read"])}
    r = client.post(_url(result_id), headers=head,
                    json={"done_on": published.isoformat(), "note": "冒名整改"})
    assert r.status_code == 404  # not even that the result exists
    assert client.get(_url(result_id), headers=head).status_code == 404
    # The lab's own viewer-scoped token cannot write either.
    read_only = {"Authorization": "Bearer " + api_token(db, lab.account, ["pt:read"])}
    r = client.post(_url(result_id), headers=read_only,
                    json={"done_on": published.isoformat(), "note": "只读"})
    assert r.status_code == 403
    assert client.post(_url(result_id), json={"done_on": published.isoformat(),
                                              "note": "x"}).status_code == 401
    db.rollback()
    assert db.scalar(select(PtCorrectiveAction.id)) is None


def test_bad_input_is_refused_naming_the_field(client, db) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(db, "bad@lab.cn")
    published, result_id = unsatisfactory_result(db, lab.org_id, "Pb")
    head = {"Authorization": "Bearer " + api_token(db, lab.account, ["pt:write", "pt:read"])}
    cases = [
        ({"done_on": published.isoformat(), "note": "   "}, "note"),
        ({"done_on": published.isoformat(), "note": "x" * 2001}, "note"),
        ({"done_on": "2026-02-30", "note": "整改"}, "done_on"),
        ({"note": "整改"}, "done_on"),
        ({"done_on": (today() + timedelta(days=1)).isoformat(), "note": "整改"}, "done_on"),
        ({"done_on": (published - timedelta(days=1)).isoformat(), "note": "整改"}, "done_on"),
    ]
    for body, field in cases:
        r = client.post(_url(result_id), headers=head, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in r.json()["errors"]] == [field], (body, r.text)
    # Boundaries: the publication day and today are both accepted.
    for day in (published, today()):
        r = client.post(_url(result_id), headers=head,
                        json={"done_on": day.isoformat(), "note": "整改"})
        assert r.status_code == 201, r.text
    assert client.post(_url("01J00000000000000000000000"), headers=head,
                       json={"done_on": published.isoformat(), "note": "整改"}
                       ).status_code == 404


def test_only_an_unsatisfactory_result_takes_one(client, db) -> None:  # type: ignore[no-untyped-def]
    from tichub.pt.models import PtResult

    lab = make_lab(db, "fine@lab.cn")
    published, result_id = unsatisfactory_result(db, lab.org_id, "Pb")
    db.get(PtResult, result_id).verdict = "satisfactory"  # type: ignore[union-attr]
    db.commit()
    head = {"Authorization": "Bearer " + api_token(db, lab.account, ["pt:write"])}
    r = client.post(_url(result_id), headers=head,
                    json={"done_on": published.isoformat(), "note": "整改"})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "result"


def test_the_score_history_page_has_the_form(client, db) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(db, "page@lab.cn")
    published, result_id = unsatisfactory_result(db, lab.org_id, "Pb")
    csrf = sign_in(client, "page@lab.cn")
    page = client.get(f"/pt/history?org={lab.org_id}")
    assert page.status_code == 200
    assert f'action="/pt/results/{result_id}/corrective-actions"' in page.text
    assert "尚未登记" in page.text or "None recorded yet" in page.text
    # A refusal comes back as problem+json naming the field, for app.js to show.
    r = client.post(f"/pt/results/{result_id}/corrective-actions",
                    data={"csrf_token": csrf, "done_on": published.isoformat(), "note": ""},
                    headers={"accept": "application/json"}, follow_redirects=False)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note"
    r = client.post(f"/pt/results/{result_id}/corrective-actions",
                    data={"csrf_token": csrf, "done_on": published.isoformat(),
                          "note": "更换标准物质"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/pt/history?org={lab.org_id}"
    page = client.get(r.headers["location"])
    assert "更换标准物质" in page.text and published.isoformat() in page.text
    # Another lab's member gets no form and no page for it.
    make_lab(db, "nosy@lab.cn")
    client.cookies.clear()
    csrf = sign_in(client, "nosy@lab.cn")
    assert client.get(f"/pt/history?org={lab.org_id}").status_code == 403
    r = client.post(f"/pt/results/{result_id}/corrective-actions",
                    data={"csrf_token": csrf, "done_on": published.isoformat(), "note": "冒名"},
                    follow_redirects=False)
    assert r.status_code == 404
