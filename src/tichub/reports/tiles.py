"""C2SP tlog-tiles: the log as static files any mirror or auditor can fetch.

A tile holds up to 256 consecutive hashes of one tree level: tile level L holds tree level
8·L. Full tiles never change; the last tile of a level is partial (``.p/<width>``) until
it fills. Entry bundles hold the leaves' bytes, 256 to a bundle, each behind a big-endian
uint16 length. Pure: no storage; ``TileSource`` reads a tree back from tiles alone.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Iterator, Sequence

from tichub.reports.merkle import HASH_SIZE, NodeSource, ProofError, node_hash

TILE_WIDTH = 256
TILE_HEIGHT = 8  # tree levels per tile level
MAX_ENTRY = 0xFFFF


def encode_index(n: int) -> str:
    """1234067 → "x001/x234/067": groups of three digits, all but the last marked x."""
    if n < 0:
        raise ValueError("a tile index is not negative")
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    return "/".join([*(f"x{g}" for g in reversed(groups[1:])), groups[0]])


def _suffix(width: int) -> str:
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError("a tile holds 1 to 256 hashes")
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    return f"tile/{level}/{encode_index(index)}{_suffix(width)}"


def bundle_path(index: int, width: int = TILE_WIDTH) -> str:
    return f"tile/entries/{encode_index(index)}{_suffix(width)}"


def parse_path(path: str) -> tuple[str, int, int, int]:
    """("tile", level, index, width) or ("entries", 0, index, width); ValueError otherwise."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise ValueError("not a tile path")
    kind = "entries" if parts[1] == "entries" else "tile"
    if kind == "tile" and not (parts[1].isdigit() and str(int(parts[1])) == parts[1]):
        raise ValueError("the tile level is a number without leading zeros")
    rest, width = parts[2:], TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        if not rest[-1].isdigit() or str(int(rest[-1])) != rest[-1]:
            raise ValueError("a partial tile's width is a number without leading zeros")
        width = int(rest[-1])
        if width >= TILE_WIDTH:
            raise ValueError("a partial tile holds 1 to 255 hashes")
        rest = [*rest[:-2], rest[-2][:-2]]
    if not rest or any(len(g) != 4 or g[0] != "x" or not g[1:].isdigit() for g in rest[:-1]) \
            or len(rest[-1]) != 3 or not rest[-1].isdigit():
        raise ValueError("the tile index is groups of three digits")
    index = int("".join(g.lstrip("x") for g in rest))
    if encode_index(index) != "/".join(rest) or not 1 <= width <= TILE_WIDTH:
        raise ValueError("not a canonical tile path")
    return kind, int(parts[1]) if kind == "tile" else 0, index, width


def level_width(size: int, level: int) -> int:
    """How many hashes tile level ``level`` has for a tree of ``size`` leaves."""
    return size >> (TILE_HEIGHT * level)


def tiles_for_size(size: int) -> Iterator[tuple[int, int, int]]:
    """(level, index, width) of every tile a tree of ``size`` has."""
    level = 0
    while (count := level_width(size, level)) > 0:
        full, partial = divmod(count, TILE_WIDTH)
        for index in range(full):
            yield level, index, TILE_WIDTH
        if partial:
            yield level, full, partial
        level += 1


def tile_bytes(source: NodeSource, level: int, index: int, width: int) -> bytes:
    tree_level = TILE_HEIGHT * level
    first = index * TILE_WIDTH
    return b"".join(source.node(tree_level, first + i) for i in range(width))


def bundle(entries: Sequence[bytes]) -> bytes:
    out = bytearray()
    for data in entries:
        if len(data) > MAX_ENTRY:
            raise ValueError(f"a log entry is at most {MAX_ENTRY} bytes")
        out += struct.pack(">H", len(data)) + data
    return bytes(out)


def unbundle(data: bytes) -> list[bytes]:
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise ValueError("an entry bundle ends inside a length")
        (n,) = struct.unpack_from(">H", data, at)
        if at + 2 + n > len(data):
            raise ValueError("an entry bundle ends inside an entry")
        entries.append(data[at + 2:at + 2 + n])
        at += 2 + n
    return entries


