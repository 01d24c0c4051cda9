"""The status map: each document number's latest record per issuer, proven under the
checkpoint, so that a withdrawal or an amendment cannot be hidden from a verifier."""

from __future__ import annotations

import base64
import json
import random
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from helpers import make_account, make_institution
from tichub.cli import app as cli_app
from tichub.reports import merkle, service, statusmap
from tichub.reports.checkpoint import Checkpoint
from tichub.reports.models import ReportRecord, StatusBucket
from tichub.reports.note import split
from tichub.reports.schemas import RecordIn


def _leaf_record(number: str, issuer: str, event: str, n: int) -> dict[str, str]:
    return {"number": number, "issuer": issuer, "event": event,
            "leaf_hash": merkle.leaf_hash(f"{number}/{n}".encode()).hex()}


def test_a_bucket_proves_the_latest_record_and_nothing_else() -> None:
    rng = random.Random(16)
    log = [_leaf_record(f"R-{rng.randrange(40)}", rng.choice(["A", "B"]),
                        rng.choice(["issued", "withdrawn", "amended"]), i) for i in range(300)]
    root, buckets = statusmap.rebuild(log)
    latest = {(r["number"], r["issuer"]): r for r in log}  # the last one wins
    hashes = [statusmap.bucket_hash(buckets[b]) if b in buckets
              else statusmap.empty_bucket_hash() for b in range(statusmap.BUCKETS)]
    for number in ["R-1", "R-7", "R-39", "never-registered"]:
        bucket = statusmap.bucket_of(number)
        data = buckets.get(bucket, statusmap.bucket_bytes([]))
        got = statusmap.check(number, data, bucket, _proof(hashes, bucket), root)
        want = sorted((k[1], v["leaf_hash"], v["event"]) for k, v in latest.items()
                      if k[0] == number)
        assert sorted((e.issuer, e.leaf_hash, e.event) for e in got) == want
    number = "R-1"
    bucket = statusmap.bucket_of(number)
    data, proof = buckets[bucket], _proof(hashes, bucket)
    entries = statusmap.parse_bucket(data)
    hidden = statusmap.bucket_bytes([e for e in entries if e.number != number])
    for args in [(number, hidden, bucket, proof, root),  # the withdrawal left out
                 (number, data, (bucket + 1) % statusmap.BUCKETS, proof, root),
                 (number, data, bucket, [*proof[:-1], bytes(32)], root),
                 (number, data + b" ", bucket, proof, root)]:
        with pytest.raises(statusmap.StatusError):
            statusmap.check(*args)


def _proof(hashes: list[bytes], bucket: int) -> list[bytes]:
    # Written here from the definition of a perfect tree, apart from the service's code.
    levels = [hashes]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([merkle.node_hash(below[i], below[i + 1])
                       for i in range(0, len(below), 2)])
    path, i = [], bucket
    for level in levels[:-1]:
        path.append(level[i ^ 1])
        i >>= 1
    return path


@pytest.fixture
def lab(client, db):  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1,
                               scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    return {"account": acc, "inst": inst, "log": client.app.state.log}


def _register(db: Any, lab: dict[str, Any], number: str, event: str = "issued") -> str:
    [receipt] = service.register(db, lab["account"].principal(db), lab["log"], [RecordIn(
        number=number, kind="test_report", institution_id=lab["inst"], event=event,
        issued_on=date(2026, 1, 5), reason="测试" if event != "issued" else "")])
    service.integrate_all(db, lab["log"])
    return receipt.record_id


def test_the_served_map_is_the_logs_and_a_withdrawal_shows(client, db, lab, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = _register(db, lab, "R-1")
    for i in range(2, 6):
        _register(db, lab, f"R-{i}")
    status = client.get("/api/reports/status", params={"number": "R-1"}).json()
    assert [e["event"] for e in status["latest"]] == ["issued"]
    bundle = client.get(f"/api/reports/records/{first}/bundle").json()
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    key = lab["log"].verifier.encode()
    ok = CliRunner().invoke(cli_app, ["verify", str(path), "--key", key])
    assert ok.exit_code == 0 and "status: this is the document's latest record" in ok.stdout
    _register(db, lab, "R-1", "withdrawn")
    bundle = client.get(f"/api/reports/records/{first}/bundle").json()
    path.write_text(json.dumps(bundle))
    superseded = CliRunner().invoke(cli_app, ["verify", str(path), "--key", key])
    assert superseded.exit_code == 0, superseded.output
    assert "SUPERSEDED: the document's latest record is a later 'withdrawn'" in \
        superseded.stdout
    # A bundle whose status proof hides the withdrawal does not verify.
    stale = dict(bundle, status=dict(bundle["status"], data=base64.b64encode(
        statusmap.bucket_bytes([])).decode()))
    path.write_text(json.dumps(stale))
    refused = CliRunner().invoke(cli_app, ["verify", str(path), "--key", key])
    assert refused.exit_code == 1 and "status" in refused.stderr
    # The root every checkpoint carries is the map rebuilt from the log's entries.
    leaves = db.scalars(select(ReportRecord.leaf).order_by(ReportRecord.log_index))
    root, _ = statusmap.rebuild(statusmap.entry_of_leaf(leaf) for leaf in leaves)
    latest = service.latest_checkpoint(db)
    assert latest is not None
    assert statusmap.root_in(Checkpoint.parse(split(latest.note)[0])) == root
    never = client.get("/api/reports/status", params={"number": "NEVER"}).json()
    assert never["latest"] == []


def test_a_stored_bucket_rewritten_is_refused(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    _register(db, lab, "R-1")
    _register(db, lab, "R-1", "withdrawn")
    bucket = statusmap.bucket_of("R-1")
    db.execute(update(StatusBucket).where(StatusBucket.bucket == bucket)
               .values(data=statusmap.bucket_bytes([])))
    db.commit()
    r = client.get("/api/reports/status", params={"number": "R-1"})
    assert r.status_code == 500 and "does not match the signed checkpoint" in r.json()["detail"]


def test_upgrading_a_log_with_records_maps_them_all(app, client, db, lab, engine) -> None:  # type: ignore[no-untyped-def]
    # A database whose records came before the status map (migration 0008): the migration
    # maps them, so the next checkpoint's map holds every document, old ones included.
    from alembic import command

    from tichub.core.migrate import alembic_config

    _register(db, lab, "OLD-1")
    _register(db, lab, "OLD-1", "withdrawn")
    _register(db, lab, "OLD-2")
    db.commit()
    app.state.engine.dispose()
    with engine.begin() as conn:
        command.downgrade(alembic_config(connection=conn), "0007")
    with engine.begin() as conn:
        command.upgrade(alembic_config(connection=conn), "head")
    _register(db, lab, "NEW-1")  # the next checkpoint carries the map
    for number, event in (("OLD-1", "withdrawn"), ("OLD-2", "issued"), ("NEW-1", "issued")):
        status = client.get("/api/reports/status", params={"number": number})
        assert status.status_code == 200, status.text
        assert [e["event"] for e in status.json()["latest"]] == [event]
