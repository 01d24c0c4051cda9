"""Carbon-label certification through the API: a company submits a study, the certification
body checks it, asks, is answered and certifies; the certificate is in the public registry
and the label's QR code leads to its verification."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from helpers import api_token, credit_code, make_account
from tichub.carbon import certification_service as certification
from tichub.carbon.models import Study
from tichub.core.models import OrgKind
from tichub.registry import service as registry
from tichub.registry.models import InstitutionKind
from tichub.registry.schemas import InstitutionIn
from tichub.reports.models import ReportRecord

STARTER = Path(__file__).parents[1] / "src" / "tichub" / "carbon" / "data" / "factors.csv"
CHECKED = {c: {"verdict": "conforms", "note": "seen"} for c in
           ("boundary", "cut_off", "data_quality")} | {
    "allocation": {"verdict": "not_applicable", "note": "one output"}}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def motor(org_id: str) -> dict:  # type: ignore[type-arg]
    return {"org_id": org_id, "name": "YE3 电机", "product": "YE3-132M-4 motor",
            "declared_unit": "piece", "mass_kg": 68, "standard": "GB/T 24067-2024",
            "processes": [{"key": "assembly", "name": "Assembly", "stage": "production",
                           "output_amount": 1, "output_unit": "piece", "inputs": [
                               {"name": "power", "amount": 12, "unit": "kWh",
                                "factor": "cn.electricity.2023.east_grid", "primary": True}]}]}


def make_cb(db, account, name: str, serial: int) -> str:  # type: ignore[no-untyped-def]
    inst = registry.create_institution(db, account.principal(db), account.org.id, InstitutionIn(
        name_zh=name, name_en="Green Cert Co.", credit_code=credit_code(serial),
        district="xuhui", kind=InstitutionKind.certification_body))
    return inst.id


@pytest.fixture
def world(client, db):  # type: ignore[no-untyped-def]
    operator = make_account(db, "ops@platform.cn", kind=OrgKind.operator)
    firm = make_account(db, "maker@motors.cn", kind=OrgKind.enterprise)
    cb = make_account(db, "auditor@greencert.cn", kind=OrgKind.certification_body)
    rival_cb = make_account(db, "auditor@othercert.cn", kind=OrgKind.certification_body)
    w = {"op": api_token(db, operator, ["carbon:write"]),
         "firm": api_token(db, firm, ["carbon:write"]), "firm_org": firm.org.id,
         "cb": api_token(db, cb, ["carbon:write", "reports:write"]), "cb_org": cb.org.id,
         "cb_inst": make_cb(db, cb, "绿色认证有限公司", 7101),
         "rival": api_token(db, rival_cb, ["carbon:write"]),
         "rival_inst": make_cb(db, rival_cb, "另一认证公司", 7102)}
    db.commit()
    r = client.post("/api/carbon/factors/import", headers=auth(w["op"]), files={
        "file": ("factors.csv", STARTER.read_bytes(), "text/csv")})
    assert r.status_code == 201, r.text
    model = client.post("/api/carbon/models", json=motor(w["firm_org"]), headers=auth(w["firm"]))
    assert model.status_code == 201, model.text
    study = client.post(f"/api/carbon/models/{model.json()['id']}/studies",
                        json={"iterations": 0}, headers=auth(w["firm"]))
    assert study.status_code == 201, study.text
    w["study"] = study.json()["id"]
    return w


def test_submit_review_question_answer_certify(client, db, world) -> None:  # type: ignore[no-untyped-def]
    sid, firm, cb = world["study"], auth(world["firm"]), auth(world["cb"])
    # The body sees nothing before it is sent, and cannot certify a draft.
    assert client.get(f"/api/carbon/studies/{sid}", headers=cb).status_code == 404
    r = client.post(f"/api/carbon/studies/{sid}/submit", json={"institution_id": world["cb_inst"]},
                    headers=firm)
    assert r.status_code == 200 and r.json()["status"] == "submitted", r.text
    queue = client.get("/api/carbon/reviews", params={"org_id": world["cb_org"]}, headers=cb)
    assert [s["id"] for s in queue.json()] == [sid]
    # Another body neither sees it nor may act on it.
    assert client.get(f"/api/carbon/studies/{sid}", headers=auth(world["rival"])
                      ).status_code == 404
    assert client.put(f"/api/carbon/studies/{sid}/checklist", json={"items": CHECKED},
                      headers=auth(world["rival"])).status_code == 404

    r = client.put(f"/api/carbon/studies/{sid}/checklist", json={"items": {
        "boundary": {"verdict": "conforms"}, "data_quality": {"verdict": "finding",
                                                              "note": "grid year?"}}}, headers=cb)
    assert r.status_code == 200 and r.json()["status"] == "in_review"
    # Not every item conforms: certifying is refused, and nothing is registered.
    r = client.post(f"/api/carbon/studies/{sid}/decision", headers=cb, json={
        "decision": "certify", "valid_until": "2029-12-31"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "checklist"
    message = r.json()["errors"][0]["message"]
    assert message.endswith("still open: Cut-off rule, Data quality, Allocation")
    assert db.scalar(select(func.count()).select_from(ReportRecord)) == 0

    r = client.post(f"/api/carbon/studies/{sid}/messages", headers=cb, json={
        "topic": "data_quality", "text": "Why the 2023 East China grid factor?"})
    assert r.status_code == 201
    assert client.get(f"/api/carbon/studies/{sid}", headers=firm).json()["status"] == "questions"
    r = client.post(f"/api/carbon/studies/{sid}/messages", headers=firm, json={
        "topic": "data_quality", "text": "The plant is in Shanghai; 2023 is the latest year."})
    assert r.status_code == 201
    thread = client.get(f"/api/carbon/studies/{sid}/messages", headers=cb).json()
    assert [(m["org_id"], m["topic"]) for m in thread] == [
        (world["cb_org"], "data_quality"), (world["firm_org"], "data_quality")]
    assert client.get(f"/api/carbon/studies/{sid}", headers=cb).json()["status"] == "in_review"
    # The company cannot mark its own checklist.
    assert client.put(f"/api/carbon/studies/{sid}/checklist", json={"items": CHECKED},
                      headers=firm).status_code == 403

    client.put(f"/api/carbon/studies/{sid}/checklist", json={"items": CHECKED}, headers=cb)
    r = client.post(f"/api/carbon/studies/{sid}/decision", headers=cb, json={
        "decision": "certify", "valid_from": "2026-12-01", "valid_until": "2029-11-30",
        "note": "reasonable assurance"})
    assert r.status_code == 200, r.text
    study = r.json()
    assert study["status"] == "certified"
    number = study["certificate_number"]
    assert number.startswith(f"CFP-{date.today().year}-")
    assert study["valid_until"] == "2029-11-30"
    record = db.scalar(select(ReportRecord).where(ReportRecord.number == number))
    assert record is not None and record.kind.value == "carbon_label_certificate"
    # 12 kWh × 0.5500 kg/kWh (East China grid 2023, starter set)
    stored = record.public["conclusion"]
    assert stored == "carbon footprint 6.6 kg CO2e per 1 piece (cradle to gate, GWP100, IPCC AR6)"
    # Pages say it in the reader's words, from the stored English.
    shown = certification.conclusion_msg(stored)
    assert shown.localize("zh") == "碳足迹 6.6 kg CO2e，每 1 件（从摇篮到大门，GWP100，IPCC AR6）"
    assert shown.localize("en") == stored
    # The review is over: no more questions, no second decision.
    assert client.post(f"/api/carbon/studies/{sid}/messages", headers=cb, json={
        "text": "one more"}).status_code == 409
    assert client.post(f"/api/carbon/studies/{sid}/decision", headers=cb, json={
        "decision": "reject", "note": "x"}).status_code == 409

    # The label: SVG and PNG, each with a QR code that verifies the certificate.
    svg = client.get(f"/api/carbon/labels/{number}.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(svg.content)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "6.60" in texts and f"证书编号 No. {number}" in texts
    assert "有效期至 valid until 2029-11-30" in texts and "kg CO2e / 1 件 piece" in texts
    png = client.get(f"/api/carbon/labels/{number}.png")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    import zxingcpp
    from PIL import Image

    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert len(codes) == 1
    url = urlparse(codes[0].text)
    assert url.path == "/verify" and parse_qs(url.query)["number"] == [number]
    assert record.leaf_hash.startswith(parse_qs(url.query)["h"][0])
    page = client.get(f"{url.path}?{url.query}")
    assert page.status_code == 200 and number in page.text
    assert client.get("/api/carbon/labels/CFP-1999-0000-00001.svg").status_code == 404


def test_reject_withdraw_and_who_may_submit(client, db, world) -> None:  # type: ignore[no-untyped-def]
    sid, firm, cb = world["study"], auth(world["firm"]), auth(world["cb"])
    # Only a certification body; never the company's own institution.
    r = client.post(f"/api/carbon/studies/{sid}/submit", json={"institution_id": "0" * 26},
                    headers=firm)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "institution_id"
    assert client.post(f"/api/carbon/studies/{sid}/submit", headers=cb, json={
        "institution_id": world["cb_inst"]}).status_code == 404
    client.post(f"/api/carbon/studies/{sid}/submit", json={"institution_id": world["cb_inst"]},
                headers=firm)
    r = client.post(f"/api/carbon/studies/{sid}/decision", headers=cb,
                    json={"decision": "reject"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note"
    r = client.post(f"/api/carbon/studies/{sid}/decision", headers=cb,
                    json={"decision": "certify"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "valid_until"
    r = client.post(f"/api/carbon/studies/{sid}/decision", headers=cb, json={
        "decision": "reject", "note": "cut-off rule not stated"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert db.get(Study, sid).certificate_number is None
    # A rejected study stays rejected; the company computes a new one to try again.
    assert client.post(f"/api/carbon/studies/{sid}/submit", headers=firm, json={
        "institution_id": world["cb_inst"]}).status_code == 409
    assert client.post(f"/api/carbon/studies/{sid}/withdraw", headers=firm).status_code == 409


def test_withdrawn_then_sent_elsewhere(client, db, world) -> None:  # type: ignore[no-untyped-def]
    sid, firm = world["study"], auth(world["firm"])
    client.post(f"/api/carbon/studies/{sid}/submit", json={"institution_id": world["cb_inst"]},
                headers=firm)
    r = client.post(f"/api/carbon/studies/{sid}/withdraw", headers=firm)
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert client.get("/api/carbon/reviews", params={"org_id": world["cb_org"]},
                      headers=auth(world["cb"])).json() == []
    r = client.post(f"/api/carbon/studies/{sid}/submit", headers=firm,
                    json={"institution_id": world["rival_inst"]})
    assert r.status_code == 200 and r.json()["cb_institution_id"] == world["rival_inst"]
    assert client.get(f"/api/carbon/studies/{sid}", headers=auth(world["cb"])).status_code == 404


def test_conclusions_stored_before_issue_13_are_said_in_people_s_words() -> None:
    old = "carbon footprint 412 kg CO2e per 1 piece (cradle_to_gate, GWP100 AR6)"
    assert certification.conclusion_msg(old).localize("zh") == \
        "碳足迹 412 kg CO2e，每 1 件（从摇篮到大门，GWP100，IPCC AR6）"
    assert certification.conclusion_msg(old).localize("en") == \
        "carbon footprint 412 kg CO2e per 1 piece (cradle to gate, GWP100, IPCC AR6)"
    # Anything else (a lab's own conclusion) is shown as written.
    assert certification.conclusion_msg("合格") == "合格"


def test_the_labels_long_lines_are_cut_by_their_printed_width() -> None:
    from tichub.carbon.label import _fit

    # A Chinese character is about two Latin letters wide: 18 of them fill 36.
    name = "上海华检电气认证有限公司浦东新区分公司检测中心"
    assert _fit(name, 36) == name[:18] + "…"
    assert _fit("Shanghai Huajian Electrical Certification Co., Ltd.", 36) == \
        "Shanghai Huajian Electrical Certific…"  # the first 36 letters
    assert _fit("短名", 36) == "短名"
