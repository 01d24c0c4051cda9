"""The emission-factor library and product models through the API: versioned imports,
refusals that store nothing, studies computed from the starter set."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import api_token, make_account
from tichub.carbon.models import EmissionFactor, Study
from tichub.core.models import OrgKind

STARTER = Path(__file__).parents[1] / "src" / "tichub" / "carbon" / "data" / "factors.csv"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(client, token: str, text: str, org_id: str | None = None):  # type: ignore[no-untyped-def]
    return client.post("/api/carbon/factors/import", headers=auth(token),
                       files={"file": ("factors.csv", text.encode(), "text/csv")},
                       data={"org_id": org_id} if org_id else {})


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    operator = make_account(db, "ops@platform.cn", kind=OrgKind.operator)
    firm = make_account(db, "maker@motors.cn", kind=OrgKind.enterprise)
    other = make_account(db, "rival@motors.cn", kind=OrgKind.enterprise)
    return {"op": api_token(db, operator, ["carbon:write"]),
            "firm": api_token(db, firm, ["carbon:write"]), "firm_org": firm.org.id,
            "other": api_token(db, other, ["carbon:write"]), "other_org": other.org.id}


def test_the_starter_set_imports_once_then_versions_what_changes(client, db, world) -> None:  # type: ignore[no-untyped-def]
    text = STARTER.read_text(encoding="utf-8")
    keys = {row["key"] for row in csv.DictReader(io.StringIO(text))}
    r = upload(client, world["op"], text)
    assert r.status_code == 201, r.text
    assert r.json()["added"] == len(keys) and r.json()["new_versions"] == 0
    again = upload(client, world["op"], text).json()
    assert again["unchanged"] == len(keys) and again["added"] == 0
    # One value corrected: that key's version 2 becomes current, version 1 is kept.
    changed = text.replace("cn.electricity.2023.national,全国电力平均二氧化碳排放因子,"
                           "China national average electricity CO2 emission factor,kWh,CO2,"
                           "fossil,0.5306", "cn.electricity.2023.national,全国电力平均二氧化碳"
                           "排放因子,China national average electricity CO2 emission factor,"
                           "kWh,CO2,fossil,0.5307")
    assert changed != text
    third = upload(client, world["op"], changed).json()
    assert third["new_versions"] == 1 and third["unchanged"] == len(keys) - 1
    versions = client.get("/api/carbon/factors/cn.electricity.2023.national").json()
    assert [(v["version"], v["current"], v["gases"][0]["amount"]) for v in versions] == [
        (2, True, 0.5307), (1, False, 0.5306)]
    gas = client.get("/api/carbon/factors", params={"q": "natural_gas"}).json()
    ng = next(f for f in gas if f["key"] == "ipcc2006.combustion.natural_gas")
    # IPCC 2006 vol. 2 table 1.4 (CO2) and table 2.2 (CH4, N2O), per TJ
    assert {g["gas"]: g["amount"] for g in ng["gases"]} == {
        "CO2": 56100.0, "CH4-fossil": 1.0, "N2O": 0.1}
    assert ng["uncertainty"]["kind"] == "triangular"
    assert ng["uncertainty"]["low"] == pytest.approx(54300 / 56100, abs=1e-4)


def test_bad_rows_are_named_and_nothing_is_stored(client, db, world) -> None:  # type: ignore[no-untyped-def]
    text = ("key,unit,gas,category,amount,basis,source\n"
            "ok.one,kWh,CO2,fossil,0.5,,a source\n"
            "bad.unit,kWh/furlong²,CO2,fossil,0.5,,a source\n"
            "bad.gas,kg,CO3,fossil,1,,a source\n"
            "bad.basis,kg,CO2e,fossil,1,,a source\n"
            "bad.amount,kg,CO2,fossil,lots,,a source\n")
    r = upload(client, world["op"], text)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    faults = {(e["row"], e["field"].split(".")[0]) for e in r.json()["errors"]}
    assert faults == {(3, "unit"), (4, "gases"), (5, "request"), (6, "gases")}
    assert db.scalar(select(func.count()).select_from(EmissionFactor)) == 0


def test_only_the_operator_changes_the_public_library(client, world) -> None:  # type: ignore[no-untyped-def]
    text = "key,unit,gas,amount,source\nmy.steel,kg,CO2,1.9,mill's EPD\n"
    assert upload(client, world["firm"], text).status_code == 403
    mine = upload(client, world["firm"], text, world["firm_org"])
    assert mine.status_code == 201, mine.text
    # Another organisation neither sees it nor can take its key.
    assert client.get("/api/carbon/factors/my.steel", headers=auth(world["other"])
                      ).status_code == 404
    taken = upload(client, world["other"], text, world["other_org"])
    assert taken.status_code == 422 and "belongs to another library" in taken.text
    seen = client.get("/api/carbon/factors", headers=auth(world["firm"])).json()
    assert [f["key"] for f in seen] == ["my.steel"]


def motor(org_id: str) -> dict:  # type: ignore[type-arg]
    return {
        "org_id": org_id, "name": "YE3 电机", "declared_unit": "piece", "boundary":
        "cradle_to_gate", "reference": "assembly", "processes": [
            {"key": "assembly", "name": "Assembly", "stage": "production",
             "output_amount": 1, "output_unit": "piece", "inputs": [
                 {"name": "power", "amount": 12, "unit": "kWh", "kind": "energy",
                  "factor": "cn.electricity.2023.east_grid", "primary": True,
                  "uncertainty": {"kind": "lognormal", "gsd": 1.1}},
                 {"name": "diesel forklift", "amount": 0.5, "unit": "kg", "kind": "energy",
                  "factor": "ipcc2006.combustion.gas_diesel_oil.per_kg"}]}]}


def test_a_study_cites_the_factor_versions_it_used(client, db, world) -> None:  # type: ignore[no-untyped-def]
    assert upload(client, world["op"], STARTER.read_text(encoding="utf-8")).status_code == 201
    r = client.post("/api/carbon/models", json=motor(world["firm_org"]),
                    headers=auth(world["firm"]))
    assert r.status_code == 201, r.text
    model_id = r.json()["id"]
    s = client.post(f"/api/carbon/models/{model_id}/studies", json={"iterations": 500},
                    headers=auth(world["firm"]))
    assert s.status_code == 201, s.text
    study = s.json()
    # 12 kWh × 0.5500 (East China grid, 2023) + 0.5 kg × 74,100 kg/TJ × 43.0 TJ/Gg
    assert study["total"] == pytest.approx(12 * 0.55 + 0.5 * 3.1863, rel=1e-12)
    assert study["factors"] == ["cn.electricity.2023.east_grid@1",
                                "ipcc2006.combustion.gas_diesel_oil.per_kg@1"]
    assert study["results"]["primary_share"] == pytest.approx(6.6 / study["total"])
    assert study["uncertainty"]["iterations"] == 500
    assert sum(study["uncertainty"]["histogram"]["counts"]) == 500
    assert list(study["uncertainty"]["shares"]) == ["YE3 电机 / process Assembly, input power"]
    # The other organisation can neither read the study nor compute the model.
    assert client.get(f"/api/carbon/studies/{study['id']}", headers=auth(world["other"])
                      ).status_code == 404
    assert client.post(f"/api/carbon/models/{model_id}/studies", json={},
                       headers=auth(world["other"])).status_code == 404


def test_unit_mismatch_and_missing_factor_are_clear_errors(client, db, world) -> None:  # type: ignore[no-untyped-def]
    assert upload(client, world["op"], STARTER.read_text(encoding="utf-8")).status_code == 201
    body = motor(world["firm_org"])
    body["processes"][0]["inputs"][0]["unit"] = "kg"
    r = client.post("/api/carbon/models", json=body, headers=auth(world["firm"]))
    model_id = r.json()["id"]
    s = client.post(f"/api/carbon/models/{model_id}/studies", json={},
                    headers=auth(world["firm"]))
    assert s.status_code == 422
    err = s.json()["errors"][0]
    assert err["field"] == "YE3 电机 / process Assembly, input power"
    # A place in the model is no form's field: the message names it for people too.
    assert err["message"] == "YE3 电机 / process Assembly, input power: kg cannot be " \
        "converted to kWh"
    body["processes"][0]["inputs"][0].update(unit="kWh", factor="cn.electricity.2031.mars")
    client.put(f"/api/carbon/models/{model_id}", json=body, headers=auth(world["firm"]))
    s = client.post(f"/api/carbon/models/{model_id}/studies", json={},
                    headers=auth(world["firm"]))
    assert s.status_code == 422
    assert "no emission factor cn.electricity.2031.mars in the library" in s.json()["detail"]
    assert db.scalar(select(func.count()).select_from(Study)) == 0
    bad_unit = motor(world["firm_org"])
    bad_unit["declared_unit"] = "9**9**9"
    r = client.post("/api/carbon/models", json=bad_unit, headers=auth(world["firm"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "declared_unit"


def test_the_operator_sees_every_library(client, db, world) -> None:  # type: ignore[no-untyped-def]
    text = "key,unit,gas,amount,source\nmy.steel,kg,CO2,1.9,mill's EPD\n"
    assert upload(client, world["firm"], text, world["firm_org"]).status_code == 201
    seen = client.get("/api/carbon/factors", headers=auth(world["op"])).json()
    assert [f["key"] for f in seen] == ["my.steel"]
