"""Merkle tree hashing, inclusion and consistency proofs exactly as RFC 9162 §2.1.

Pure: no storage. A tree is read through ``NodeSource``, which gives the hash of any
*perfect* subtree — the 2**level leaves from ``index * 2**level`` — so that the same code
serves an in-memory tree, database rows or C2SP tlog tiles, which store just those hashes.
Every subtree the RFC's recursions name starts at a multiple of a power of two at least its
size, so its hash is a fold of at most log2(n) perfect subtrees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = HASH()


class ProofError(ValueError):
    """A proof that does not verify, or that was asked for outside the tree."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (n ≥ 2): where MTH splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


class NodeSource(Protocol):
    def node(self, level: int, index: int) -> bytes:
        """The hash of the perfect subtree of 2**level leaves starting at index * 2**level."""
        ...


def subtree_hash(source: NodeSource, start: int, end: int) -> bytes:
    """MTH of the leaves [start, end), for ranges the RFC's recursions produce (start is a
    multiple of the power of two at or above end - start). [0, size) gives the root."""
    size = end - start
    if size <= 0:
        if size == 0 and start == 0:
            return EMPTY_ROOT
        raise ValueError(f"empty or reversed range [{start}, {end})")
    # The binary decomposition of size, largest first, is MTH's own sequence of left parts.
    parts: list[bytes] = []
    offset = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            if offset % (1 << level):
                raise ValueError(f"range [{start}, {end}) is not aligned to the tree")
            parts.append(source.node(level, offset >> level))
            offset += 1 << level
    digest = parts[-1]
    for left in reversed(parts[:-1]):
        digest = node_hash(left, digest)
    return digest


def root(source: NodeSource, size: int) -> bytes:
    return subtree_hash(source, 0, size)


def inclusion_proof(source: NodeSource, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, leaf's neighbour first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, n, m = 0, size, index
    # The recursion descends to the leaf and appends on the way back: collect, then reverse.
    while n > 1:
        k = split_point(n)
        if m < k:
            path.append(subtree_hash(source, start + k, start + n))
            n = k
        else:
            path.append(subtree_hash(source, start, start + k))
            start, n, m = start + k, n - k, m - k
    path.reverse()
    return path


def consistency_proof(source: NodeSource, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1; empty when the sizes are equal or m is 0."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, n, m, whole = 0, new_size, old_size, True
    while m != n:
        k = split_point(n)
        if m <= k:
            proof.append(subtree_hash(source, start + k, start + n))
            n = k
        else:
            proof.append(subtree_hash(source, start, start + k))
            start, n, m, whole = start + k, n - k, m - k, False
    if not whole:
        proof.append(subtree_hash(source, start, start + n))
    proof.reverse()
    return proof


def _lsb(x: int) -> bool:
    return bool(x & 1)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """RFC 9162 §2.1.3.2, step by step; ``leaf`` is the leaf hash. Raises ``ProofError``."""
    if index >= size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if _lsb(fn) or fn == sn:
            r = node_hash(p, r)
            if not _lsb(fn):
                while not (_lsb(fn) or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    if r != expected_root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2, step by step. Raises ``ProofError``."""
    if old_size > new_size:
        raise ProofError(f"a tree of {new_size} cannot extend one of {old_size}")
    if old_size == new_size or old_size == 0:
        if proof:
            raise ProofError("the consistency proof should be empty")
        if old_size == new_size and old_root != new_root:
            raise ProofError("two different roots for one tree size")
        return
    nodes = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        nodes.insert(0, old_root)
    if not nodes:
        raise ProofError("the consistency proof is empty")
    fn, sn = old_size - 1, new_size - 1
    while _lsb(fn):
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if _lsb(fn) or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not _lsb(fn):
                while not (_lsb(fn) or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != old_root or sr != new_root:
        raise ProofError("the trees are not consistent")


class MemoryTree:
    """A tree kept whole in memory: every perfect-subtree hash, level by level."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for data in leaves:
            self.append(data)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, data: bytes) -> int:
        return self.append_hash(leaf_hash(data))

    def append_hash(self, digest: bytes) -> int:
        index = self.size
        self.levels[0].append(digest)
        level, i = 0, index
        while i & 1:  # a right child completes its parent
            parent = node_hash(self.levels[level][i - 1], self.levels[level][i])
            level += 1
            if len(self.levels) == level:
                self.levels.append([])
            self.levels[level].append(parent)
            i >>= 1
        return index

    def node(self, level: int, index: int) -> bytes:
        try:
            return self.levels[level][index]
        except IndexError:
            raise ProofError(f"no complete subtree at level {level}, index {index}") from None

    def root(self, size: int | None = None) -> bytes:
        return root(self, self.size if size is None else size)


def all_inclusion_proofs(leaf_hashes: Sequence[bytes]) -> tuple[bytes, list[list[bytes]]]:
    """The root of the tree of these leaf hashes and every leaf's inclusion proof, in one
    pass: about n node hashes in all, where n separate proofs cost n·log n reads.

    An RFC 9162 tree is built level by level by hashing neighbours in pairs and lifting a
    level's odd last node unchanged (MTH splits at the largest power of two below n, so
    every left part is perfect and only the right edge is ragged); a leaf's path is its
    neighbour on each level where it has one."""
    if not leaf_hashes:
        raise ProofError("no leaves")
    levels = [list(leaf_hashes)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        above = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])
        levels.append(above)
    proofs = []
    for index in range(len(leaf_hashes)):
        path, i = [], index
        for level in levels[:-1]:
            sibling = i ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            i >>= 1
        proofs.append(path)
    return levels[-1][0], proofs
