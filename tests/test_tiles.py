"""C2SP tlog-tiles: paths as the specification writes them, and a tree read back from its
tiles alone giving the same roots and proofs as the tree itself."""

from __future__ import annotations

import random

import pytest

from tichub.reports import merkle, tiles
from tichub.reports.merkle import MemoryTree, ProofError


def test_paths_follow_the_specification() -> None:
    assert tiles.encode_index(1234067) == "x001/x234/067"
    assert tiles.encode_index(5) == "005"
    assert tiles.encode_index(1000) == "x001/000"
    assert tiles.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tiles.bundle_path(1234067, 5) == "tile/entries/x001/x234/067.p/5"
    for path in ("tile/0/x001/x234/067", "tile/3/000.p/1", "tile/entries/x001/000.p/255"):
        kind, level, index, width = tiles.parse_path(path)
        again = (tiles.bundle_path(index, width) if kind == "entries"
                 else tiles.tile_path(level, index, width))
        assert again == path
    for bad in ("tile/0/1234067", "tile/00/000", "tile/0/x1/000", "tile/0/000.p/256",
                "tile/0/000.p/0", "tile/0/x000/001", "tiles/0/000", "tile/0/000.p/07"):
        with pytest.raises(ValueError):
            tiles.parse_path(bad)


def test_the_tiles_of_a_tree_of_70000_leaves() -> None:
    # The specification's example: 273 full level-0 tiles and partial ones at every level.
    found = list(tiles.tiles_for_size(70000))
    partial = [tiles.tile_path(*t) for t in found if t[2] < tiles.TILE_WIDTH]
    assert partial == ["tile/0/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1"]
    assert sum(1 for t in found if t[0] == 0) == 274
    assert [tiles.tile_path(*t) for t in tiles.tiles_for_size(256)] == [
        "tile/0/000", "tile/1/000.p/1"]


@pytest.mark.parametrize("size", [1, 7, 255, 256, 257, 1000, 65536, 70001])
def test_a_tree_read_from_its_tiles_proves_what_the_tree_proves(size: int) -> None:
    rng = random.Random(size)
    tree = MemoryTree(rng.randbytes(8) for _ in range(size))
    served = {(level, index, width): tiles.tile_bytes(tree, level, index, width)
              for level, index, width in tiles.tiles_for_size(size)}
    fetched: list[tuple[int, int, int]] = []

    def fetch(level: int, index: int, width: int) -> bytes:
        fetched.append((level, index, width))
        return served[(level, index, width)]

    memo = tiles.NodeMemo(max_tiles=3)  # small, so that tiles leave it too
    for source in (tiles.TileSource(size, fetch), tiles.TileSource(size, fetch, memo)):
        fetched.clear()
        assert merkle.root(source, size) == tree.root()
        for index in rng.sample(range(size), min(size, 5)):
            assert merkle.inclusion_proof(source, index, size) == \
                merkle.inclusion_proof(tree, index, size)
        for old in rng.sample(range(1, size + 1), min(size, 5)):
            assert merkle.consistency_proof(source, old, size) == \
                merkle.consistency_proof(tree, old, size)
        assert len(fetched) == len(set(fetched))  # each tile fetched once


def test_a_tampered_tile_changes_the_root_and_a_short_one_is_refused() -> None:
    tree = MemoryTree(i.to_bytes(2, "big") for i in range(300))
    served = {(lv, ix, w): tiles.tile_bytes(tree, lv, ix, w)
              for lv, ix, w in tiles.tiles_for_size(300)}
    tampered = dict(served)
    data = bytearray(tampered[(0, 1, 44)])
    data[0] ^= 1
    tampered[(0, 1, 44)] = bytes(data)
    assert merkle.root(tiles.TileSource(300, lambda *k: tampered[k]), 300) != tree.root()
    # A memo that hashed the true tile serves nothing for the tampered one: it is keyed by
    # the tile's content.
    memo = tiles.NodeMemo()
    assert merkle.root(tiles.TileSource(300, lambda *k: served[k], memo), 300) == tree.root()
    assert merkle.root(tiles.TileSource(300, lambda *k: tampered[k], memo), 300) != \
        tree.root()
    short = dict(served)
    short[(0, 0, 256)] = served[(0, 0, 256)][:-1]
    with pytest.raises(ProofError, match="bytes"):  # the leaf's own tile is read here
        merkle.inclusion_proof(tiles.TileSource(300, lambda *k: short[k]), 3, 300)


