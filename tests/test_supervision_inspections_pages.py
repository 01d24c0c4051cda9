"""The supervisor's pages: inspectors and plans created by form, a plan frozen and drawn from
its page, findings recorded with an evidence file, the inspection closed; refusals name the
field; the public plan page."""

from __future__ import annotations

from helpers import sign_in
from supervision_world import build, integrate, register

FORM = {"X-TICHub-Form": "1", "Accept": "application/json"}


def test_a_supervisor_runs_a_plan_from_the_pages(client, db) -> None:  # type: ignore[no-untyped-def]
    w = build(db, pudong_count=2)
    register(client, w, "R-2026-0001")
    integrate(client, db)
    csrf = sign_in(client, "pd@samr.cn")
    page = client.get("/supervision/plans")
    assert page.status_code == 200 and "新建计划" in page.text
    for name in ("王建国", "陈晓燕"):
        r = client.post("/supervision/inspectors", headers=FORM,
                        data={"csrf_token": csrf, "name": name})
        assert r.status_code == 200 and r.json()["redirect"].startswith("/supervision/plans")
    bad = client.post("/supervision/inspectors", headers=FORM, data={
        "csrf_token": csrf, "name": "赵敏", "conflicts": "nonsense"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "conflicts"
    bad = client.post("/supervision/plans", headers=FORM, data={
        "csrf_token": csrf, "title": "抽查", "items": "1, 资质", "share_a": "130"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "share_a"
    r = client.post("/supervision/plans", headers=FORM, data={
        "csrf_token": csrf, "title": "2026年抽查", "items": "1, 资质\n2, 记录",
        "share_a": "3", "share_b": "100", "share_c": "30", "share_d": "100"})
    assert r.status_code == 200, r.text
    plan_url = r.json()["redirect"]
    assert "锁定并公示计划" in client.get(plan_url).text
    assert "编辑计划" in client.get(f"{plan_url}/edit").text
    r = client.post(f"{plan_url}/edit", headers=FORM, data={
        "csrf_token": csrf, "title": "2026年第四季度抽查", "items": "1, 资质\n2, 记录",
        "share_a": "3", "share_b": "100", "share_c": "30", "share_d": "100"})
    assert r.status_code == 200 and "2026年第四季度抽查" in client.get(plan_url).text
    r = client.post(f"{plan_url}/freeze", headers=FORM, data={"csrf_token": csrf})
    assert r.status_code == 200
    r = client.post(f"{plan_url}/draw", headers=FORM, data={"csrf_token": csrf})
    assert r.status_code == 409  # no checkpoint since the freeze
    assert client.get(f"{plan_url}/edit").status_code == 409  # frozen: fixed
    register(client, w, "R-2026-0002")
    integrate(client, db)
    r = client.post(f"{plan_url}/draw", headers=FORM, data={"csrf_token": csrf})
    assert r.status_code == 200
    page = client.get(plan_url)
    assert page.status_code == 200 and 'data-testid="picks"' in page.text
    inspections = [p.split('"')[0] for p in page.text.split('href="/supervision/inspections/')[1:]]
    assert len(inspections) == 2  # B at 100 %: both institutions
    iid = inspections[0]
    r = client.post(f"/supervision/inspections/{iid}/findings", headers=FORM,
                    data={"csrf_token": csrf, "item": "1", "outcome": "serious",
                          "note": "无原始记录"},
                    files={"file": ("记录.jpg", b"\xff\xd8photo", "image/jpeg")})
    assert r.status_code == 200, r.text
    page = client.get(f"/supervision/inspections/{iid}")
    assert "严重不符合" in page.text
    assert f"/api/supervision/inspections/{iid}/files/" in page.text
    r = client.post(f"/supervision/inspections/{iid}/done", headers=FORM,
                    data={"csrf_token": csrf})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "findings"
    client.post(f"/supervision/inspections/{iid}/findings", headers=FORM,
                data={"csrf_token": csrf, "item": "2", "outcome": "compliant"})
    r = client.post(f"/supervision/inspections/{iid}/done", headers=FORM,
                    data={"csrf_token": csrf, "summary": "完成"})
    assert r.status_code == 200
    # The public sees the frozen plan, not the findings before publication.
    client.cookies.clear()
    public = client.get(plan_url + "?lang=en")
    assert public.status_code == 200 and "The frozen plan" in public.text
    assert "Serious" not in public.text and "serious" not in public.text
