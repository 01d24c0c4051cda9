"""Tampering with any stored record, tile or checkpoint is caught by `tichub audit` and by
verification; a log that rewrites its history cannot stay consistent with an auditor's
saved checkpoint, even when re-signed with the log's own key."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from helpers import make_account, make_institution
from tichub.cli import app as cli_app
from tichub.core.config import get_settings
from tichub.reports import audit, merkle, service, tiles
from tichub.reports.checkpoint import Checkpoint, sign_checkpoint
from tichub.reports.models import LogCheckpoint, LogTile, ReportRecord
from tichub.reports.schemas import RecordIn


@pytest.fixture
def logged(app, db, settings, monkeypatch):  # type: ignore[no-untyped-def]
    """A log of 300 records integrated in three batches, and the CLI pointed at it."""
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1,
                               scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    for batch in range(3):
        service.register(db, acc.principal(db), app.state.log, [RecordIn(
            number=f"R-{batch}-{i}", kind="test_report", institution_id=inst,
            issued_on=date(2026, 1, 5), client="客户") for i in range(100)])
        service.integrate(db, app.state.log)
    for name in ("database_url", "log_key", "log_origin"):
        monkeypatch.setenv(f"TICHUB_{name.upper()}", str(getattr(settings, name)))
    get_settings.cache_clear()
    app.state.lab = (acc, inst)
    yield app.state.log
    get_settings.cache_clear()


def _audit(*args: str) -> Any:
    return CliRunner().invoke(cli_app, ["audit", *args])


def test_a_clean_log_passes_and_the_state_advances(client, db, logged, tmp_path) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state.json"
    result = _audit("--state", str(state), "--full")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("consistent: 3 checkpoint(s) up to size 300, tiles and "
                                     "entries checked")
    assert audit.State.load(state) == audit.State(300, bytes.fromhex(
        db.scalar(select(LogCheckpoint.root_hash).where(LogCheckpoint.size == 300))))
    acc, inst = client.app.state.lab
    service.register(db, acc.principal(db), logged, [RecordIn(
        number="R-9", kind="test_report", institution_id=inst, issued_on=date(2026, 1, 6))])
    service.integrate(db, logged)
    again = _audit("--state", str(state))
    assert again.stdout.strip() == "consistent: 2 checkpoint(s) since size 300 up to size 301"
    # An outside auditor over HTTP, trusting the published key alone, sees the same log.
    report = audit.audit(audit.HttpReader(client), logged.verifier, full=True)
    assert (report.ok, report.size, report.checkpoints) == (True, 301, 4)


def test_a_record_changed_in_the_database_is_caught(client, db, logged) -> None:  # type: ignore[no-untyped-def]
    record = db.scalar(select(ReportRecord).where(ReportRecord.number == "R-1-7"))
    db.execute(update(ReportRecord).where(ReportRecord.id == record.id).values(
        public={**record.public, "conclusion": "合格（篡改）"}))
    db.commit()
    result = _audit("--full")
    assert result.exit_code == 1
    assert f"FAILED: record {record.id} (R-1-7): its fields are not its leaf" in result.stderr
    verdict = client.get("/api/reports/verify", params={"number": "R-1-7"}).json()
    assert verdict["integrity"] == "failed" and verdict["verdict"].startswith("Warning")
    fine = client.get("/api/reports/verify", params={"number": "R-1-8"}).json()
    assert fine["integrity"] == "verified"


def test_a_record_and_its_leaf_rewritten_together_are_caught(client, db, logged) -> None:  # type: ignore[no-untyped-def]
    from tichub.reports import leaf

    record = db.scalar(select(ReportRecord).where(ReportRecord.number == "R-0-3"))
    public = {**record.public, "conclusion": "forged"}
    forged = leaf.leaf_bytes(public, record.commitment)
    db.execute(update(ReportRecord).where(ReportRecord.id == record.id).values(
        public=public, leaf=forged, leaf_hash=merkle.leaf_hash(forged).hex()))
    db.commit()
    result = _audit("--full")
    assert result.exit_code == 1
    assert "tile/entries/000 does not match tile/0/000" in result.stderr
    assert "its leaf is not entry 3 of the log" in result.stderr
    verdict = client.get("/api/reports/verify", params={"number": "R-0-3"}).json()
    assert verdict["integrity"] == "failed"


@pytest.mark.parametrize(("tile_index", "expected"), [
    (0, "tile/0/000 does not hash to its entry in tile/1/000.p/1"),
    (1, "the tiles do not hash to the root signed at size 300"),
])
def test_a_rewritten_tile_is_caught(db, logged, tile_index: int, expected: str) -> None:  # type: ignore[no-untyped-def]
    data = bytearray(db.scalar(select(LogTile.data).where(
        LogTile.level == 0, LogTile.tile_index == tile_index)))
    data[40] ^= 0xFF
    db.execute(update(LogTile).where(LogTile.level == 0, LogTile.tile_index == tile_index)
               .values(data=bytes(data)))
    db.commit()
    result = _audit("--full")
    assert result.exit_code == 1 and expected in result.stderr, result.output


def test_a_history_rewritten_and_re_signed_is_caught_by_the_saved_state(  # type: ignore[no-untyped-def]
    db, logged, tmp_path
) -> None:
    state = tmp_path / "state.json"
    assert _audit("--state", str(state)).exit_code == 0
    # The operator, holding the log key, replaces entry 5 and rebuilds and re-signs it all.
    records = list(db.scalars(select(ReportRecord).order_by(ReportRecord.log_index)))
    leaves = [r.leaf for r in records]
    leaves[5] = leaves[5].replace(b'"conclusion":""', b'"conclusion":"x"')
    db.execute(delete(LogTile))
    db.execute(delete(LogCheckpoint))
    stored: dict[tuple[int, int], bytes] = {}
    size = 0
    for batch in (leaves[:100], leaves[100:200], leaves[200:]):
        edge = {lv: stored.get((lv, tiles.level_width(size, lv) // 256), b"")
                for lv in range(3)}
        stored.update(tiles.append(size, edge, [merkle.leaf_hash(x) for x in batch]))
        size += len(batch)
        root = merkle.root(tiles.TileSource(size, lambda lv, ix, w: stored[(lv, ix)][:w * 32]),
                           size)
        db.add(LogCheckpoint(size=size, root_hash=root.hex(),
                             note=sign_checkpoint(Checkpoint(logged.origin, size, root),
                                                  logged.signer)))
    for (lv, ix), data in stored.items():
        db.add(LogTile(level=lv, tile_index=ix, data=data))
    db.commit()
    fresh = _audit()  # an auditor who saw nothing before cannot tell
    assert fresh.exit_code == 0, fresh.output
    result = _audit("--state", str(state))
    assert result.exit_code == 1
    assert "two different roots signed for size 300" in result.stderr
    assert audit.State.load(state).size == 300  # the state was not advanced


def test_a_misstated_status_map_is_caught(db, logged) -> None:  # type: ignore[no-untyped-def]
    # The operator re-signs the latest checkpoint with the same tree but a status map that
    # hides a record (say, a withdrawal): the tree checks pass, the rebuilt map does not.
    from tichub.reports import statusmap
    from tichub.reports.note import split

    latest = service.latest_checkpoint(db)
    assert latest is not None
    honest = Checkpoint.parse(split(latest.note)[0])
    records = list(db.scalars(select(ReportRecord).order_by(ReportRecord.log_index)))
    root, _ = statusmap.rebuild(statusmap.entry_of_leaf(r.leaf) for r in records[:-1])
    assert statusmap.root_in(honest) != root
    forged = Checkpoint(honest.origin, honest.size, honest.root_hash,
                        (statusmap.extension(root),))
    db.execute(update(LogCheckpoint).where(LogCheckpoint.size == latest.size)
               .values(note=sign_checkpoint(forged, logged.signer)))
    db.commit()
    assert _audit().exit_code == 0  # without --full, only the tree is checked
    result = _audit("--full")
    assert result.exit_code == 1
    assert "status map signed at size 300 is not the one its entries make" in result.stderr
