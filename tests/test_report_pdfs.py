"""The issued PDF itself: kept for its issuer when it matches the logged hash, and read only
by the issuing organisation and supervisors."""

from __future__ import annotations

import hashlib

from helpers import api_token, make_account, make_institution
from tichub.core.models import OrgKind

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_a_pdf_is_kept_when_it_matches_and_read_only_by_its_issuer(client, db) -> None:  # type: ignore[no-untyped-def]
    lab = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, lab, name="甲检测", serial=1,
                               scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    write = {"Authorization": "Bearer " + api_token(db, lab, ["reports:write"])}
    read = {"Authorization": "Bearer " + api_token(db, lab, ["reports:read"])}
    record = {"number": "R-1", "kind": "test_report", "institution_id": inst,
              "issued_on": "2026-01-05", "pdf_sha256": hashlib.sha256(PDF).hexdigest()}
    r = client.post("/api/reports", json=record, headers=write)
    assert r.status_code == 201, r.text
    record_id = r.json()["record_id"]
    url = f"/api/reports/records/{record_id}/pdf"
    assert client.get(url, headers=read).status_code == 404  # not stored yet
    for body, why in ((PDF + b"changed", "SHA-256"), (b"plain text", "not a PDF")):
        bad = client.put(url, content=body, headers=write)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "pdf"
        assert why in bad.json()["detail"]
    assert client.put(url, content=PDF, headers=read).status_code == 403  # wrong scope
    assert client.put(url, content=PDF, headers=write).status_code == 204
    got = client.get(url, headers=read)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    regulator = make_account(db, "samr@example.com", kind=OrgKind.regulator)
    assert client.get(url, headers={"Authorization": "Bearer " + api_token(
        db, regulator, ["reports:read"])}).status_code == 200
    other = make_account(db, "other@example.com")
    assert client.get(url, headers={"Authorization": "Bearer " + api_token(
        db, other, ["reports:read"])}).status_code in (403, 404)
    assert client.get(url).status_code == 401
    no_hash = client.post("/api/reports", json=dict(record, number="R-2", pdf_sha256=None),
                          headers=write)
    r = client.put(f"/api/reports/records/{no_hash.json()['record_id']}/pdf", content=PDF,
                   headers=write)
    assert r.status_code == 422 and "no PDF hash" in r.json()["detail"]
