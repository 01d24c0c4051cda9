"""The PACT exchange through the application: a supplier computes and shares a footprint
and creates a client for its customer; the customer's system takes a token and reads the
footprint over v2 and v3, with paging, filters and events; what it may not see, it does
not; a received footprint becomes the receiver's own emission factor."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from helpers import api_token, make_account, sign_in
from test_pact import conformance_errors, spec_rules  # the vendored schemas' validators
from tichub.carbon.models import PactEvent, PactToken
from tichub.core.ids import utcnow
from tichub.core.models import OrgKind
from tichub.core.security import sha256_hex

V3_TYPES = "org.wbcsd.pact.ProductFootprint."


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


# Private factors (keyed by the organisation's prefix), figures chosen for easy sums.
def factors(prefix: str) -> list[dict[str, Any]]:
    return [{**f, "key": f"{prefix}.{f['key']}"} for f in FACTORS]


FACTORS = [
    {"key": "steel", "unit": "kg", "source": "mill EPD",
     "gases": [{"gas": "CO2", "category": "fossil", "amount": 1.9}]},
    {"key": "power", "unit": "kWh", "source": "grid",
     "gases": [{"gas": "CO2", "category": "fossil", "amount": 0.55}]},
    {"key": "wood", "unit": "kg", "source": "pallet maker",
     "gases": [{"gas": "CO2", "category": "biogenic", "amount": 0.2},
               {"gas": "CO2", "category": "biogenic_removal", "amount": -1.5}]},
]


def motor(org_id: str, prefix: str = "supplier", **extra: Any) -> dict[str, Any]:
    """One motor (25 kg): 20 kg steel → 38.0 kg CO2e fossil, 10 kWh → 5.5 fossil (primary
    data), a 2 kg wooden pallet → 0.4 biogenic and −3.0 biogenic uptake: 40.9 in all."""
    return {
        "org_id": org_id, "name": "YE3 电机", "product": "YE3-132M-4", "cn_code": "8501 52",
        "declared_unit": "piece", "mass_kg": 25, "geography": "CN-SH",
        "period_start": "2025-01-01", "period_end": "2025-12-31", "reference": "asm",
        "processes": [{"key": "asm", "name": "Assembly", "stage": "production",
                       "output_amount": 1, "output_unit": "piece", "inputs": [
                           {"name": "steel", "amount": 20, "unit": "kg",
                            "factor": f"{prefix}.steel",
                            "uncertainty": {"kind": "pedigree",
                                            "pedigree": [2, 3, 1, 2, 4]}},
                           {"name": "power", "amount": 10, "unit": "kWh",
                            "factor": f"{prefix}.power", "primary": True},
                           {"name": "pallet", "amount": 2, "unit": "kg",
                            "factor": f"{prefix}.wood"}]}],
        **extra}


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    # PACT is served over HTTPS only; the pages work over either.
    with TestClient(app, base_url="https://testserver") as c:
        yield c


@pytest.fixture
def world(client, db):  # type: ignore[no-untyped-def]
    supplier = make_account(db, "maker@motors.cn", kind=OrgKind.enterprise)
    rival = make_account(db, "rival@motors.cn", kind=OrgKind.enterprise)
    buyer = make_account(db, "buyer@cars.cn", kind=OrgKind.enterprise)
    w: dict[str, Any] = {"supplier": supplier, "rival": rival, "buyer": buyer}
    for name, acc in (("supplier", supplier), ("rival", rival), ("buyer", buyer)):
        w[f"{name}_token"] = api_token(db, acc, ["carbon:write"])
        w[f"{name}_org"] = acc.org.id
    for name in ("supplier", "rival"):
        r = client.post(f"/api/carbon/factors?org_id={w[name + '_org']}", json=factors(name),
                        headers=auth(w[f"{name}_token"]))
        assert r.status_code == 201, r.text
    return w


def study_of(client, w: dict[str, Any], who: str = "supplier", **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.post("/api/carbon/models", json=motor(w[f"{who}_org"], who, **extra),
                    headers=auth(w[f"{who}_token"]))
    assert r.status_code == 201, r.text
    s = client.post(f"/api/carbon/models/{r.json()['id']}/studies", json={"iterations": 0},
                    headers=auth(w[f"{who}_token"]))
    assert s.status_code == 201, s.text
    return dict(s.json())


def share(client, w: dict[str, Any], study_id: str, who: str = "supplier",  # type: ignore[no-untyped-def]
          shared: bool = True):
    return client.put(f"/api/carbon/studies/{study_id}/share", json={"shared": shared},
                      headers=auth(w[f"{who}_token"]))


def new_client(client, w: dict[str, Any], who: str = "supplier") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.post("/api/carbon/pact/clients", json={"org_id": w[f"{who}_org"],
                                                      "name": "Buyer Cars Ltd"},
                    headers=auth(w[f"{who}_token"]))
    assert r.status_code == 201, r.text
    return dict(r.json())


def token_for(client, creds: dict[str, Any]) -> str:  # type: ignore[no-untyped-def]
    r = client.post("/pact/auth/token", data={"grant_type": "client_credentials"},
                    headers=basic(creds["client_id"], creds["client_secret"]))
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_a_customer_system_reads_a_shared_footprint_over_v2_and_v3(client, db, world) -> None:  # type: ignore[no-untyped-def]
    study = study_of(client, world)
    assert study["total"] == pytest.approx(38.0 + 5.5 + 0.4 - 3.0)
    r = share(client, world, study["id"])
    assert r.status_code == 200, r.text
    pf_id = r.json()["pact_id"]
    assert r.json()["shared"] and re.fullmatch(r"[0-9a-f-]{36}", pf_id)
    creds = new_client(client, world)
    assert creds["base_url"] == "https://testserver/pact"
    # The secret is kept only as an argon2 hash, and listed nowhere.
    listed = client.get(f"/api/carbon/pact/clients?org_id={world['supplier_org']}",
                        headers=auth(world["supplier_token"]))
    assert creds["client_secret"] not in listed.text and len(listed.json()) == 1

    discovery = client.get("/pact/.well-known/openid-configuration").json()
    assert discovery["token_endpoint"] == "https://testserver/pact/auth/token"
    answer = client.post("/pact/auth/token", data={"grant_type": "client_credentials"},
                         headers=basic(creds["client_id"], creds["client_secret"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert answer.headers["cache-control"] == "no-store"
    # Only the token's SHA-256 is stored.
    stored = db.scalars(select(PactToken.token_hash)).all()
    assert stored == [sha256_hex(body["access_token"])]
    bearer = auth(body["access_token"])

    v3 = client.get("/pact/3/footprints", headers=bearer)
    assert v3.status_code == 200, v3.text
    [doc] = v3.json()["data"]
    assert conformance_errors(doc, "3") == []
    spec_rules(doc, "3")
    assert doc["id"] == pf_id and doc["status"] == "Active"
    assert doc["companyName"] == "Org of maker@motors.cn"
    assert doc["companyIds"] == [f"urn:pact:127.0.0.1:company-id:{world['supplier_org']}"]
    assert doc["productIds"] == [f"urn:pact:127.0.0.1:supplier-id:{study['model_id']}"]
    assert doc["productNameCompany"] == "YE3-132M-4"
    assert doc["productClassifications"] == ["urn:pact:productclassification:cn:850152"]
    pcf = doc["pcf"]
    assert (pcf["declaredUnitOfMeasurement"], pcf["declaredUnitAmount"],
            pcf["productMassPerDeclaredUnit"]) == ("piece", "1", "25")
    assert pcf["pcfIncludingBiogenicUptake"] == "40.9"
    assert pcf["pcfExcludingBiogenicUptake"] == "43.9"
    assert pcf["fossilGhgEmissions"] == "43.5" and pcf["biogenicCO2Uptake"] == "-3"
    assert pcf["geographyCountrySubdivision"] == "CN-SH"
    assert pcf["referencePeriodEnd"] == "2026-01-01T00:00:00Z"
    assert float(pcf["primaryDataShare"]) == pytest.approx(100 * 5.5 / 40.9, abs=1e-6)
    # The steel's pedigree (technological 4, geographical 2, temporal 1) covers its share.
    assert pcf["dqi"] == {"technologicalDQR": "4", "geographicalDQR": "2", "temporalDQR": "1"}
    assert "Assembly (production)" in pcf["boundaryProcessesDescription"]

    one = client.get(f"/pact/3/footprints/{pf_id}", headers=bearer)
    assert one.status_code == 200 and one.json()["data"] == doc
    v2 = client.get(f"/pact/2/footprints/{pf_id}", headers=bearer)
    assert v2.status_code == 200, v2.text
    doc2 = v2.json()["data"]
    assert conformance_errors(doc2, "2") == []
    spec_rules(doc2, "2")
    assert (doc2["pcf"]["declaredUnit"], doc2["pcf"]["unitaryProductAmount"]) == (
        "kilogram", "25")
    assert doc2["pcf"]["pCfExcludingBiogenic"] == "1.74"  # 43.5 kg CO2e / 25 kg
    assert doc2["pcf"]["pCfIncludingBiogenic"] == "1.636"
    assert doc2["pcf"]["dqi"]["coveragePercent"] == pytest.approx(100 * 38 / 46.1, abs=1e-4)
    assert client.get("/pact/2/footprints", headers=bearer).json()["data"] == [doc2]

    # The owner downloads the same document.
    download = client.get(f"/api/carbon/studies/{study['id']}/pact?version=2",
                          headers=auth(world["supplier_token"]))
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert download.json() == doc2


def test_paging_filters_and_versions(client, db, world) -> None:  # type: ignore[no-untyped-def]
    first = study_of(client, world)
    ids = []
    for _ in range(3):  # three studies of one model: the newest replaces the others
        s = client.post(f"/api/carbon/models/{first['model_id']}/studies",
                        json={"iterations": 0}, headers=auth(world["supplier_token"]))
        ids.append(share(client, world, s.json()["id"]).json()["pact_id"])
    bearer = auth(token_for(client, new_client(client, world)))

    page = client.get("/pact/3/footprints", params={"limit": 2}, headers=bearer)
    assert page.status_code == 200 and len(page.json()["data"]) == 2
    link = page.headers["link"]
    m = re.fullmatch(r'<(https://testserver/pact/3/footprints\?[^>]+)>; rel="next"', link)
    assert m, link
    rest = client.get(m.group(1), headers=bearer)
    assert rest.status_code == 200 and "link" not in rest.headers
    docs = page.json()["data"] + rest.json()["data"]
    assert [d["id"] for d in docs] == ids
    assert [d["status"] for d in docs] == ["Deprecated", "Deprecated", "Active"]
    assert docs[2]["precedingPfIds"] == ids[:2]
    # The link may be followed again, with the same answer.
    assert client.get(m.group(1), headers=bearer).json() == rest.json()

    def listed(**params: Any) -> list[str]:
        r = client.get("/pact/3/footprints", params=params, headers=bearer)
        assert r.status_code == 200, r.text
        return [d["id"] for d in r.json()["data"]]

    product = docs[0]["productIds"][0]
    assert listed(productId=product.upper()) == ids  # case does not matter
    assert listed(productId=["urn:gtin:0000000000000", product]) == ids  # any of them
    assert listed(productId="urn:gtin:0000000000000") == []
    assert listed(companyId=docs[0]["companyIds"][0]) == ids
    assert listed(companyId="urn:pact:127.0.0.1:company-id:nobody") == []
    assert listed(status="active") == ids[2:]
    assert listed(status="Deprecated", productId=product) == ids[:2]  # both must hold
    assert listed(status="BogusStatusValue") == []
    assert listed(geography="CN") == ids  # a country takes in its subdivisions
    assert listed(geography="cn-sh") == ids
    assert listed(geography="DE") == []
    assert listed(classification="urn:pact:productclassification:cn:850152") == ids
    # No validity period given: three years from the reference period's end (2026-01-01).
    assert listed(validOn="2027-06-01T00:00:00Z") == ids
    assert listed(validOn="2029-06-01T00:00:00Z") == []
    assert listed(validAfter="2025-12-31T00:00:00Z") == ids
    assert listed(validBefore="2029-01-02T00:00:00Z") == ids
    assert listed(validBefore="2028-12-31T00:00:00Z") == []

    unknown = client.get("/pact/3/footprints", params={"colour": "red"}, headers=bearer)
    assert unknown.status_code == 400 and unknown.json()["code"] == "BadRequest"
    custom = client.get("/pact/3/footprints", params={"x-atq-invoice-id": "1"}, headers=bearer)
    assert custom.status_code == 501 and custom.json()["code"] == "NotImplemented"
    odata = client.get("/pact/2/footprints", params={"$filter": "pcf/geographyCountry eq "
                                                                "'CN'"}, headers=bearer)
    assert odata.status_code == 400 and odata.json()["code"] == "NotImplemented"
    bad_time = client.get("/pact/3/footprints", params={"validOn": "soon"}, headers=bearer)
    assert bad_time.status_code == 400
    assert client.get("/pact/3/footprints", params={"limit": 0},
                      headers=bearer).status_code == 400


def test_tokens_are_checked_as_pact_says(client, db, world) -> None:  # type: ignore[no-untyped-def]
    creds = new_client(client, world)
    wrong = client.post("/pact/auth/token", data={"grant_type": "client_credentials"},
                        headers=basic(creds["client_id"], "not-the-secret"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")
    unknown = client.post("/pact/auth/token", data={"grant_type": "client_credentials"},
                          headers=basic("pact-nobody", creds["client_secret"]))
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    grant = client.post("/pact/auth/token", data={"grant_type": "password"},
                        headers=basic(creds["client_id"], creds["client_secret"]))
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    missing = client.post("/pact/auth/token", data={},
                          headers=basic(creds["client_id"], creds["client_secret"]))
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"

    for path in ("/pact/2/footprints", "/pact/3/footprints"):
        bogus = client.get(path, headers=auth("invalid-access-token"))
        assert bogus.status_code == 401 and bogus.json()["code"] == "BadRequest"
        assert client.get(path).status_code == 401
    # A TICHub API token is no PACT token.
    tichub = client.get("/pact/3/footprints", headers=auth(world["supplier_token"]))
    assert tichub.status_code == 401 and tichub.json()["code"] == "BadRequest"

    token = token_for(client, creds)
    assert client.get("/pact/3/footprints", headers=auth(token)).status_code == 200
    db.execute(update(PactToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    for path in ("/pact/2/footprints", "/pact/3/footprints"):
        expired = client.get(path, headers=auth(token))
        assert expired.status_code == 401 and expired.json()["code"] == "TokenExpired"

    # Revoked: no new token, and the one it had stops working.
    token = token_for(client, creds)
    r = client.post(f"/api/carbon/pact/clients/{creds['id']}/revoke",
                    headers=auth(world["supplier_token"]))
    assert r.status_code == 200 and r.json()["revoked"]
    assert client.get("/pact/3/footprints", headers=auth(token)).status_code == 401
    again = client.post("/pact/auth/token", data={"grant_type": "client_credentials"},
                        headers=basic(creds["client_id"], creds["client_secret"]))
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    # Another organisation can neither create nor revoke the supplier's clients.
    assert client.post("/api/carbon/pact/clients", json={
        "org_id": world["supplier_org"], "name": "x"},
        headers=auth(world["rival_token"])).status_code == 403
    assert client.post(f"/api/carbon/pact/clients/{creds['id']}/revoke",
                       headers=auth(world["rival_token"])).status_code == 404


def test_a_client_sees_its_own_supplier_s_shared_footprints_only(client, db, world) -> None:  # type: ignore[no-untyped-def]
    mine = study_of(client, world)
    theirs = study_of(client, world, who="rival")
    kept = study_of(client, world)  # computed, never shared
    mine_id = share(client, world, mine["id"]).json()["pact_id"]
    theirs_id = share(client, world, theirs["id"], who="rival").json()["pact_id"]
    bearer = auth(token_for(client, new_client(client, world)))
    assert [d["id"] for d in client.get("/pact/3/footprints", headers=bearer).json()["data"]
            ] == [mine_id]
    for version, code in (("2", "NoSuchFootprint"), ("3", "NotFound")):
        other = client.get(f"/pact/{version}/footprints/{theirs_id}", headers=bearer)
        assert other.status_code == 404 and other.json()["code"] == code
        junk = client.get(f"/pact/{version}/footprints/non-existent-id", headers=bearer)
        assert junk.status_code == 404 and junk.json()["code"] == code
    assert kept["pact_id"] is None
    # The rival can neither share nor read the supplier's study.
    assert share(client, world, mine["id"], who="rival").status_code == 404
    assert client.get(f"/api/carbon/studies/{mine['id']}/pact",
                      headers=auth(world["rival_token"])).status_code == 404
    # Unshared: gone from the list, not found by id; its PACT id stays for a later share.
    assert share(client, world, mine["id"], shared=False).json()["pact_id"] == mine_id
    assert client.get("/pact/3/footprints", headers=bearer).json() == {"data": []}
    gone = client.get(f"/pact/3/footprints/{mine_id}", headers=bearer)
    assert gone.status_code == 404 and gone.json()["code"] == "NotFound"


def test_a_study_pact_cannot_express_is_not_shared(client, db, world) -> None:  # type: ignore[no-untyped-def]
    no_period = study_of(client, world, period_start=None, period_end=None)
    r = share(client, world, no_period["id"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "period_start"
    grave = study_of(client, world, boundary="cradle_to_grave")
    r = share(client, world, grave["id"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "boundary"
    no_mass = study_of(client, world, mass_kg=None)
    r = share(client, world, no_mass["id"])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "mass_kg"


def event(kind: str, data: dict[str, Any], event_id: str = "e-1") -> dict[str, Any]:
    return {"type": kind, "specversion": "1.0", "id": event_id,
            "source": "//buyer.example/3/events", "time": "2026-03-01T10:00:00Z", "data": data}


def test_events_are_validated_and_kept(client, db, world) -> None:  # type: ignore[no-untyped-def]
    bearer = auth(token_for(client, new_client(client, world)))
    headers = {**bearer, "content-type": "application/cloudevents+json; charset=UTF-8"}

    def post(version: str, body: dict[str, Any]):  # type: ignore[no-untyped-def]
        return client.post(f"/pact/{version}/events", content=json.dumps(body),
                           headers=headers)

    request = event(V3_TYPES + "RequestCreatedEvent.3",
                    {"productId": ["urn:gtin:4712345060507"], "comment": "2025 please"})
    r = post("3", request)
    assert r.status_code == 200 and r.content == b""
    assert post("3", request).status_code == 200  # the same event again: kept once
    # Conformance case 40: footprint ids are UUIDs in both versions; a URN is refused.
    published = event(V3_TYPES + "PublishedEvent.3", {"pfIds": ["urn:gtin:4712345060507"]},
                      "e-2")
    refused = post("3", published)
    assert refused.status_code == 400 and refused.json()["code"] == "BadRequest"
    assert "UUID" in refused.json()["message"]
    published["data"]["pfIds"] = ["3a6c14a7-4deb-498a-b5ea-16ce2535b576"]
    assert post("3", published).status_code == 200
    v2_published = event("org.wbcsd.pathfinder.ProductFootprint.Published.v1",
                         {"pfIds": ["urn:gtin:4712345060507"]}, "e-3")
    refused = post("2", v2_published)
    assert refused.status_code == 400 and refused.json()["code"] == "BadRequest"
    v2_published["data"]["pfIds"] = ["d9be4477-e351-45b3-acd9-e1da05e6f633"]
    assert post("2", v2_published).status_code == 200
    wrong_version = post("3", event("org.wbcsd.pathfinder.ProductFootprint.Published.v1",
                                    {"pfIds": []}, "e-4"))
    assert wrong_version.status_code == 400 and "/2/events" in wrong_version.json()["message"]
    assert post("3", {**request, "specversion": "0.3", "id": "e-5"}).status_code == 400
    assert post("3", event(V3_TYPES + "RequestFulfilledEvent.3",
                           {"requestEventId": "e-1", "pfs": []}, "e-6")).status_code == 400
    not_json = client.post("/pact/3/events", content=b"{nope", headers=headers)
    assert not_json.status_code == 400
    assert client.post("/pact/3/events", content=json.dumps(request),
                       headers={"content-type": "application/json"}).status_code == 401
    kept = db.execute(select(PactEvent.spec, PactEvent.type, PactEvent.event_id)
                      .order_by(PactEvent.created_at, PactEvent.id)).all()
    assert [(s, e) for s, _, e in kept] == [("3", "e-1"), ("3", "e-2"), ("2", "e-3")]
    # The supplier's page lists what its customers asked for.
    sign_in(client, "maker@motors.cn")
    page = client.get("/carbon/pact")
    assert page.status_code == 200 and "2025 please" in page.text


def test_a_received_footprint_becomes_the_receiver_s_own_factor(client, db, world) -> None:  # type: ignore[no-untyped-def]
    study = study_of(client, world)
    pf_id = share(client, world, study["id"]).json()["pact_id"]
    bearer = auth(token_for(client, new_client(client, world)))
    doc3 = client.get(f"/pact/3/footprints/{pf_id}", headers=bearer).json()
    r = client.post("/api/carbon/pact/import", data={"org_id": world["buyer_org"]},
                    files={"file": ("motor.json", json.dumps(doc3).encode(), "application/json")},
                    headers=auth(world["buyer_token"]))
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    assert key == (f"pact.{world['buyer_org'].lower()}.urn:pact:127.0.0.1:supplier-id:"
                   f"{study['model_id']}")
    assert r.json()["added"] == 1 and r.json()["pcf_per_unit"] == pytest.approx(40.9)
    factor = client.get(f"/api/carbon/factors/{key}", headers=auth(world["buyer_token"]))
    assert factor.status_code == 200
    [row] = factor.json()
    assert row["unit"] == "piece" and row["basis"] == "AR6" and row["org_id"] == world[
        "buyer_org"]
    assert {g["category"]: g["amount"] for g in row["gases"]} == pytest.approx(
        {"fossil": 43.5, "biogenic": 0.4, "biogenic_removal": -3.0})
    assert "Org of maker@motors.cn" in row["source"] and pf_id in row["source"]
    # Only the buyer sees it.
    for who in ("supplier", "rival"):
        assert client.get(f"/api/carbon/factors/{key}",
                          headers=auth(world[f"{who}_token"])).status_code == 404
    # The buyer's car uses two motors: 2 × 40.9, kept apart by origin.
    car = {"org_id": world["buyer_org"], "name": "Car", "declared_unit": "piece",
           "reference": "body", "processes": [{
               "key": "body", "name": "Body", "stage": "production", "output_amount": 1,
               "output_unit": "piece", "inputs": [{"name": "motor", "amount": 2,
                                                   "unit": "piece", "factor": key}]}]}
    m = client.post("/api/carbon/models", json=car, headers=auth(world["buyer_token"]))
    s = client.post(f"/api/carbon/models/{m.json()['id']}/studies", json={"iterations": 0},
                    headers=auth(world["buyer_token"]))
    assert s.status_code == 201, s.text
    assert s.json()["total"] == pytest.approx(81.8)
    assert s.json()["excluding_biogenic"] == pytest.approx(87.0)
    # Importing the same footprint again changes nothing.
    again = client.post("/api/carbon/pact/import", data={"org_id": world["buyer_org"]},
                        files={"file": ("m.json", json.dumps(doc3).encode(), "application/json")},
                        headers=auth(world["buyer_token"]))
    assert again.json()["unchanged"] == 1
    # The v2 document, taken in by the rival through its page: per kilogram.
    doc2 = client.get(f"/pact/2/footprints/{pf_id}", headers=bearer).json()
    csrf = sign_in(client, "rival@motors.cn")
    page = client.post("/carbon/pact/import", data={"org_id": world["rival_org"],
                                                    "csrf_token": csrf},
                       files={"file": ("m.json", json.dumps(doc2).encode(), "application/json")})
    assert page.status_code == 200, page.text
    assert "1.636" in page.text
    [rival_key] = re.findall(r"/api/carbon/factors/(pact\.[^\"]+)\"", page.text)
    assert rival_key != key
    rival_factor = client.get(f"/api/carbon/factors/{rival_key}").json()[0]
    assert rival_factor["unit"] == "kg" and rival_factor["org_id"] == world["rival_org"]
    assert sum(g["amount"] for g in rival_factor["gases"]) == pytest.approx(40.9 / 25)
    # What cannot be used is named.
    broken = json.loads(json.dumps(doc3))
    del broken["data"]["pcf"]["declaredUnitAmount"]
    bad = client.post("/api/carbon/pact/import", data={"org_id": world["buyer_org"]},
                      files={"file": ("b.json", json.dumps(broken).encode(), "application/json")},
                      headers=auth(world["buyer_token"]))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == \
        "pcf.declaredUnitAmount"
    # Into another organisation's library: refused before the file is read.
    assert client.post("/api/carbon/pact/import", data={"org_id": world["supplier_org"]},
                       files={"file": ("m.json", b"{}", "application/json")},
                       headers=auth(world["buyer_token"])).status_code == 403


def test_the_page_creates_a_client_shows_its_secret_once_and_shares(client, db, world) -> None:  # type: ignore[no-untyped-def]
    study = study_of(client, world)
    csrf = sign_in(client, "maker@motors.cn")
    page = client.get("/carbon/pact")
    assert page.status_code == 200 and "PACT 数据交换" in page.text
    assert "https://testserver/pact" in page.text
    made = client.post("/carbon/pact/clients", data={
        "org_id": world["supplier_org"], "name": "Buyer Cars Ltd", "csrf_token": csrf})
    assert made.status_code == 201
    secret = re.search(r"客户端密钥</dt><dd><code>([^<]+)</code>", made.text)
    client_id = re.search(r"客户端编号</dt><dd><code>([^<]+)</code>", made.text)
    assert secret and client_id
    # Shown once: the page afterwards lists the client without it.
    later = client.get("/carbon/pact")
    assert client_id.group(1) in later.text and secret.group(1) not in later.text
    shared = client.post(f"/carbon/studies/{study['id']}/share",
                         data={"shared": "1", "csrf_token": csrf}, follow_redirects=False)
    assert shared.status_code == 303
    assert shared.headers["location"] == f"/carbon/studies/{study['id']}"
    listed = client.get("/carbon/pact?lang=en")
    assert "Shared footprints" in listed.text and study["title"] in listed.text
    token = token_for(client, {"client_id": client_id.group(1),
                               "client_secret": secret.group(1)})
    assert len(client.get("/pact/3/footprints", headers=auth(token)).json()["data"]) == 1
    row_id = re.search(r'action="/carbon/pact/clients/([0-9A-Z]+)/revoke"', later.text)
    assert row_id
    revoked = client.post(f"/carbon/pact/clients/{row_id.group(1)}/revoke",
                          data={"csrf_token": csrf}, follow_redirects=False)
    assert revoked.status_code == 303
    assert client.get("/pact/3/footprints", headers=auth(token)).status_code == 401
    client.post(f"/carbon/studies/{study['id']}/share",
                data={"shared": "0", "csrf_token": csrf}, follow_redirects=False)
    assert client.get(f"/api/carbon/studies/{study['id']}").json()["shared"] is False


