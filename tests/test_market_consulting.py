"""Expert consulting: request, schedule, the record of the advice and its fee."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from helpers import api_token, make_account, sign_in
from tichub.core.models import OrgKind


def test_a_consultation_from_request_to_advice(client, db, app) -> None:  # type: ignore[no-untyped-def]
    lab = make_account(db, "lab@lab.cn")
    firm = make_account(db, "boss@firm.cn", kind=OrgKind.enterprise)
    lh = {"Authorization": "Bearer " + api_token(db, lab, ["market:write"])}
    fh = {"Authorization": "Bearer " + api_token(db, firm, ["market:write"])}
    expert = client.post("/api/experts", headers=lh, json={
        "org_id": lab.org.id, "name": "王工", "title": "高级工程师",
        "fields": ["电池安全", "UN 38.3"], "committees": ["SAC/TC 294"],
        "languages": ["zh", "en"], "fee_fen_per_hour": 80_000})
    assert expert.status_code == 201, expert.text
    found = client.get("/api/experts", params={"field": "TC 294"}).json()
    assert [e["name"] for e in found] == ["王工"]
    c = client.post(f"/api/experts/{expert.json()['id']}/consultations", headers=fh, json={
        "org_id": firm.org.id, "topic": "储能电池出口欧盟需要哪些检测",
        "preferred_times": "工作日上午"}).json()
    url = f"/api/consultations/{c['id']}/steps"
    # the client cannot schedule, nor the expert cancel; advice needs a scheduled meeting
    assert client.post(url, headers=fh, json={"action": "schedule"}).status_code == 403
    assert client.post(url, headers=lh, json={"action": "cancel"}).status_code == 403
    r = client.post(url, headers=lh, json={"action": "advise", "advice": "x"})
    assert r.status_code == 409 and "that is requested cannot take this step" in r.text
    when = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    r = client.post(url, headers=lh, json={"action": "schedule", "scheduled_at": when,
                                           "minutes": 90})
    assert r.status_code == 200 and r.json()["status"] == "scheduled"
    r = client.post(url, headers=lh, json={"action": "advise", "advice": " "})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "advice"
    done = client.post(url, headers=lh, json={
        "action": "advise", "advice": "按 IEC 62619 与 UN 38.3 检测，并准备电池护照数据。",
        "minutes": 90}).json()
    assert (done["status"], done["fee_fen"]) == ("advised", 120_000)
    outsider = make_account(db, "x@firm.cn", kind=OrgKind.enterprise)
    assert client.get(f"/api/consultations/{c['id']}", headers={
        "Authorization": "Bearer " + api_token(db, outsider, ["market:write"])}
    ).status_code == 403
    with TestClient(app) as page:
        sign_in(page, "boss@firm.cn")
        shown = page.get(f"/market/consultations/{c['id']}")
        assert shown.status_code == 200 and "IEC 62619" in shown.text
        assert page.get("/market/experts", params={"lang": "en"}).status_code == 200
