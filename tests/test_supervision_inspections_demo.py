"""The demo helper: inspectors, a published drawn plan with findings, and a sanction that
revokes a report in the log; the pages show them."""

from __future__ import annotations

from supervision_world import build, integrate, register
from tichub.supervision.inspections import draw
from tichub.supervision.inspections.demo import seed_inspections


def test_seed_inspections_makes_a_published_draw_and_a_sanction(client, db) -> None:  # type: ignore[no-untyped-def]
    w = build(db, pudong_count=6)
    for k in range(3):
        register(client, w, f"R-DEMO-{k}")
    integrate(client, db)
    made = seed_inspections(db, client.app.state.log, regulator_email="pd@samr.cn",
                            lab_email="lab@example.com")
    assert made["status"] == "published" and made["inspections"] >= 1
    plan = client.get(f"/api/supervision/plans/{made['plan_id']}").json()
    again = draw.draw(plan["frozen"], plan["digest"],
                      bytes.fromhex(plan["checkpoint"]["root_hash"]), plan["checkpoint"]["size"])
    assert draw.same_picks([p.as_dict() for p in again], plan["picks"])
    assert any(f["outcome"] == "minor" for i in plan["results"] for f in i["findings"])
    verdict = client.get("/api/reports/verify", params={"number": made["false_number"]}).json()
    assert verdict["status"] == "revoked" and "演示" in verdict["revoked_by"]["decision_no"]
    page = client.get("/supervision")
    assert "（演示）" in page.text and made["false_number"] in page.text
    # No regulator in the data set: nothing seeded.
    assert seed_inspections(db, client.app.state.log, regulator_email="nobody@x.cn") == {}
