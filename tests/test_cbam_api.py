"""CBAM installations through the API: the Commission's worked examples stored and computed
back to their published figures, the communication to importers downloaded and read back,
refusals that name the field and store nothing, default values, and privacy.

Inputs and expected figures are those of tests/test_cbam.py: the Commission's filled-in
communication templates V2.1, "1 CBAM SEE V2.1_Example Cement_final.xlsx" and "4 CBAM SEE
V2.1_Example Steel 3 Screws and nuts_final.xlsx" (Summary_Products), and the default values
of Implementing Regulation (EU) 2025/2621 as printed in the Official Journal.
"""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from helpers import api_token, make_account
from tichub.carbon.models import CbamInstallation
from tichub.core.models import AuditEvent, OrgKind

API = "/api/carbon/cbam"
CEMENT_AL = 1_255_000 / 0.95  # the workbook's activity level, t of cement


def cement(org_id: str) -> dict[str, Any]:
    """Example 1: four source streams (B_EmInst) whose total the one process takes."""
    return {
        "org_id": org_id, "name": "示例水泥厂", "name_en": "Example cement works",
        "country": "CN", "unlocode": "CNSHA", "city": "Shanghai",
        "period_start": "2025-01-01", "period_end": "2025-12-31",
        "streams": [
            {"name": "Raw meal for clinker", "method": "process", "activity": 1_255_000,
             "ef": 0.525},
            {"name": "Coal", "method": "combustion", "activity": 88_000, "ncv": 25, "ef": 95},
            {"name": "Household waste", "method": "combustion", "activity": 25_000, "ncv": 20,
             "ef": 83, "biomass": 0.15},
            {"name": "Heavy fuel oil", "method": "combustion", "activity": 43_000, "ncv": 40,
             "ef": 78}],
        "processes": [{
            "key": "P1", "name": "Cement Bubble", "cn": "2523 29 00",
            "activity_level": CEMENT_AL, "electricity_mwh": CEMENT_AL * 0.14675,
            "electricity_ef": 0.833, "electricity_ef_source": "D.4(b)"}]}


def screws(org_id: str, period_end: str = "2023-12-31") -> dict[str, Any]:
    """Example 4: two processes, each making screws and nuts from a purchased steel."""
    return {
        "org_id": org_id, "name": "Example screws and nuts", "country": "CN",
        "period_start": "2023-01-01", "period_end": period_end,
        "streams": [{"name": "Natural gas", "method": "combustion", "activity": 1837.5,
                     "ncv": 48, "ef": 56.1}],
        "precursors": [
            {"key": "PP1", "name": "Carbon steel", "cn": "7208", "country": "CN",
             "see_direct": 1.539, "electricity_mwh_per_t": 0.3455925,
             "electricity_ef": 0.5902905879033833},
            {"key": "PP2", "name": "High alloy steel", "cn": "7219", "country": "US",
             "see_direct": 1.44, "electricity_mwh_per_t": 2.0786092594604715,
             "electricity_ef": 0.833249439314805}],
        "processes": [
            {"key": "P1", "name": "Carbon steel screws and nuts", "cn": "7318 15 42",
             "activity_level": 17_000, "direct": 3337.95, "electricity_mwh": 3400,
             "electricity_ef": 0.833, "uses": [{"source": "PP1", "mass": 20_000}]},
            {"key": "P2", "name": "High alloy steel screws and nuts", "cn": "7318 15 35",
             "activity_level": 8200, "direct": 1610.07, "electricity_mwh": 1640,
             "electricity_ef": 0.833, "uses": [{"source": "PP2", "mass": 10_000}]}],
        # A carbon tax of 80 CNY/t on 0.2 t of each t of screws, at 0.128 EUR/CNY
        "carbon_prices": [{"cn": "7318 15 42", "instrument": "carbon tax",
                           "legal_reference": "Example Act art. 3", "currency": "CNY",
                           "price_per_t": 80, "covered_t_per_t": 0.2, "fx_to_eur": 0.128}]}


