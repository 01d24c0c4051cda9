"""Witnesses: an organisation registers a cosignature key, checks the log's consistency on
its own side and cosigns; verifiers can then require k of n cosignatures."""

from __future__ import annotations

from datetime import date

import pytest

from helpers import api_token, live_server, make_account, make_institution
from tichub.core.models import OrgKind
from tichub.reports import audit, service, witness
from tichub.reports.bundle import BundleError, check
from tichub.reports.note import COSIGNATURE, Signer
from tichub.reports.schemas import RecordIn


@pytest.fixture
def world(client, db):  # type: ignore[no-untyped-def]
    lab = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, lab, name="甲检测", serial=1,
                               scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    log = client.app.state.log

    def add(n: int, prefix: str) -> list[str]:
        receipts = service.register(db, lab.principal(db), log, [RecordIn(
            number=f"{prefix}-{i}", kind="test_report", institution_id=inst,
            issued_on=date(2026, 1, 5)) for i in range(n)])
        service.integrate(db, log)
        return [r.record_id for r in receipts]

    witnesses = []
    for i, email in enumerate(("samr@example.com", "cnas@example.com", "assoc@example.com")):
        acc = make_account(db, email, kind=OrgKind.regulator)
        key = Signer.generate(f"witness-{i}.example", COSIGNATURE)
        r = client.post(f"/api/reports/orgs/{acc.org.id}/witnesses",
                        json={"verifier_key": key.verifier().encode()},
                        headers={"Authorization": "Bearer " + api_token(
                            db, acc, ["accounts:admin"])})
        assert r.status_code == 201, r.text
        token = api_token(db, acc, ["log:cosign"])
        witnesses.append((key, {"Authorization": f"Bearer {token}"}))
    return {"log": log, "add": add, "witnesses": witnesses}


def _cosign(client, world, i: int, state=None, now: int = 1764000000):  # type: ignore[no-untyped-def]
    key, auth = world["witnesses"][i]
    done = witness.cosign(audit.HttpReader(client), world["log"].verifier, key, state, now)
    r = client.post("/api/reports/log/cosignatures", headers=auth,
                    json={"size": done.checkpoint.size, "cosignature": done.line})
    assert r.status_code == 201, r.text
    return done


def test_k_of_n_cosigned_bundles(client, db, world) -> None:  # type: ignore[no-untyped-def]
    [first] = world["add"](1, "A")
    states = [_cosign(client, world, i).state for i in (0, 1)]
    world["add"](5, "B")  # the log moves on; its newest checkpoint has no cosignature yet
    assert client.get(f"/api/reports/records/{first}/bundle?witnessed=3").status_code == 409
    bundle = client.get(f"/api/reports/records/{first}/bundle?witnessed=2").json()
    keys = [k.verifier().encode() for k, _ in world["witnesses"]]
    log_key = world["log"].verifier.encode()
    checked = check(bundle, log_key, keys, quorum=2)
    assert (checked.tree_size, checked.cosigners) == (1, ("witness-0.example",
                                                          "witness-1.example"))
    with pytest.raises(BundleError, match="2 of the 3"):
        check(bundle, log_key, keys, quorum=3)
    # The witnesses follow the log; their next cosignatures prove it grew consistently.
    _cosign(client, world, 0, states[0], now=1764000100)
    later = client.get(f"/api/reports/records/{first}/bundle?witnessed=1").json()
    assert check(later, log_key, keys, quorum=1).tree_size == 6
    assert client.get("/api/reports/log/witnesses").json()[0]["name"] == "witness-0.example"


def test_a_witness_will_not_cosign_a_rewritten_history(client, db, world) -> None:  # type: ignore[no-untyped-def]
    world["add"](3, "A")
    state = _cosign(client, world, 0).state
    # The log shows the witness a different tree of the same size.
    forged = audit.State(state.size, bytes(32))
    key, _ = world["witnesses"][0]
    with pytest.raises(witness.WitnessError, match="two different roots"):
        witness.cosign(audit.HttpReader(client), world["log"].verifier, key, forged, 1)


def test_cosignatures_that_do_not_verify_are_refused(client, db, world) -> None:  # type: ignore[no-untyped-def]
    world["add"](2, "A")
    world["add"](1, "B")
    key, auth = world["witnesses"][0]
    body_of_size_2 = service.checkpoint_at(db, 2).note.split("\n\n")[0] + "\n"
    wrong = key.signature_line(body_of_size_2, 1764000000)  # signed for size 2 ...
    r = client.post("/api/reports/log/cosignatures", headers=auth,
                    json={"size": 3, "cosignature": wrong})  # ... offered for size 3
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cosignature"
    _, other_auth = world["witnesses"][1]
    line = key.signature_line(body_of_size_2, 1764000000)
    r = client.post("/api/reports/log/cosignatures", headers=other_auth,
                    json={"size": 2, "cosignature": line})  # another witness's org
    assert r.status_code == 403
    bad_type = Signer.generate("plain.example").verifier().encode()
    acc = make_account(db, "x@example.com", kind=OrgKind.regulator)
    r = client.post(f"/api/reports/orgs/{acc.org.id}/witnesses", json={"verifier_key": bad_type},
                    headers={"Authorization": "Bearer " + api_token(db, acc, ["accounts:admin"])})
    assert r.status_code == 422 and "0x04" in r.json()["errors"][0]["message"]


def test_the_command_line_witness_and_auditor_over_http(app, db, world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from tichub.cli import app as cli_app

    world["add"](3, "A")
    with live_server(app) as url:
        key, auth = world["witnesses"][0]
        key_file = tmp_path / "witness.key"
        key_file.write_text(key.encode())
        log_key = world["log"].verifier.encode()
        runner = CliRunner()
        args = ["witness", "cosign", url, "--log-key", log_key, "--key-file", str(key_file),
                "--state", str(tmp_path / "w.json"),
                "--token", auth["Authorization"].removeprefix("Bearer ")]
        result = runner.invoke(cli_app, args)
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == f"cosigned size 3 of {world['log'].origin}"
        audit_args = ["audit", url, "--key", log_key, "--state", str(tmp_path / "a.json"),
                      "--full"]
        result = runner.invoke(cli_app, audit_args)
        assert result.exit_code == 0, result.output
        assert "up to size 3, tiles and entries checked" in result.stdout
        world["add"](2, "B")
        again = runner.invoke(cli_app, args)
        assert again.exit_code == 0 and "cosigned size 5" in again.stdout, again.output
        wrong_key = runner.invoke(cli_app, ["audit", url, "--key", key.verifier().encode()])
        assert wrong_key.exit_code == 1 and "audit stopped" in wrong_key.stderr
