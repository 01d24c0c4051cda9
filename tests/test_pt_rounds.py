"""PT rounds through the API: define, invite, collect, compute, publish; who sees what; bad
submissions refused with nothing stored."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from helpers import Account, api_token, make_account, make_institution
from test_pt_stats import E3
from tichub.core.models import AuditEvent, OrgKind
from tichub.pt import service
from tichub.pt.models import PtResult
from tichub.pt.schemas import ResultIn

LATER = (datetime.now(UTC) + timedelta(days=30)).isoformat()


def bearer(db, account: Account, *scopes: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": "Bearer " + api_token(db, account, list(scopes))}


def ok(r, status: int = 200):  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    return r.json()


@pytest.fixture
def round_setup(client, db):  # type: ignore[no-untyped-def]
    """A provider with a scheme (atrazine in µg/L) and a draft round; 34 laboratories."""
    provider = make_account(db, "pt@provider.cn")
    inst, _ = make_institution(db, provider, name="能力验证中心", serial=900)
    head = bearer(db, provider, "pt:write", "pt:read", "reports:write")
    scheme = ok(client.post("/api/pt/schemes", headers=head, json={
        "org_id": provider.org.id, "code": "WATER-PEST", "name_zh": "饮用水农药残留",
        "name_en": "Pesticides in drinking water", "institution_id": inst,
        "measurands": [{"name": "atrazine", "unit": "µg/L"}]}), 201)
    rnd = ok(client.post(f"/api/pt/schemes/{scheme['id']}/rounds", headers=head, json={
        "code": "2026-1", "items": ["A"], "deadline": LATER, "score": "z"}), 201)
    labs = [make_account(db, f"lab{i}@example.cn") for i in range(len(E3))]
    return head, rnd, labs


def invite_all(client, db, head, rnd, labs) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Invites every lab, each accepts; returns org id → participant id."""
    out = {}
    for lab in labs:
        p = ok(client.post(f"/api/pt/rounds/{rnd['id']}/participants", headers=head,
                           json={"org_id": lab.org.id}), 201)
        assert p["status"] == "invited" and p["code"].startswith("P")
        service.answer(db, lab.principal(db), p["id"], accept=True)
        out[lab.org.id] = p["id"]
    return out


def test_round_end_to_end_reproduces_iso13528_e3(client, db, round_setup) -> None:  # type: ignore[no-untyped-def]
    head, rnd, labs = round_setup
    invite_all(client, db, head, rnd, labs)
    ok(client.post(f"/api/pt/rounds/{rnd['id']}/open", headers=head))
    # one lab through the API in ng/mL (= µg/L), the rest through the use case
    first = bearer(db, labs[0], "pt:write", "pt:read")
    ok(client.post(f"/api/pt/rounds/{rnd['id']}/results", headers=first, json={
        "org_id": labs[0].org.id, "results": [
            {"measurand": "atrazine", "item": "A", "value": E3[0], "unit": "ng/mL",
             "expanded_uncertainty": 0.01, "coverage_factor": 2}]}), 201)
    for lab, value in zip(labs[1:], E3[1:], strict=True):
        service.submit_results(db, lab.principal(db), rnd["id"], lab.org.id,
                               [ResultIn(measurand="atrazine", value=value)])
    ok(client.post(f"/api/pt/rounds/{rnd['id']}/close", headers=head))
    ok(client.post(f"/api/pt/rounds/{rnd['id']}/compute", headers=head))
    report = ok(client.get(f"/api/pt/rounds/{rnd['id']}/report", headers=head))
    [item] = report["measurands"][0]["items"]
    stats = item["statistics"]
    assert (round(stats["x_pt"], 4), round(stats["robust_sd"], 4),
            round(stats["u_x_pt"], 4)) == (0.2570, 0.0395, 0.0085)
    assert stats["n"] == 34 and stats["u_negligible"] is True
    assert len(item["results"]) == 34 and all("org_id" not in r for r in item["results"])
    # the lowest result: z = (0.040 − 0.2570)/0.0395 ≈ −5.5
    low = min(item["results"], key=lambda r: r["value"])
    assert low["verdict"] == "unsatisfactory" and low["z"] == pytest.approx(-5.49, abs=0.01)

    # before publication a participant sees neither scores nor the report
    assert client.get(f"/api/pt/rounds/{rnd['id']}/report", headers=first).status_code == 403
    mine = ok(client.get(f"/api/pt/rounds/{rnd['id']}/results",
                         params={"org_id": labs[0].org.id}, headers=first))
    assert mine[0]["z"] is None and mine[0]["reported_unit"] == "ng/mL"

    ok(client.post(f"/api/pt/rounds/{rnd['id']}/publish", headers=head))
    report = ok(client.get(f"/api/pt/rounds/{rnd['id']}/report", headers=first))
    assert len(report["own_codes"]) == 1
    mine = ok(client.get(f"/api/pt/rounds/{rnd['id']}/results",
                         params={"org_id": labs[0].org.id}, headers=first))
    assert mine[0]["verdict"] == "unsatisfactory"
    # others' identities stay hidden from participants, not from the provider
    parts = ok(client.get(f"/api/pt/rounds/{rnd['id']}/participants", headers=first))
    assert sum(p["org_id"] is not None for p in parts) == 1
    parts = ok(client.get(f"/api/pt/rounds/{rnd['id']}/participants", headers=head))
    assert all(p["org_id"] for p in parts)
    # each participant's certificate is in the report registry
    number = next(p["certificate_number"] for p in parts if p["org_id"] == labs[0].org.id)
    assert number.startswith("WATER-PEST-2026-1-P")
    verdict = ok(client.get("/api/reports/verify", params={"number": number}))
    assert verdict["history"][0]["kind"] == "pt_certificate"


