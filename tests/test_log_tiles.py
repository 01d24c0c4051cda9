"""The log as C2SP tlog-tiles serves it while it grows: every checkpoint's tree stays
readable from its own tiles and entry bundles, fetched over HTTP after the log grew
("Logs MUST serve partial tiles corresponding to tree sizes for which a checkpoint was
produced", c2sp.org/tlog-tiles); and an empty log has a signed checkpoint of size 0."""

from __future__ import annotations

import hashlib
import random
from datetime import date

import pytest
from typer.testing import CliRunner

from helpers import make_account, make_institution
from tichub.cli import app as cli_app
from tichub.core.config import get_settings
from tichub.reports import merkle, service, statusmap, tiles
from tichub.reports.checkpoint import open_checkpoint
from tichub.reports.schemas import RecordIn


@pytest.fixture
def grow(app, db):  # type: ignore[no-untyped-def]
    """Registers n records and integrates them into one checkpoint; returns its size."""
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1)
    log = app.state.log
    count = [0]

    def add(n: int) -> int:
        service.register(db, acc.principal(db), log, [RecordIn(
            number=f"T-{count[0] + i}", kind="test_report", institution_id=inst,
            issued_on=date(2026, 1, 5)) for i in range(n)])
        count[0] += n
        return service.integrate(db, log)
    return add


def _fetch(client):  # type: ignore[no-untyped-def]
    def fetch(level: int, index: int, width: int) -> bytes:
        r = client.get("/log/" + tiles.tile_path(level, index, width))
        assert r.status_code == 200, (tiles.tile_path(level, index, width), r.text)
        return r.content

    def fetch_bundle(index: int, width: int) -> bytes:
        r = client.get("/log/" + tiles.bundle_path(index, width))
        assert r.status_code == 200, (tiles.bundle_path(index, width), r.text)
        return r.content
    return fetch, fetch_bundle


def test_a_checkpoints_partial_tiles_are_served_after_the_log_grew(client, grow) -> None:  # type: ignore[no-untyped-def]
    assert grow(114) == 114
    first = client.get("/log/tile/0/000.p/114").content
    bundle = client.get("/log/tile/entries/000.p/114").content
    assert grow(6) == 120
    # A verifier that read the checkpoint of 114 fetches its tiles after the integration.
    again = client.get("/log/tile/0/000.p/114")
    assert again.status_code == 200 and again.content == first
    assert client.get("/log/tile/entries/000.p/114").content == bundle
    assert "immutable" in again.headers["cache-control"]  # a width's bytes never change
    assert client.get("/log/tile/0/000.p/120").status_code == 200
    # Wider than the log holds: refused, as before.
    assert client.get("/log/tile/0/000.p/121").status_code == 404
    assert client.get("/log/tile/entries/000.p/121").status_code == 404


def test_a_level_one_partial_tile_is_served_after_the_level_grew(client, grow) -> None:  # type: ignore[no-untyped-def]
    assert grow(370) == 370
    one = client.get("/log/tile/1/000.p/1")
    assert one.status_code == 200 and len(one.content) == merkle.HASH_SIZE
    assert grow(200) == 570  # past 512: level 1 holds two hashes now
    again = client.get("/log/tile/1/000.p/1")
    assert again.status_code == 200 and again.content == one.content
    assert client.get("/log/tile/1/000.p/2").status_code == 200
    assert client.get("/log/tile/1/000.p/3").status_code == 404
    # The level-0 tile that was partial at 370 is full now; its old width is still served.
    assert client.get("/log/tile/0/001.p/114").status_code == 200


def test_every_checkpoint_is_rebuilt_from_its_own_tiles_as_the_log_grows(client, grow) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(12)
    sizes = [grow(1)]
    while sizes[-1] < 1300:  # crosses 256 and 512, and level 1 up to five hashes
        sizes.append(grow(rng.choice([1, 2, 7, 31, 64, 100, 129, 200, 255, 256, 257])))
    assert {s // 256 for s in sizes} >= {0, 1, 2, 3, 4, 5}
    key = client.app.state.log.verifier
    fetch, fetch_bundle = _fetch(client)
    latest = open_checkpoint(client.get("/log/checkpoint").text, key).checkpoint
    assert latest.size == sizes[-1]
    for size in sizes:
        note = client.get(f"/api/reports/log/checkpoints/{size}").text
        checkpoint = open_checkpoint(note, key).checkpoint
        # Tiles of every level and entry bundles at this size's own widths, fetched now.
        source = tiles.TileSource(size, fetch)
        assert merkle.root(source, size) == checkpoint.root_hash, size
        assert list(tiles.check_tiles(size, fetch, fetch_bundle)) == [], size
        # And the entries themselves hash to the checkpoint's root.
        entries = [e for index, width in (
            (i, min(tiles.TILE_WIDTH, size - i * tiles.TILE_WIDTH))
            for i in range((size + tiles.TILE_WIDTH - 1) // tiles.TILE_WIDTH))
            for e in tiles.unbundle(fetch_bundle(index, width))]
        assert merkle.MemoryTree(entries).root() == checkpoint.root_hash, size


def test_an_empty_log_serves_a_signed_checkpoint_of_size_0(client, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    log = client.app.state.log
    r = client.get("/log/checkpoint")
    assert r.status_code == 200, r.text
    assert r.text == log.empty_note  # the same note every time: Ed25519 is deterministic
    checkpoint = open_checkpoint(r.text, log.verifier).checkpoint
    assert checkpoint.size == 0
    assert checkpoint.root_hash == hashlib.sha256(b"").digest()  # RFC 9162 §2.1.1: MTH({})
    assert statusmap.root_in(checkpoint) == service.empty_map_root()
    # An auditor reading the empty log over the database finds it consistent.
    for name in ("database_url", "log_key", "log_origin"):
        monkeypatch.setenv(f"TICHUB_{name.upper()}", str(getattr(settings, name)))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["audit", "--full"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("consistent: 0 checkpoint(s) up to size 0, tiles and "
                                     "entries checked")


def test_a_witness_does_not_cosign_the_empty_log(client) -> None:  # type: ignore[no-untyped-def]
    from tichub.reports import audit, witness
    from tichub.reports.note import COSIGNATURE, Signer

    signer = Signer.generate("witness.example/w", COSIGNATURE)
    with pytest.raises(witness.WitnessError, match="empty"):
        witness.cosign(audit.HttpReader(client), client.app.state.log.verifier, signer, None,
                       0)
