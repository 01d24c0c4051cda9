"""Issuers' own keys: a record naming a lab as issuer without the lab's signature is
flagged and reported to the lab, and the lab's monitor finds it in the public log."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from helpers import api_token, live_server, make_account, make_institution
from tichub.cli import app as cli_app
from tichub.core.models import AuditEvent, OrgKind
from tichub.reports import monitor, service, statement
from tichub.reports.models import ReportRecord
from tichub.reports.note import COSIGNATURE, Signer
from tichub.reports.schemas import RecordIn

BATTERY = ("GB 31241-2022", "锂离子电池", "过充电保护")


def test_a_statement_verifies_only_as_signed() -> None:
    key = Signer.generate("lab.example/issuer")
    other = Signer.generate("other.example/issuer")
    line = statement.sign_statement(key, "INST", "R-1", "issued", "ab" * 32)
    text = statement.text("INST", "R-1", "issued", "ab" * 32)
    assert statement.signer_of(text, line, [other.verifier(), key.verifier()]) == key.verifier()
    for changed in (statement.text("INST", "R-2", "issued", "ab" * 32),
                    statement.text("INST", "R-1", "withdrawn", "ab" * 32),
                    statement.text("OTHER", "R-1", "issued", "ab" * 32),
                    statement.text("INST", "R-1", "issued", None)):
        assert statement.signer_of(changed, line, [key.verifier()]) is None
    assert statement.signer_of(text, line, [other.verifier()]) is None
    forged = line[:-6] + ("AAAAA=" if not line.endswith("AAAAA=") else "BBBBB=")
    for bad in (forged, None, "", "not a signature line", line + "\n" + line):
        assert statement.signer_of(text, bad, [key.verifier()]) is None


@pytest.fixture
def lab(client, db):  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1, scope=[BATTERY])
    key = Signer.generate("lab.example/issuer")
    admin = {"Authorization": "Bearer " + api_token(db, acc, ["accounts:admin", "accounts:read"])}
    r = client.post(f"/api/reports/orgs/{acc.org.id}/issuer-keys", headers=admin,
                    json={"verifier_key": key.verifier().encode()})
    assert r.status_code == 201, r.text
    return {"account": acc, "inst": inst, "key": key, "admin": admin}


def _record(inst: str, number: str, signer: Signer | None = None) -> RecordIn:
    signature = statement.sign_statement(signer, inst, number, "issued", None) if signer else None
    return RecordIn(number=number, kind="test_report", institution_id=inst,
                    issued_on=date(2026, 1, 5), issuer_signature=signature)


def test_records_not_signed_by_the_issuer_are_flagged_and_reported(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    acc, inst = lab["account"], lab["inst"]
    stranger = Signer.generate("stranger.example/issuer")
    receipts = service.register(db, acc.principal(db), client.app.state.log, [
        _record(inst, "S-1", lab["key"]), _record(inst, "U-1"), _record(inst, "X-1", stranger)])
    assert [r.flags for r in receipts] == [
        [], [service.NOT_SIGNED_BY_ISSUER], [service.NOT_SIGNED_BY_ISSUER]]
    # The signature is logged with the record, for anyone to check.
    signed = db.scalar(select(ReportRecord).where(ReportRecord.number == "S-1"))
    assert signed is not None and statement.signer_of(
        statement.of_record(signed.public), signed.public["issuer_signature"],
        [lab["key"].verifier()]) == lab["key"].verifier()
    # The lab reads the alerts in its own audit log.
    r = client.get(f"/api/orgs/{acc.org.id}/audit", headers=lab["admin"],
                   params={"per_page": 100})
    assert r.status_code == 200, r.text
    alerts = [e for e in r.json()["items"] if e["action"] == "report.not_signed_by_issuer"]
    assert sorted(e["data"]["number"] for e in alerts) == ["U-1", "X-1"]
    # A lab that holds no keys is not flagged for records without signatures.
    other = make_account(db, "other@example.com")
    other_inst, _ = make_institution(db, other, name="乙检测", serial=2, scope=[BATTERY])
    [plain] = service.register(db, other.principal(db), client.app.state.log,
                               [_record(other_inst, "P-1")])
    assert plain.flags == []


def test_issuer_keys_are_public_and_only_the_org_admins_add_them(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    org = lab["account"].org.id
    listed = client.get(f"/api/reports/orgs/{org}/issuer-keys")
    assert listed.status_code == 200
    assert [k["verifier_key"] for k in listed.json()] == [lab["key"].verifier().encode()]
    new_key = {"verifier_key": Signer.generate("lab.example/second").verifier().encode()}
    outsider = make_account(db, "outsider@example.com")
    r = client.post(f"/api/reports/orgs/{org}/issuer-keys", json=new_key, headers={
        "Authorization": "Bearer " + api_token(db, outsider, ["accounts:admin"])})
    assert r.status_code in (403, 404)
    witness_key = Signer.generate("w.example", COSIGNATURE).verifier().encode()
    r = client.post(f"/api/reports/orgs/{org}/issuer-keys", headers=lab["admin"],
                    json={"verifier_key": witness_key})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "verifier_key"
    company = make_account(db, "buyer@example.com", kind=OrgKind.enterprise)
    r = client.post(f"/api/reports/orgs/{company.org.id}/issuer-keys", json=new_key,
                    headers={"Authorization": "Bearer " + api_token(
                        db, company, ["accounts:admin"])})
    assert r.status_code == 422
    assert db.scalar(select(AuditEvent.id).where(AuditEvent.action == "issuer_key.added",
                                                 AuditEvent.org_id == org)) is not None


def _monitor(url: str, log_key: str, inst: str, key: Signer) -> Any:
    return CliRunner().invoke(cli_app, ["issuer", "monitor", url, "--log-key", log_key,
                                        "--institution", inst,
                                        "--key", key.verifier().encode()])


def test_the_monitor_finds_unsigned_records_in_the_public_log(app, client, db, lab) -> None:  # type: ignore[no-untyped-def]
    acc, inst, key, log = lab["account"], lab["inst"], lab["key"], client.app.state.log
    other = make_account(db, "other@example.com")
    other_inst, _ = make_institution(db, other, name="乙检测", serial=2, scope=[BATTERY])
    service.register(db, acc.principal(db), log, [_record(inst, f"S-{i}", key)
                                                  for i in range(300)])
    service.register(db, other.principal(db), log, [_record(other_inst, "O-1")])
    service.integrate_all(db, log)
    with live_server(app) as url:
        clean = _monitor(url, log.verifier.encode(), inst, key)
        assert clean.exit_code == 0, clean.output
        assert "read 301 entries: 0 record(s)" in clean.stdout
        service.register(db, acc.principal(db), log, [_record(inst, "U-1")])
        service.integrate_all(db, log)
        found = _monitor(url, log.verifier.encode(), inst, key)
        assert found.exit_code == 1, found.output
        assert "ALERT entry 301: U-1 (issued): no issuer signature" in found.stdout
    # What the server shows must be what the log signed: an entry rewritten is refused.
    db.execute(update(ReportRecord).where(ReportRecord.number == "S-7")
               .values(leaf=b'{"record": {"issuer": {"institution_id": "x"}}}'))
    db.commit()
    with pytest.raises(monitor.MonitorError, match="signed checkpoint"):
        monitor.scan(service.DatabaseReader(db), log.verifier, inst, [key.verifier()])