def test_unsatisfactory_results_reach_supervision(client, db, round_setup) -> None:  # type: ignore[no-untyped-def]
    head, rnd, labs = round_setup
    invite_all(client, db, head, rnd, labs[:12])
    ok(client.post(f"/api/pt/rounds/{rnd['id']}/open", headers=head))
    values = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 10.3, 10.1, 9.9, 10.0, 10.2, 14.0]
    for lab, v in zip(labs[:12], values, strict=True):
        service.submit_results(db, lab.principal(db), rnd["id"], lab.org.id,
                               [ResultIn(measurand="atrazine", value=v)])
    for step in ("close", "compute", "publish"):
        ok(client.post(f"/api/pt/rounds/{rnd['id']}/{step}", headers=head))
    regulator = make_account(db, "samr@example.cn", kind=OrgKind.regulator)
    feed = ok(client.get("/api/pt/unsatisfactory", headers=bearer(db, regulator, "pt:read")))
    assert [f["org_id"] for f in feed] == [labs[11].org.id]
    assert feed[0]["measurand"] == "atrazine" and feed[0]["value"] > 3
    # a lab reads only its own list; the whole one is supervision's
    lab_head = bearer(db, labs[0], "pt:read")
    assert client.get("/api/pt/unsatisfactory", headers=lab_head).status_code == 403
    assert ok(client.get("/api/pt/unsatisfactory", params={"org_id": labs[0].org.id},
                         headers=lab_head)) == []
    assert client.get("/api/pt/unsatisfactory", params={"org_id": labs[11].org.id},
                      headers=lab_head).status_code == 403
    events = db.scalars(select(AuditEvent).where(
        AuditEvent.action == "pt.result.unsatisfactory")).all()
    assert [e.org_id for e in events] == [labs[11].org.id]
    history = ok(client.get(f"/api/pt/orgs/{labs[11].org.id}/history",
                            headers=bearer(db, labs[11], "pt:read")))
    assert history[0]["verdict"] == "unsatisfactory" and history[0]["round"] == "2026-1"


def _results(db) -> int:  # type: ignore[no-untyped-def]
    db.rollback()
    return int(db.scalar(select(func.count()).select_from(PtResult)) or 0)


