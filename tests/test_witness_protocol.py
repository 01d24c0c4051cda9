"""The C2SP tlog-witness protocol: a witness cosigns a pushed checkpoint only when it is
consistent with the last one it cosigned, and answers as the specification says."""

from __future__ import annotations

import base64
from datetime import date

import httpx
import pytest

from helpers import api_token, live_server, make_account, make_institution
from tichub.core.models import OrgKind
from tichub.reports import merkle, service, witness, witness_http
from tichub.reports.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from tichub.reports.merkle import MemoryTree
from tichub.reports.note import COSIGNATURE, Signer
from tichub.reports.schemas import RecordIn

ORIGIN = "log.example/reports"
NOW = 1_796_000_000


def _note(log: Signer, tree: MemoryTree, size: int) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, tree.root(size)), log)


def _body(old: int, proof: list[bytes], note: str) -> str:
    return f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof) + \
        "\n" + note


@pytest.fixture
def setup(tmp_path):  # type: ignore[no-untyped-def]
    log = Signer.generate(ORIGIN)
    key = Signer.generate("witness.example/w1", COSIGNATURE)
    state = witness.WitnessState(tmp_path / "witness.json")
    tree = MemoryTree(f"entry {i}".encode() for i in range(20))

    def add(body: str) -> witness.Answer:
        return witness.add_checkpoint(body, {ORIGIN: log.verifier()}, state, key, NOW)
    return log, key, tree, add


def test_a_witness_cosigns_consistent_checkpoints_only(setup) -> None:  # type: ignore[no-untyped-def]
    log, key, tree, add = setup
    first = add(_body(0, [], _note(log, tree, 8)))
    assert first.status == 200
    # The answer is a cosignature line that verifies on the checkpoint, with its time.
    opened = open_checkpoint(_note(log, tree, 8) + first.body, log.verifier(),
                             [key.verifier()], quorum=1)
    assert opened.cosigned_at == {"witness.example/w1": NOW}
    stale = add(_body(0, [], _note(log, tree, 12)))
    assert (stale.status, stale.body, stale.content_type) == (409, "8\n", witness.SIZE_TYPE)
    grown = add(_body(8, merkle.consistency_proof(tree, 8, 12), _note(log, tree, 12)))
    assert grown.status == 200
    # A history rewritten below the cosigned size cannot be proven consistent.
    forked = MemoryTree([b"rewritten", *(f"entry {i}".encode() for i in range(1, 20))])
    bad = add(_body(12, merkle.consistency_proof(forked, 12, 16), _note(log, forked, 16)))
    assert bad.status == 422
    same_size = add(_body(12, [], _note(log, forked, 12)))
    assert same_size.status == 409
    assert add(_body(12, merkle.consistency_proof(tree, 12, 16),
                     _note(log, tree, 16))).status == 200


def test_a_witness_refuses_what_it_cannot_trust(setup) -> None:  # type: ignore[no-untyped-def]
    log, _key, tree, add = setup
    stranger = Signer.generate(ORIGIN)
    other_log = Signer.generate("other.example/log")
    note = _note(log, tree, 8)
    assert add(_body(0, [], _note(stranger, tree, 8))).status == 403
    assert add(_body(0, [], sign_checkpoint(Checkpoint("other.example/log", 8, tree.root(8)),
                                            other_log))).status == 404
    assert add(_body(9, [], note)).status == 400  # an old size beyond the checkpoint
    assert add(_body(0, [merkle.leaf_hash(b"x")], note)).status == 422
    for malformed in ("old 01\n\n" + note, "new 0\n\n" + note, "old 0\n" + note,
                      "old 0\nnot base64!\n\n" + note,
                      "old 0\n" + "AAAA\n" * 64 + "\n" + note):
        assert add(malformed).status == 400, malformed[:20]


def test_the_log_pushes_its_checkpoints_to_a_witness_over_http(client, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = client.app.state.log
    lab = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, lab, name="甲检测", serial=1,
                               scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    regulator = make_account(db, "samr@example.com", kind=OrgKind.regulator)
    key = Signer.generate("samr.example/witness", COSIGNATURE)
    r = client.post(f"/api/reports/orgs/{regulator.org.id}/witnesses",
                    json={"verifier_key": key.verifier().encode()}, headers={
                        "Authorization": "Bearer " + api_token(db, regulator,
                                                               ["accounts:admin"])})
    assert r.status_code == 201, r.text

    def add(n: int, prefix: str) -> str:
        receipts = service.register(db, lab.principal(db), log, [RecordIn(
            number=f"{prefix}-{i}", kind="test_report", institution_id=inst,
            issued_on=date(2026, 1, 5)) for i in range(n)])
        service.integrate_all(db, log)
        return receipts[0].record_id

    first = add(3, "A")
    state = witness.WitnessState(tmp_path / "w.json")
    served = witness_http.app({log.origin: log.verifier}, state, key)
    believed: dict[str, int] = {}
    with live_server(served) as url, httpx.Client(timeout=10) as http:
        stored = service.push_to_witness(db, url, http, believed)
        assert stored is not None and stored.size == 3 and believed == {url: 3}
        add(2, "B")
        # A log that forgot what the witness holds learns it from the 409 and goes on.
        believed.clear()
        stored = service.push_to_witness(db, url, http, believed)
        assert stored is not None and stored.size == 5
    bundle = client.get(f"/api/reports/records/{first}/bundle", params={"witnessed": 1})
    assert bundle.status_code == 200, bundle.text
    assert "samr.example/witness" in bundle.json()["checkpoint"]


def test_the_background_integrator_gets_each_new_checkpoint_cosigned(app, client, db,  # type: ignore[no-untyped-def]
                                                                     tmp_path) -> None:
    import time

    from sqlalchemy import select

    from tichub.reports.integrator import Integrator
    from tichub.reports.models import LogCosignature

    log = app.state.log
    lab = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, lab, name="甲检测", serial=1,
                               scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    regulator = make_account(db, "samr@example.com", kind=OrgKind.regulator)
    key = Signer.generate("samr.example/witness", COSIGNATURE)
    service.add_witness(db, regulator.principal(db), regulator.org.id,
                        key.verifier().encode())
    served = witness_http.app({log.origin: log.verifier},
                              witness.WitnessState(tmp_path / "w.json"), key)
    with live_server(served) as url:
        integrator = Integrator(app.state.sessionmaker, log, 0.05, [url])
        integrator.start()
        try:
            for batch in range(2):
                service.register(db, lab.principal(db), log, [RecordIn(
                    number=f"R-{batch}", kind="test_report", institution_id=inst,
                    issued_on=date(2026, 1, 5))])
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and db.scalar(select(LogCosignature.size)
                        .where(LogCosignature.size == batch + 1)) is None:
                    db.rollback()
                    time.sleep(0.05)
        finally:
            integrator.stop()
    db.rollback()
    assert list(db.scalars(select(LogCosignature.size).order_by(LogCosignature.size))) == [1, 2]