class TileSource:
    """A tree of ``size`` leaves read from its tiles: ``fetch(level, index, width)`` gives a
    tile's bytes (from files, a mirror, a database). Each tile is fetched once."""

    def __init__(self, size: int, fetch: Callable[[int, int, int], bytes],
                 memo: NodeMemo | None = None) -> None:
        self.size = size
        self._fetch = fetch
        self._tiles: dict[tuple[int, int], bytes] = {}
        self._memo = memo

    def _tile(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self._tiles:
            width = min(TILE_WIDTH, level_width(self.size, level) - index * TILE_WIDTH)
            if width <= 0:
                raise ProofError(f"the tree of {self.size} has no tile {level}/{index}")
            data = self._fetch(level, index, width)
            if len(data) != width * HASH_SIZE:
                raise ProofError(f"tile {tile_path(level, index, width)} has "
                                 f"{len(data)} bytes, not {width * HASH_SIZE}")
            self._tiles[key] = data
        return self._tiles[key]

    def node(self, level: int, index: int) -> bytes:
        tile_level, sub = divmod(level, TILE_HEIGHT)
        first = index << sub  # its leftmost hash on the tile's own level
        if (index + 1) << level > self.size:
            raise ProofError(f"no complete subtree at level {level}, index {index}")
        data = self._tile(tile_level, first // TILE_WIDTH)
        at = first % TILE_WIDTH
        if self._memo is not None:
            at >>= sub
            return self._memo.levels(data)[sub][at * HASH_SIZE:(at + 1) * HASH_SIZE]
        hashes = [data[i * HASH_SIZE:(i + 1) * HASH_SIZE] for i in range(at, at + (1 << sub))]
        return fold(hashes)


class NodeMemo:
    """Every subtree hash inside a tile, computed once per tile *content*: keyed by the
    tile's bytes, so a tile rewritten in storage is hashed afresh, never served from here.
    A proof needs a few dozen such hashes, each a fold of up to 128 hashes of its tile;
    a server answering proofs keeps them. Bounded (each tile costs about 16 KiB): the
    oldest tiles go first. 4,096 tiles cover a million-entry log."""

    def __init__(self, max_tiles: int = 4096) -> None:
        self.max_tiles = max_tiles
        self._levels: dict[bytes, list[bytes]] = {}
        self._lock = threading.Lock()  # server threads share one memo

    def levels(self, data: bytes) -> list[bytes]:
        """[level 0, level 1, …, level 7], each the concatenated hashes of the tile's
        complete subtrees of 2**j of its hashes, left to right."""
        found = self._levels.get(data)
        if found is None:
            level = data
            found = [level]
            for _ in range(TILE_HEIGHT - 1):
                level = b"".join(
                    node_hash(level[i:i + HASH_SIZE], level[i + HASH_SIZE:i + 2 * HASH_SIZE])
                    for i in range(0, len(level) - HASH_SIZE, 2 * HASH_SIZE))
                found.append(level)
            with self._lock:
                if len(self._levels) >= self.max_tiles:
                    del self._levels[next(iter(self._levels))]
                self._levels[data] = found
        return found


def fold(hashes: list[bytes]) -> bytes:
    """The root of a perfect tree over ``hashes`` (a power of two of them)."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def check_tiles(
    size: int, fetch: Callable[[int, int, int], bytes],
    fetch_bundle: Callable[[int, int], bytes] | None = None,
) -> Iterator[str]:
    """Every way the tiles (and entry bundles) of a tree of ``size`` disagree with each
    other: a full tile whose hash is not the one a level up, a bundle whose entries do not
    hash to its level-0 tile. Proofs read only the tiles they need, so a rewritten tile
    below a full one would otherwise go unseen."""
    from tichub.reports.merkle import leaf_hash

    source = TileSource(size, fetch)
    for level, index, width in tiles_for_size(size):
        try:
            data = source._tile(level, index)
        except ProofError as exc:
            yield str(exc)
            continue
        hashes = [data[i * HASH_SIZE:(i + 1) * HASH_SIZE] for i in range(width)]
        if width == TILE_WIDTH and level_width(size, level + 1) > index:
            above = source._tile(level + 1, index // TILE_WIDTH)
            at = index % TILE_WIDTH
            if fold(hashes) != above[at * HASH_SIZE:(at + 1) * HASH_SIZE]:
                parent = index // TILE_WIDTH
                parent_width = min(TILE_WIDTH,
                                   level_width(size, level + 1) - parent * TILE_WIDTH)
                yield f"{tile_path(level, index, width)} does not hash to its entry in " \
                      f"{tile_path(level + 1, parent, parent_width)}"
        if level == 0 and fetch_bundle is not None:
            try:
                entries = unbundle(fetch_bundle(index, width))
            except ValueError as exc:
                yield f"{bundle_path(index, width)}: {exc}"
                continue
            if [leaf_hash(e) for e in entries] != hashes:
                yield f"{bundle_path(index, width)} does not match {tile_path(0, index, width)}"


def append(
    size: int, edge: dict[int, bytes], leaf_hashes: Sequence[bytes]
) -> dict[tuple[int, int], bytes]:
    """Appends leaf hashes to a tree of ``size`` whose right edge — the partial tile of
    each level, by level, as stored — is ``edge``. Returns every tile that changed,
    {(level, index): bytes}; a tile that fills passes its hash to the level above."""
    pending: dict[int, bytearray] = {}
    first_index: dict[int, int] = {}
    for level in range(64):
        count = level_width(size, level)
        if count == 0 and level > 0:
            break
        stored = edge.get(level, b"")
        if len(stored) != (count % TILE_WIDTH) * HASH_SIZE:
            raise ProofError(f"the stored right edge of tile level {level} has "
                             f"{len(stored) // HASH_SIZE} hashes, not {count % TILE_WIDTH}")
        pending[level] = bytearray(stored)
        first_index[level] = count // TILE_WIDTH
    changed: dict[tuple[int, int], bytes] = {}

    def push(level: int, digest: bytes) -> None:
        tile = pending.setdefault(level, bytearray())
        index = first_index.setdefault(level, 0)
        tile += digest
        changed[(level, index)] = bytes(tile)
        if len(tile) == TILE_WIDTH * HASH_SIZE:
            full = [bytes(tile[i * HASH_SIZE:(i + 1) * HASH_SIZE]) for i in range(TILE_WIDTH)]
            pending[level] = bytearray()
            first_index[level] = index + 1
            push(level + 1, fold(full))

    for digest in leaf_hashes:
        if len(digest) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes")
        push(0, digest)
    return changed