# Summary_Products of the two workbooks, to their full precision.
CEMENT_SEE = {"see_direct": 0.7852147410358565, "see_indirect": 0.12224275,
              "see_total": 0.9074574910358565, "embedded_electricity": 0.14675}
SCREWS_SEE = [
    {"see_direct": 2.0069382352941174, "see_indirect": 0.4066,
     "see_total": 2.4135382352941175, "embedded_electricity": 0.6065794117647059},
    {"see_direct": 1.9524475609756098, "see_indirect": 2.2787951219512195,
     "see_total": 4.23124268292683, "embedded_electricity": 2.734889340805453}]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    firm = make_account(db, "operator@cement.cn", kind=OrgKind.enterprise)
    other = make_account(db, "rival@cement.cn", kind=OrgKind.enterprise)
    regulator = make_account(db, "samr@gov.cn", kind=OrgKind.regulator)
    return {"firm": api_token(db, firm, ["carbon:write"]), "org": firm.org.id,
            "firm_readonly": api_token(db, firm, ["registry:read"]),
            "other": api_token(db, other, ["carbon:write"]), "other_org": other.org.id,
            "regulator": api_token(db, regulator, ["carbon:write"])}


def create(client, token: str, body: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.post(f"{API}/installations", json=body, headers=auth(token))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def check_see(got: dict[str, Any], expected: dict[str, float]) -> None:
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, rel=1e-12), k


def test_the_commissions_cement_example_comes_back_with_its_figures(client, db, world) -> None:  # type: ignore[no-untyped-def]
    made = create(client, world["firm"], cement(world["org"]))
    assert made["name"] == "示例水泥厂" and made["processes"][0]["direct"] is None
    r = client.get(f"{API}/installations/{made['id']}/results", params={"year": 2027},
                   headers=auth(world["firm"]))
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["streams_total"] == pytest.approx(1_037_310, rel=1e-12)  # B_EmInst AU47
    assert not res["definitive"] and res["year"] == 2027 and res["warnings"] == []
    [good] = res["goods"]
    check_see(good, CEMENT_SEE)
    assert good["category"] == "cement" and not good["direct_only"]
    assert good["default_share"] == 0 and good["warnings"] == []
    # 2025/2621 Annex I, China, 2523 29 00 grey Portland cement: 1.420; 2027: 1.704 (+20 %)
    dv = good["default"]
    assert (dv["country"], dv["description"], dv["total"], dv["with_markup"], dv["markup"]) \
        == ("CN", "Grey Portland cement", 1.42, 1.704, 0.2)
    assert dv["table"] == "IR (EU) 2025/2621 Annex I"
    assert good["saving_per_t"] == pytest.approx(1.704 - 0.9074574910358565, rel=1e-12)
    # Without a year: the first year of the definitive period, 2026 (1.562)
    plain = client.get(f"{API}/installations/{made['id']}/results",
                       headers=auth(world["firm"])).json()
    assert plain["year"] == 2026 and plain["goods"][0]["default"]["with_markup"] == 1.562


