"""The report registry and its transparency log, through the API and the command line."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from helpers import api_token, make_account, make_institution, sign_in
from tichub.cli import app as cli_app
from tichub.core.models import AuditEvent, OrgKind
from tichub.reports import merkle, service, tiles
from tichub.reports import receipt as receipt_note
from tichub.reports.checkpoint import open_checkpoint
from tichub.reports.models import ReportRecord
from tichub.reports.note import Verifier, open_note

BATTERY = ("GB 31241-2022", "锂离子电池", "过充电保护")


def _record(inst: str, number: str = "R-2026-0001", **extra: Any) -> dict[str, Any]:
    body = {"number": number, "kind": "test_report", "institution_id": inst,
            "client": "上海某储能科技有限公司", "product": "锂离子电池组",
            "standards": ["GB 31241-2022"], "marks": ["CNAS"],
            "sample_received_on": "2026-01-02", "tested_from": "2026-01-03",
            "tested_to": "2026-01-04", "issued_on": "2026-01-05",
            "signatories": ["张工"], "conclusion": "合格",
            "pdf_sha256": "ab" * 32}
    body.update(extra)
    return body


@pytest.fixture
def lab(client, db):  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1, scope=[BATTERY])
    token = api_token(db, acc, ["reports:write", "registry:read", "registry:write"])
    auth = {"Authorization": f"Bearer {token}"}
    r = client.post(f"/api/registry/institutions/{inst}/signatories", headers=auth,
                    json={"name": "张工", "title": "授权签字人", "authorised_from": "2020-01-01"})
    assert r.status_code == 201, r.text
    return {"inst": inst, "auth": auth, "account": acc, "signatory": r.json()["id"]}


def _post(client, lab, body, path: str = "/api/reports"):  # type: ignore[no-untyped-def]
    return client.post(path, json=body, headers=lab["auth"])


def _errors(r) -> set[tuple[object, str]]:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return {(e.get("row"), e["field"]) for e in r.json()["errors"]}


def test_register_receipt_integrate_and_verify_offline(client, db, lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = _post(client, lab, _record(lab["inst"]))
    assert r.status_code == 201, r.text
    receipt = r.json()
    log_key = Verifier.parse(receipt["verifier_key"])
    note = open_note(receipt["receipt"], [log_key])
    assert note.text.split("\n")[2] == base64.b64encode(
        bytes.fromhex(receipt["leaf_hash"])).decode()
    # Queued, not yet in the tree: the bundle says so plainly.
    pending = client.get(f"/api/reports/records/{receipt['record_id']}/bundle")
    assert pending.status_code == 409

    assert service.integrate(db, client.app.state.log) == 1
    bundle = client.get(f"/api/reports/records/{receipt['record_id']}/bundle").json()
    assert bundle["index"] == 0 and bundle["inclusion"] == []
    assert "上海某储能" not in json.dumps(bundle, ensure_ascii=False)  # the client is private
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["verify", str(path), "--key", receipt["verifier_key"]])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith("verified: R-2026-0001 (issued) by 甲检测 is entry 0 of ")

    # Any change to the record, the leaf, the proof or the checkpoint is caught.
    forged = dict(bundle, record={**bundle["record"], "conclusion": "不合格"})
    wrong_leaf = dict(bundle, leaf=base64.b64encode(b'{"record":{}}').decode())
    other_key = dict(bundle, checkpoint=bundle["checkpoint"].replace("\n1\n", "\n2\n"))
    for bad, why in ((forged, "not the one the leaf holds"), (wrong_leaf, "not the one"),
                     (other_key, "does not verify")):
        path.write_text(json.dumps(bad))
        result = runner.invoke(cli_app, ["verify", str(path), "--key", receipt["verifier_key"]])
        assert result.exit_code == 1 and why in result.stderr, result.output
    path.write_text(json.dumps(bundle))
    stranger = Verifier.parse(receipt["verifier_key"])
    from tichub.reports.note import Signer
    impostor = Signer.generate(stranger.name).verifier().encode()
    result = runner.invoke(cli_app, ["verify", str(path), "--key", impostor])
    assert result.exit_code == 1 and "another log key" in result.stderr


def test_each_check_at_registration_names_its_field(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    future = (date.today() + timedelta(days=3)).isoformat()
    cases = [
        (_record(lab["inst"], tested_from="2026-01-01"), {(None, "tested_from")}),
        (_record(lab["inst"], issued_on=future, tested_to="2026-01-04"), {(None, "issued_on")}),
        (_record(lab["inst"], standards=["GB 4943.1-2022"]), {(None, "standards.0")}),
        (_record(lab["inst"], standards=["GB 31241-2014"]), {(None, "standards.0")}),
        (_record(lab["inst"], marks=["CMA"]), {(None, "marks")}),
        (_record(lab["inst"], event="withdrawn", number="NEVER-ISSUED"), {(None, "number")}),
        (_record(lab["inst"], pdf_sha256="not-a-hash"), {(None, "pdf_sha256")}),
        (_record(lab["inst"], signatories=["张工", "李四"]), {(None, "signatories.1")}),
    ]
    for body, expected in cases:
        assert _errors(_post(client, lab, body)) == expected, body
    assert db.scalar(select(ReportRecord.id)) is None  # nothing was stored


def test_a_mark_needs_a_qualification_valid_on_the_issue_date(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    from tichub.registry.models import Qualification

    db.execute(update(Qualification).values(valid_until=date(2026, 1, 4)))
    db.commit()
    r = _post(client, lab, _record(lab["inst"]))
    assert _errors(r) == {(None, "marks")}
    assert "2026-01-05" in r.json()["errors"][0]["message"]
    # Without the mark the report may be registered: it claims no accreditation.
    assert _post(client, lab, _record(lab["inst"], marks=[])).status_code == 201


def test_duplicates_are_flagged_not_refused(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    assert _post(client, lab, _record(lab["inst"])).json()["flags"] == []
    again = _post(client, lab, _record(lab["inst"], pdf_sha256="cd" * 32))
    assert again.json()["flags"] == ["number_registered_before"]
    same_pdf = _post(client, lab, _record(lab["inst"], number="R-2026-0002"))
    assert same_pdf.json()["flags"] == ["pdf_under_another_number"]
    events = list(db.scalars(select(AuditEvent.data).where(
        AuditEvent.action == "report.registered")))
    assert [e["flags"] for e in events] == [[], ["number_registered_before"],
                                            ["pdf_under_another_number"]]


def test_status_follows_the_last_event(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    def status(number: str) -> dict[str, Any]:
        return client.get("/api/reports/verify", params={"number": number}).json()

    assert status("R-404")["found"] is False
    _post(client, lab, _record(lab["inst"]))
    assert status("R-2026-0001")["status"] == "valid"
    bad = _post(client, lab, _record(lab["inst"], event="amended", replacement="R-2026-0001A"))
    assert _errors(bad) == {(None, "replacement")}
    _post(client, lab, _record(lab["inst"], number="R-2026-0001A"))
    r = _post(client, lab, _record(lab["inst"], event="amended", replacement="R-2026-0001A",
                                    reason="数据录入错误"))
    assert r.status_code == 201, r.text
    amended = status("R-2026-0001")
    assert (amended["status"], amended["replacement"]) == ("amended", "R-2026-0001A")
    assert [h["event"] for h in amended["history"]] == ["issued", "amended"]
    _post(client, lab, _record(lab["inst"], number="R-2026-0001A", event="withdrawn"))
    assert status("R-2026-0001A")["status"] == "withdrawn"
    _post(client, lab, _record(lab["inst"], number="R-2026-0009",
                               valid_until="2026-02-01"))
    assert status("R-2026-0009")["status"] == "expired"


def test_a_batch_is_registered_whole_or_not_at_all(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    good = [_record(lab["inst"], number=f"B-{i}") for i in range(3)]
    bad = [*good[:2], _record(lab["inst"], number="B-2", standards=["GB 4943.1-2022"])]
    assert _errors(_post(client, lab, {"records": bad}, "/api/reports/batch")) == {
        (3, "standards.0")}
    assert db.scalar(select(ReportRecord.id)) is None
    r = _post(client, lab, {"records": good}, "/api/reports/batch")
    assert r.status_code == 201 and [x["number"] for x in r.json()] == ["B-0", "B-1", "B-2"]
    # One signed receipt for the call; each record proves its leaf into it.
    assert len({x["receipt"] for x in r.json()}) == 1
    for i, x in enumerate(r.json()):
        proof = [base64.b64decode(h) for h in x["batch_proof"]]
        batch = receipt_note.check(x["receipt"], Verifier.parse(x["verifier_key"]),
                                   bytes.fromhex(x["leaf_hash"]), x["batch_index"], proof)
        assert (x["batch_index"], batch.size) == (i, 3)
    too_many = {"records": [good[0]] * 1001}
    assert _post(client, lab, too_many, "/api/reports/batch").status_code == 422


def test_a_batch_may_issue_a_document_and_then_act_on_it(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    # Issued, replaced and withdrawn within one batch: the events point at the records of
    # the same batch, and read back in the batch's order.
    inst = lab["inst"]
    records = [_record(inst, number="C-1"), _record(inst, number="C-2"),
               _record(inst, number="C-1", event="amended", replacement="C-2"),
               _record(inst, number="C-2", event="withdrawn", reason="样品信息有误")]
    r = _post(client, lab, {"records": records}, "/api/reports/batch")
    assert r.status_code == 201, r.text
    ids = {(x["number"], i): x["record_id"] for i, x in enumerate(r.json())}
    for number, status, events, first in (("C-1", "amended", ["issued", "amended"], 0),
                                          ("C-2", "withdrawn", ["issued", "withdrawn"], 1)):
        verdict = client.get("/api/reports/verify", params={"number": number}).json()
        assert verdict["status"] == status
        assert [h["event"] for h in verdict["history"]] == events
        issued = verdict["history"][0]
        assert issued["id"] == ids[(number, first)]
        assert verdict["history"][1]["public"]["refers_to"] == issued["leaf_hash"]


def test_only_the_issuers_editors_register(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    company = make_account(db, "buyer@example.com", kind=OrgKind.enterprise)
    other_lab = make_account(db, "other@example.com")
    for acc in (company, other_lab):
        token = api_token(db, acc, ["reports:write"])
        r = client.post("/api/reports", json=_record(lab["inst"]),
                        headers={"Authorization": f"Bearer {token}"})
        assert r.status_code in (403, 404), r.text
    reader = api_token(db, lab["account"], ["registry:read"])
    r = client.post("/api/reports", json=_record(lab["inst"]),
                    headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 403 and "reports:write" in r.json()["detail"]
    csrf = sign_in(client, "lab@example.com")  # the lab's own editors, in a browser too
    r = client.post("/api/reports", json=_record(lab["inst"]), headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text


def test_the_served_log_is_consistent_with_every_checkpoint(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    log = client.app.state.log
    sizes = []
    for batch in (3, 1, 260, 20):
        body = {"records": [_record(lab["inst"], number=f"L-{len(sizes)}-{i}")
                            for i in range(batch)]}
        assert _post(client, lab, body, "/api/reports/batch").status_code == 201
        sizes.append(service.integrate(db, log))
    assert sizes == [3, 4, 264, 284]
    key = log.verifier
    latest = open_checkpoint(client.get("/log/checkpoint").text, key).checkpoint
    assert latest.size == 284

    def fetch(level: int, index: int, width: int) -> bytes:
        r = client.get("/log/" + tiles.tile_path(level, index, width))
        assert r.status_code == 200, r.text
        return r.content

    def fetch_bundle(index: int, width: int) -> bytes:
        return client.get("/log/" + tiles.bundle_path(index, width)).content

    assert merkle.root(tiles.TileSource(284, fetch), 284) == latest.root_hash
    assert list(tiles.check_tiles(284, fetch, fetch_bundle)) == []
    for old in sizes[:-1]:
        cp = open_checkpoint(client.get(f"/api/reports/log/checkpoints/{old}").text,
                             key).checkpoint
        proof = [base64.b64decode(h) for h in client.get(
            "/api/reports/log/consistency", params={"old": old, "new": 284}).json()["proof"]]
        merkle.verify_consistency(old, 284, cp.root_hash, latest.root_hash, proof)
    assert client.get("/log/tile/0/001").status_code == 404  # not full yet
    assert client.get("/log/tile/0/001.p/29").status_code == 404  # a wrong width
    assert client.get("/log/tile/0/1").status_code == 422


def test_a_signatory_authorised_no_longer_signs(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    r = client.post(f"/api/registry/signatories/{lab['signatory']}/end",
                    params={"on": "2026-01-04"}, headers=lab["auth"])
    assert r.status_code == 200 and r.json()["authorised_until"] == "2026-01-04"
    r = _post(client, lab, _record(lab["inst"]))  # issued on 2026-01-05
    assert _errors(r) == {(None, "signatories.0")}
    assert "2026-01-05" in r.json()["errors"][0]["message"]
    early = _record(lab["inst"], sample_received_on="2026-01-01", tested_from="2026-01-02",
                    tested_to="2026-01-03", issued_on="2026-01-04")
    assert _post(client, lab, early).status_code == 201  # signed while authorised
    listed = client.get(f"/api/registry/institutions/{lab['inst']}/signatories").json()
    assert [(x["name"], x["authorised_until"]) for x in listed] == [("张工", "2026-01-04")]
