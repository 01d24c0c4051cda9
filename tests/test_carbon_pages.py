"""The carbon pages through forms, as a browser without JavaScript would use them: the
footprint wizard, a study's results and its certification by a certification body."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest

from helpers import api_token, credit_code, make_account, sign_in
from tichub.core.models import OrgKind
from tichub.registry import service as registry
from tichub.registry.models import InstitutionKind
from tichub.registry.schemas import InstitutionIn

STARTER = Path(__file__).parents[1] / "src" / "tichub" / "carbon" / "data" / "factors.csv"


@pytest.fixture
def world(client, db):  # type: ignore[no-untyped-def]
    operator = make_account(db, "ops@platform.cn", kind=OrgKind.operator)
    firm = make_account(db, "maker@motors.cn", kind=OrgKind.enterprise)
    cb = make_account(db, "auditor@greencert.cn", kind=OrgKind.certification_body)
    inst = registry.create_institution(db, cb.principal(db), cb.org.id, InstitutionIn(
        name_zh="绿色认证有限公司", credit_code=credit_code(7201), district="xuhui",
        kind=InstitutionKind.certification_body))
    db.commit()
    op = api_token(db, operator, ["carbon:write"])
    r = client.post("/api/carbon/factors/import", headers={"Authorization": f"Bearer {op}"},
                    files={"file": ("factors.csv", STARTER.read_bytes(), "text/csv")})
    assert r.status_code == 201
    return {"firm": firm, "cb": cb, "inst": inst.id}


def chart(html: str, testid: str) -> dict:  # type: ignore[type-arg]
    m = re.search(rf'data-testid="{testid}" data-chart="([^"]*)"', html)
    assert m, f"no chart {testid}"
    return json.loads(unescape(m.group(1)))


def post(client, url: str, csrf: str, **data):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False)


def test_wizard_results_and_certification(client, db, world) -> None:  # type: ignore[no-untyped-def]
    csrf = sign_in(client, "maker@motors.cn")
    assert "Carbon footprint" in client.get("/carbon?lang=en").text
    r = post(client, "/carbon/models", csrf, org_id=world["firm"].org.id, name="YE3 motor",
             product="YE3-132M-4", declared_amount="1", declared_unit="piece", mass_kg="68",
             boundary="cradle_to_grave", basis="AR6", standard="GB/T 24067-2024")
    assert r.status_code == 303, r.text
    model_url = r.headers["location"]
    assert post(client, f"{model_url}/processes", csrf, key="assembly", name="Assembly",
                stage="production", output_amount="1", output_unit="piece").status_code == 303
    assert post(client, f"{model_url}/processes", csrf, key="use", name="Use phase",
                stage="use", output_amount="1", output_unit="piece").status_code == 303
    assert post(client, f"{model_url}/processes/assembly/inputs", csrf, name="power",
                amount="12", unit="kWh", kind="energy", source="factor",
                factor="cn.electricity.2023.east_grid", primary="on", uncertainty="lognormal",
                gsd="1.1").status_code == 303
    assert post(client, f"{model_url}/processes/use/inputs", csrf, name="motor", amount="1",
                unit="piece", source="process", process="assembly").status_code == 303
    assert post(client, f"{model_url}/processes/use/inputs", csrf, name="electricity in use",
                amount="100", unit="kWh", kind="energy", source="factor",
                factor="cn.electricity.2023.national").status_code == 303
    # An input whose unit does not fit its factor is refused when computing, on the page.
    r = post(client, f"{model_url}/processes/use/inputs", csrf, name="bad", amount="1",
             unit="kg", source="factor", factor="cn.electricity.2023.national")
    assert r.status_code == 303  # stored: the unit is checked against the factor at compute
    r = post(client, f"{model_url}/studies", csrf, iterations="0")
    assert r.status_code == 422 and "kg cannot be converted to kWh" in unescape(r.text)
    assert post(client, f"{model_url}/processes/use/inputs/2/delete", csrf).status_code == 303
    r = post(client, f"{model_url}/processes", csrf, key="assembly", name="again",
             stage="production")
    assert r.status_code == 422 and "already" in r.text

    r = post(client, f"{model_url}/studies", csrf, title="YE3 footprint", iterations="400")
    assert r.status_code == 303, r.text
    study_url = r.headers["location"]
    page = client.get(study_url + "?lang=en").text
    # 12 kWh × 0.5500 (East China grid 2023) + 100 kWh × 0.5306 (national 2023)
    total = 12 * 0.55 + 100 * 0.5306
    assert f"{total:.4g}" in page
    w = chart(page, "waterfall")
    # Every stage of the cradle-to-grave boundary, then the total.
    assert w["labels"] == ["Raw materials", "Production", "Distribution", "Use", "End of life",
                           "Total"]
    assert w["signed"] == pytest.approx([0, 6.6, 0, 53.06, 0, total])
    assert w["base"] == pytest.approx([0, 0, 6.6, 6.6, total, 0])
    s = chart(page, "sankey")
    # Nodes are named as people know them: factors by name, the model's processes by theirs.
    east = "East China regional average electricity CO2 emission factor"
    national = "China national average electricity CO2 emission factor"
    assert {(k["source"], k["target"], round(k["value"], 6)) for k in s["links"]} == {
        (east, "Assembly", 6.6), (national, "Use phase", 53.06),
        ("Assembly", "Use phase", 6.6)}
    assert {n["name"] for n in s["nodes"]} == {east, national, "Assembly", "Use phase"}
    zh_sankey = chart(client.get(study_url + "?lang=zh").text, "sankey")
    assert "华东区域电力平均二氧化碳排放因子" in {n["name"] for n in zh_sankey["nodes"]}
    h = chart(page, "histogram")
    assert sum(h["values"]) == 400
    assert client.get(f"{study_url}/contributions.csv").text.count("\n") == 3
    zh = client.get(study_url + "?lang=zh").text
    assert "生产" in zh and "碳标签认证" in zh
    client.get("/carbon?lang=en")

    # Submitted to the body, which checks, asks, is answered and certifies.
    assert post(client, f"{study_url}/submit", csrf, institution_id=world["inst"]
                ).status_code == 303
    client.cookies.clear()
    csrf = sign_in(client, "auditor@greencert.cn")
    queue = client.get("/carbon/reviews?lang=en").text
    assert "YE3 footprint" in queue
    checks = {f"{c}_verdict": "conforms" for c in ("boundary", "cut_off", "data_quality")}
    assert post(client, f"{study_url}/checklist", csrf, allocation_verdict="finding",
                **checks).status_code == 303
    r = post(client, f"{study_url}/decision", csrf, decision="certify", valid_until="2029-12-31")
    assert r.status_code == 422 and "still open: Allocation" in r.text
    # Sent by the page's script, the refusal comes back in the reader's language, beside
    # the field, naming the item as people call it.
    client.get(study_url + "?lang=zh")
    r = client.post(f"{study_url}/decision", data={"csrf_token": csrf, "decision": "certify",
                                                   "valid_until": "2029-12-31"},
                    headers={"X-TICHub-Form": "1"}, follow_redirects=False)
    assert r.status_code == 422
    assert r.json()["errors"][0]["message"].endswith("尚未完成：分配")
    assert post(client, f"{study_url}/messages", csrf, topic="allocation",
                text="Is anything allocated?").status_code == 303
    assert post(client, f"{study_url}/checklist", csrf, allocation_verdict="not_applicable",
                **checks).status_code == 303
    r = post(client, f"{study_url}/decision", csrf, decision="certify", valid_until="2029-12-31",
             note="verified")
    assert r.status_code == 303
    page = client.get(study_url + "?lang=en").text
    number = re.search(r'data-testid="certificate-number">([^<]+)<', page)
    assert number and "/api/carbon/labels/" + number.group(1) + ".svg" in page
    assert "Is anything allocated?" in page