def test_the_screws_and_nuts_example_and_its_definitive_period(client, db, world) -> None:  # type: ignore[no-untyped-def]
    made = create(client, world["firm"], screws(world["org"]))
    res = client.get(f"{API}/installations/{made['id']}/results",
                     headers=auth(world["firm"])).json()
    carbon, alloy = res["goods"]
    check_see(carbon, SCREWS_SEE[0])
    check_see(alloy, SCREWS_SEE[1])
    # In the transitional period both count; the carbon tax is 80 × 0.2 × 0.128 EUR/t.
    assert carbon["see_counted"] == pytest.approx(2.4135382352941175, rel=1e-12)
    assert carbon["carbon_price_due_eur_per_t"] == pytest.approx(80 * 0.2 * 0.128)
    assert alloy["carbon_price_due_eur_per_t"] == 0
    # The table holds no 7318 row for China (nor "other countries"): said, not guessed.
    assert carbon["default"] is None and carbon["saving_per_t"] is None
    assert [w["code"] for w in carbon["warnings"]] == ["no_default"]
    assert "no default value for CN 7318 15 42 from CN" in carbon["warnings"][0]["message"]

    # The same installation reporting 2026: screws count their direct emissions only.
    later = screws(world["org"], "2026-12-31")
    r = client.put(f"{API}/installations/{made['id']}", json=later,
                   headers=auth(world["firm"]))
    assert r.status_code == 200, r.text
    res = client.get(f"{API}/installations/{made['id']}/results",
                     headers=auth(world["firm"])).json()
    assert res["definitive"]
    carbon = res["goods"][0]
    assert carbon["direct_only"]
    assert carbon["see_counted"] == pytest.approx(2.0069382352941174, rel=1e-12)
    # A precursor from the Union counts as zero from 2026 (IR 2025/2547 Annex III B).
    later["precursors"][0]["country"] = "de"
    client.put(f"{API}/installations/{made['id']}", json=later, headers=auth(world["firm"]))
    res = client.get(f"{API}/installations/{made['id']}/results",
                     headers=auth(world["firm"])).json()
    assert res["goods"][0]["see_direct"] == pytest.approx(3337.95 / 17_000, rel=1e-12)
    listed = client.get(f"{API}/installations", params={"org_id": world["org"]},
                        headers=auth(world["firm"])).json()
    assert [(i["name"], i["goods"]) for i in listed] == [
        ("Example screws and nuts", ["7318 15 42", "7318 15 35"])]
    actions = list(db.scalars(select(AuditEvent.action).where(
        AuditEvent.object_id == made["id"]).order_by(AuditEvent.at)))
    assert actions == ["carbon.cbam.installation.created"] + [
        "carbon.cbam.installation.updated"] * 2


def test_estimates_over_a_fifth_are_warned_after_july_2024(client, db, world) -> None:  # type: ignore[no-untyped-def]
    body = screws(world["org"], "2024-12-31")
    body["precursors"][1]["default"] = True  # PP2's values are default values
    made = create(client, world["firm"], body)
    _, alloy = client.get(f"{API}/installations/{made['id']}/results",
                          headers=auth(world["firm"])).json()["goods"]
    share = 10_000 * (1.44 + 1.732) / (8200 * 4.23124268292683)
    assert alloy["default_share"] == pytest.approx(share, rel=1e-9)
    [over] = [w for w in alloy["warnings"] if w["code"] == "estimates_over_limit"]
    assert over["share"] == pytest.approx(share, rel=1e-9) and "at most 20 %" in over["message"]


def test_attributing_more_than_the_source_streams_emit_is_warned(client, db, world) -> None:  # type: ignore[no-untyped-def]
    body = screws(world["org"])
    body["processes"][0]["direct"] = 3400  # with P2's 1610.07: more than the gas's 4948.02
    made = create(client, world["firm"], body)
    res = client.get(f"{API}/installations/{made['id']}/results",
                     headers=auth(world["firm"])).json()
    assert res["streams_total"] == pytest.approx(4948.02, rel=1e-12)
    [note] = res["warnings"]
    assert note["code"] == "attributed_exceeds_streams" and "5,010.07" in note["message"]
    # The figures follow what was attributed: (3400 + 20000 × 1.539) / 17000
    assert res["goods"][0]["see_direct"] == pytest.approx(34180 / 17_000, rel=1e-12)