def test_bad_submissions_are_refused_and_nothing_changes(client, db, round_setup) -> None:  # type: ignore[no-untyped-def]
    head, rnd, labs = round_setup
    invite_all(client, db, head, rnd, labs[:2])
    lab = bearer(db, labs[0], "pt:write", "pt:read")
    url = f"/api/pt/rounds/{rnd['id']}/results"

    def send(*results: dict, who: dict = lab, org: str = labs[0].org.id):  # type: ignore[no-untyped-def]
        return client.post(url, headers=who, json={"org_id": org, "results": list(results)})

    good = {"measurand": "atrazine", "item": "A", "value": 0.25}
    r = send(good)
    assert r.status_code == 409 and "not open" in r.json()["detail"]  # still a draft
    ok(client.post(f"/api/pt/rounds/{rnd['id']}/open", headers=head))
    cases = [
        (send({**good, "unit": "mg/kg"}), 422, "unit", "cannot be converted"),
        (send({**good, "value": "abc"}), 422, "results.0.value", ""),
        (send({**good, "item": "Z"}), 422, "item", "items are A"),
        (send({**good, "measurand": "lead"}), 422, "measurand", "no measurand lead"),
        (send(good, {**good, "value": 0.3}), 422, "measurand", "appears twice"),
    ]
    outsider = make_account(db, "outsider@example.cn")
    cases.append((send(good, who=bearer(db, outsider, "pt:write"), org=outsider.org.id), 403,
                  None, "not an accepted participant"))
    cases.append((send(good, org=labs[1].org.id), 403, None, "role"))  # another lab's name
    for r, status, field, text in cases:
        assert r.status_code == status, r.text
        body = r.json()
        if field:
            assert body["errors"][0]["field"] == field
        assert text in (body.get("detail", "") + " ".join(
            e["message"] for e in body.get("errors", [])))
        assert _results(db) == 0
    ok(send(good), 201)
    r = send(good)
    assert r.status_code == 422 and "submitted already" in r.text and _results(db) == 1
    # after the deadline
    late = datetime.now(UTC) + timedelta(days=31)
    with pytest.raises(Exception, match="deadline"):
        service.submit_results(db, labs[1].principal(db), rnd["id"], labs[1].org.id,
                               [ResultIn(**good)], now=late)
    assert _results(db) == 1


def test_excel_upload_converts_units_and_names_faulty_rows(client, db, round_setup) -> None:  # type: ignore[no-untyped-def]
    head, rnd, labs = round_setup
    invite_all(client, db, head, rnd, labs[:1])
    ok(client.post(f"/api/pt/rounds/{rnd['id']}/open", headers=head))
    lab = bearer(db, labs[0], "pt:write", "pt:read")

    def sheet(*rows: list) -> bytes:  # type: ignore[type-arg]
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.append(["检测项目", "样品编号", "结果", "单位", "扩展不确定度", "包含因子"])
        for row in rows:
            ws.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    url = f"/api/pt/rounds/{rnd['id']}/results/upload"
    bad = client.post(url, params={"org_id": labs[0].org.id}, headers=lab, files={
        "file": ("r.xlsx", sheet(["atrazine", "A", "x", "µg/L", 0.02, 2]))})
    assert bad.status_code == 422 and bad.json()["errors"][0] == {
        "field": "value", "message": "'x' is not a number", "row": 2}
    wrong_unit = client.post(url, params={"org_id": labs[0].org.id}, headers=lab, files={
        "file": ("r.xlsx", sheet(["atrazine", "A", 0.25, "mg/kg", 0.02, 2]))})
    assert wrong_unit.status_code == 422 and wrong_unit.json()["errors"][0]["row"] == 2
    assert _results(db) == 0
    stored = ok(client.post(url, params={"org_id": labs[0].org.id}, headers=lab, files={
        "file": ("r.xlsx", sheet(["atrazine", "A", 250, "ng/L", 20, 2]))}), 201)
    assert stored[0]["value"] == pytest.approx(0.25) and stored[0]["unit"] == "µg/L"
    assert stored[0]["expanded_uncertainty"] == pytest.approx(0.02)


def test_only_the_provider_runs_the_round(client, db, round_setup) -> None:  # type: ignore[no-untyped-def]
    head, rnd, labs = round_setup
    other = bearer(db, labs[0], "pt:write")
    for step in ("open", "close", "compute", "publish"):
        assert client.post(f"/api/pt/rounds/{rnd['id']}/{step}",
                           headers=other).status_code == 403
    r = client.post(f"/api/pt/rounds/{rnd['id']}/participants", headers=other,
                    json={"org_id": labs[1].org.id})
    assert r.status_code == 403
    # a lab asks to join; only the provider may accept that request
    p = ok(client.post(f"/api/pt/rounds/{rnd['id']}/join", headers=other,
                       json={"org_id": labs[0].org.id}), 201)
    assert p["status"] == "requested"
    assert client.post(f"/api/pt/participants/{p['id']}/answer", headers=other,
                       json={"accept": True}).status_code == 403
    assert ok(client.post(f"/api/pt/participants/{p['id']}/answer", headers=head,
                          json={"accept": True}))["status"] == "accepted"
    r = client.post(f"/api/pt/rounds/{rnd['id']}/publish", headers=head)
    assert r.status_code == 409 and "compute" in r.json()["detail"]