def test_check_tiles_finds_a_rewritten_tile_that_proofs_would_not_read() -> None:
    leaves = [i.to_bytes(2, "big") for i in range(600)]
    tree = MemoryTree(leaves)
    served = {(lv, ix, w): tiles.tile_bytes(tree, lv, ix, w)
              for lv, ix, w in tiles.tiles_for_size(600)}
    bundles = {(ix, w): tiles.bundle(leaves[ix * 256:ix * 256 + w])
               for lv, ix, w in tiles.tiles_for_size(600) if lv == 0}
    assert list(tiles.check_tiles(600, lambda *k: served[k],
                                  lambda *k: bundles[k])) == []
    # Rewrite a leaf in the first full tile: the root, read through level 1, is unchanged.
    forged_leaves = [b"forged", *leaves[1:]]
    forged = dict(served)
    forged[(0, 0, 256)] = tiles.tile_bytes(MemoryTree(forged_leaves), 0, 0, 256)
    assert merkle.root(tiles.TileSource(600, lambda *k: forged[k]), 600) == tree.root()
    assert list(tiles.check_tiles(600, lambda *k: forged[k])) == [
        "tile/0/000 does not hash to its entry in tile/1/000.p/2"]
    altered = dict(bundles)
    altered[(1, 256)] = tiles.bundle([b"other", *leaves[257:512]])
    assert list(tiles.check_tiles(600, lambda *k: served[k], lambda *k: altered[k])) == [
        "tile/entries/001 does not match tile/0/001"]


def test_entry_bundles_round_trip_and_refuse_what_does_not_fit() -> None:
    entries = [b"", b"a", bytes(300), "记录".encode()]
    data = tiles.bundle(entries)
    assert data[:2] == b"\x00\x00" and data[2:5] == b"\x00\x01a"
    assert tiles.unbundle(data) == entries
    with pytest.raises(ValueError):
        tiles.unbundle(data[:-1])
    with pytest.raises(ValueError):
        tiles.bundle([bytes(tiles.MAX_ENTRY + 1)])


@pytest.mark.parametrize("batches", [[1], [300], [255, 1, 256, 1000], [65535, 1, 300],
                                     [1] * 520])
def test_appending_in_batches_gives_the_tiles_of_the_whole_tree(batches: list[int]) -> None:
    rng = random.Random(len(batches))
    stored: dict[tuple[int, int], bytes] = {}
    size, leaves = 0, []
    for n in batches:
        new = [rng.randbytes(6) for _ in range(n)]
        edge = {level: stored.get((level, index), b"")
                for level, index, width in
                [(lv, tiles.level_width(size, lv) // tiles.TILE_WIDTH, 0) for lv in range(4)]}
        stored.update(tiles.append(size, edge, [merkle.leaf_hash(d) for d in new]))
        size += n
        leaves += new
    tree = MemoryTree(leaves)
    expected = {(lv, ix): tiles.tile_bytes(tree, lv, ix, w)
                for lv, ix, w in tiles.tiles_for_size(size)}
    assert {k: v for k, v in stored.items() if v} == expected
    source = tiles.TileSource(size, lambda lv, ix, w: stored[(lv, ix)])
    assert merkle.root(source, size) == tree.root()


def test_appending_refuses_an_edge_that_does_not_fit_the_size() -> None:
    with pytest.raises(ProofError, match="right edge"):
        tiles.append(3, {0: bytes(64)}, [bytes(32)])