def test_the_communication_goes_out_and_reads_back(client, db, world) -> None:  # type: ignore[no-untyped-def]
    made = create(client, world["firm"], screws(world["org"]))
    r = client.get(f"{API}/installations/{made['id']}/communication.xlsx",
                   headers=auth(world["firm"]))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert {"A_InstData", "Summary_Products", "Summary_Communication", "CarbonPrice"} <= set(
        wb.sheetnames)

    # An importer (another organisation) reads the supplier's file.
    back = client.post(f"{API}/communications/read", headers=auth(world["other"]),
                       files={"file": ("supplier.xlsx", r.content)})
    assert back.status_code == 200, back.text
    comm = back.json()
    assert comm["installation"]["Installation name"] == "Example screws and nuts"
    assert (comm["period_start"], comm["period_end"], comm["country"]) == (
        "2023-01-01", "2023-12-31", "CN")
    assert [g["values"]["CN code"] for g in comm["goods"]] == ["7318 15 42", "7318 15 35"]
    for good, expected in zip(comm["goods"], SCREWS_SEE, strict=True):
        assert good["values"]["SEE direct (tCO2e/t)"] == pytest.approx(
            expected["see_direct"], rel=1e-15)
        assert good["values"]["SEE total (tCO2e/t)"] == pytest.approx(
            expected["see_total"], rel=1e-15)
        assert good["checks"] == [] and good["category"] == "iron_steel"
    assert comm["goods"][0]["values"]["Carbon price due (EUR/t)"] == pytest.approx(2.048)

    # A row whose total does not add up is pointed out.
    summary = wb["Summary_Communication"]
    summary["G3"] = 9.99  # SEE total of the first good
    buf = io.BytesIO()
    wb.save(buf)
    checked = client.post(f"{API}/communications/read", headers=auth(world["other"]),
                          files={"file": ("edited.xlsx", buf.getvalue())}).json()
    assert any("is not SEE direct plus SEE indirect" in c for c in checked["goods"][0]["checks"])

    # What is not a communication is refused, naming the file.
    bad = client.post(f"{API}/communications/read", headers=auth(world["other"]),
                      files={"file": ("x.xlsx", b"not a workbook")})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "file"
    assert "not a readable Excel workbook" in bad.json()["errors"][0]["message"]
    # Anonymous uploads are refused (a form without a CSRF token or bearer token is
    # stopped before the route looks for a user).
    assert client.post(f"{API}/communications/read",
                       files={"file": ("x.xlsx", r.content)}).status_code in (401, 403)


def refusal(client, token: str, body: dict[str, Any]) -> set[str]:  # type: ignore[no-untyped-def]
    r = client.post(f"{API}/installations", json=body, headers=auth(token))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return {e["field"] for e in r.json()["errors"]}