def test_homogeneity_and_stability_of_the_items(client, db, round_setup) -> None:  # type: ignore[no-untyped-def]
    head, rnd, _labs = round_setup
    url = f"/api/pt/rounds/{rnd['id']}/homogeneity"
    # ten items in duplicate; between-item spread small against σ_pt = 0.04
    rows = "".join(f"I{i},{0.25 + 0.002 * (i % 3)}\nI{i},{0.251 + 0.002 * (i % 3)}\n"
                   for i in range(10))
    csv = ("item,value\n" + rows).encode()
    # this round's σ_pt comes from its results: the check needs one given
    r = client.post(url, headers=head, params={"measurand": "atrazine"},
                    files={"file": ("h.csv", csv)})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sigma_pt"
    body = ok(client.post(url, headers=head, params={"measurand": "atrazine", "sigma_pt": 0.04},
                          files={"file": ("h.csv", csv)}))
    result = body["result"]
    assert (result["items"], result["replicates"]) == (10, 2)
    assert result["s_w"] == pytest.approx(0.001 / 2**0.5, rel=1e-6)
    assert result["passes"] is True and result["limit"] == pytest.approx(0.012)
    assert body["items"][:2] == ["I0", "I1"]
    r = client.post(url, headers=head, params={"measurand": "lead", "sigma_pt": 0.04},
                    files={"file": ("h.csv", csv)})
    assert r.status_code == 422 and "no measurand lead" in r.text
    st = ok(client.post(f"/api/pt/rounds/{rnd['id']}/stability", headers=head, json={
        "measurand": "atrazine", "before": [0.250, 0.252, 0.251],
        "after": [0.238, 0.240, 0.239], "sigma_pt": 0.04}))
    assert st["result"]["difference"] == pytest.approx(0.012)
    assert st["result"]["passes"] is True  # 0.012 ≤ 0.012 + 2·u
    report = ok(client.get(f"/api/pt/rounds/{rnd['id']}/report", headers=head))
    assert report["measurands"][0]["items"][0]["statistics"] == {}  # not computed yet


def test_a_given_value_stays_hidden_and_an_empty_measurand_breaks_nothing(
        client, db, round_setup) -> None:  # type: ignore[no-untyped-def]
    head, first, labs = round_setup
    scheme = first["scheme_id"]
    ok(client.post(f"/api/pt/schemes/{scheme}/measurands", headers=head,
                   json={"name": "simazine", "unit": "µg/L"}), 201)
    rnd = ok(client.post(f"/api/pt/schemes/{scheme}/rounds", headers=head, json={
        "code": "2026-2", "deadline": LATER, "settings": [
            {"measurand": "atrazine", "assigned_kind": "formulation", "assigned_value": 0.26,
             "assigned_u": 0.002, "sigma_kind": "fixed", "sigma_value": 0.03}]}), 201)
    # the formulation value is the answer: not shown to anyone else before publication
    public = ok(client.get(f"/api/pt/rounds/{rnd['id']}"))
    assert "assigned_value" not in public["measurands"][0]
    assert public["measurands"][0]["assigned_kind"] == "formulation"
    assert ok(client.get(f"/api/pt/rounds/{rnd['id']}", headers=head))[
        "measurands"][0]["assigned_value"] == 0.26
    invite_all(client, db, head, rnd, labs[:3])
    ok(client.post(f"/api/pt/rounds/{rnd['id']}/open", headers=head))
    lab = bearer(db, labs[0], "pt:read")
    others = ok(client.get(f"/api/pt/rounds/{rnd['id']}/participants", headers=lab))
    assert sum(p["id"] is not None for p in others) == 1  # only its own place in full
    for lab_account, v in zip(labs[:3], (0.25, 0.27, 0.33), strict=True):
        service.submit_results(db, lab_account.principal(db), rnd["id"], lab_account.org.id,
                               [ResultIn(measurand="atrazine", value=v)])  # no simazine
    for step in ("close", "compute"):
        ok(client.post(f"/api/pt/rounds/{rnd['id']}/{step}", headers=head))
    report = ok(client.get(f"/api/pt/rounds/{rnd['id']}/report", headers=head))
    atrazine, simazine = report["measurands"]
    stats = atrazine["items"][0]["statistics"]
    assert (stats["x_pt"], stats["sigma_pt"], stats["assigned_value_from"]) == (
        0.26, 0.03, "formulation")
    z = sorted(r["z"] for r in atrazine["items"][0]["results"])
    assert z == pytest.approx([-1 / 3, 1 / 3, 7 / 3])
    assert simazine["items"][0]["statistics"] == {"n": 0, "warnings": ["no results"]}
    page = client.get(f"/pt/rounds/{rnd['id']}/report", headers=head)
    assert page.status_code == 200 and "simazine" in page.text