def test_refusals_name_the_field_and_store_nothing(client, db, world) -> None:  # type: ignore[no-untyped-def]
    base = screws(world["org"])
    cases: list[tuple[str, Any, set[str]]] = [
        ("processes.0.activity_level", 0, {"processes.0.activity_level"}),
        ("processes.1.cn", "12", {"processes.1.cn"}),
        ("processes.0.uses.0.source", "PP9", {"processes.0.uses.0.source"}),
        # PP2 renamed PP1: a key twice, and P2's precursor gone
        ("precursors.1.key", "PP1", {"precursors.1.key", "processes.1.uses.0.source"}),
        ("precursors.0.country", "China", {"precursors.0.country"}),
        ("streams.0.ncv", 0, {"streams.0.ncv"}),
        ("carbon_prices.0.cn", "2523 29 00", {"carbon_prices.0.cn"}),
        ("carbon_prices.0.rebate_t_per_t", 0.5, {"carbon_prices.0.rebate_t_per_t"}),
        ("period_end", "2022-12-31", {"period_end"}),
        ("processes.1.direct", None, {"processes.1.direct"}),
    ]
    for path, value, fields in cases:
        body = copy.deepcopy(base)
        *parents, last = path.split(".")
        target: Any = body
        for p in parents:
            target = target[int(p)] if p.isdigit() else target[p]
        target[last] = value
        assert refusal(client, world["firm"], body) == fields, path
    # Processes that use up each other's whole output leave nothing to make goods from.
    loop = copy.deepcopy(base)
    loop["processes"][0]["uses"] = [{"source": "P2", "mass": 8200}]
    loop["processes"][1]["uses"] = [{"source": "P1", "mass": 17_000}]
    r = client.post(f"{API}/installations", json=loop, headers=auth(world["firm"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "processes"
    assert "consume one another's output" in r.json()["errors"][0]["message"]
    more = copy.deepcopy(base)
    more["processes"][0]["uses"] = [{"source": "P2", "mass": 9000}]
    assert refusal(client, world["firm"], more) == {"processes.1.activity_level"}
    assert db.scalar(select(func.count()).select_from(CbamInstallation)) == 0

    # A refused change leaves the stored document as it was.
    made = create(client, world["firm"], base)
    broken = copy.deepcopy(base)
    broken["processes"][0]["uses"][0]["source"] = "PP9"
    r = client.put(f"{API}/installations/{made['id']}", json=broken,
                   headers=auth(world["firm"]))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "processes.0.uses.0.source"
    again = client.get(f"{API}/installations/{made['id']}", headers=auth(world["firm"]))
    assert again.json()["processes"][0]["uses"][0]["source"] == "PP1"


def test_default_values_are_public_with_their_mark_ups(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get(f"{API}/defaults", params={"cn": "7207 11 14", "country": "cn",
                                              "year": 2028})
    assert r.status_code == 200, r.text
    [semis] = r.json()
    # printed 4.119, though 3.169 × 1.3 = 4.1197: the act rounds from unrounded values
    assert (semis["total"], semis["with_markup"], semis["markup"]) == (3.169, 4.119, 0.3)
    assert semis["direct"] == 3.169 and semis["indirect"] is None and semis["route"] == "C"
    clinker = client.get(f"{API}/defaults", params={"cn": "25231000", "country": "CN"}).json()
    assert [(c["description"], c["with_markup"]) for c in clinker] == [
        ("Grey clinker", 1.529), ("White clinker", 1.430)]
    ammonia = client.get(f"{API}/defaults", params={"cn": "2814 10 00", "country": "CN",
                                                    "year": 2027}).json()
    assert (ammonia[0]["with_markup"], ammonia[0]["markup"]) == (4.404, 0.01)  # fertilisers
    unknown = client.get(f"{API}/defaults", params={"cn": "7201 10 11",
                                                    "country": "UNKNOWN"}).json()
    assert unknown[0]["total"] == 7.92 and unknown[0]["table"] == "IR (EU) 2025/2621 Annex IV"
    missing = client.get(f"{API}/defaults", params={"cn": "7208 51 20", "country": "VN"})
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "cn"
    bad = client.get(f"{API}/defaults", params={"cn": "72x8", "country": "CN"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cn"
    assert client.get(f"{API}/defaults", params={"cn": "7208", "country": "CN",
                                                  "year": 2025}).status_code == 422


def test_another_organisation_neither_reads_nor_changes_an_installation(client, db, world) -> None:  # type: ignore[no-untyped-def]
    made = create(client, world["firm"], cement(world["org"]))
    path = f"{API}/installations/{made['id']}"
    other = auth(world["other"])
    for url in (path, f"{path}/results", f"{path}/communication.xlsx"):
        r = client.get(url, headers=other)
        assert r.status_code == 404 and "示例水泥厂" not in r.text, url
    assert client.put(path, json=cement(world["org"]), headers=other).status_code == 404
    assert client.put(path, json=cement(world["other_org"]), headers=other).status_code == 404
    assert client.get(f"{API}/installations", params={"org_id": world["org"]},
                      headers=other).status_code == 403
    assert client.post(f"{API}/installations", json=cement(world["org"]),
                       headers=other).status_code == 403
    # Moving it to another organisation is refused too.
    moved = client.put(path, json=cement(world["other_org"]), headers=auth(world["firm"]))
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "org_id"
    # A token without carbon:write reads but does not write.
    assert client.get(path, headers=auth(world["firm_readonly"])).status_code == 200
    assert client.put(path, json=cement(world["org"]),
                      headers=auth(world["firm_readonly"])).status_code == 403
    # Supervision reads every installation and changes none.
    regulator = auth(world["regulator"])
    assert client.get(f"{path}/results", headers=regulator).status_code == 200
    assert client.put(path, json=cement(world["org"]), headers=regulator).status_code == 403
    assert client.get(path).status_code == 401
    assert db.scalar(select(func.count()).select_from(CbamInstallation)) == 1
    db.expire_all()
    assert db.scalar(select(CbamInstallation.name)) == "示例水泥厂"
