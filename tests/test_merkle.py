"""The Merkle core against the RFC 6962/9162 test vectors and an independent implementation.

Vectors: the eight test leaves and their roots and proofs as published in
google/certificate-transparency (cpp/merkletree/merkle_tree_test.cc) and, with the same
values, transparency-dev/merkle (testonly/constants.go, proof/verify_test.go). Those
sources number leaves from 1; the indexes here are RFC 9162's, from 0.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from pymerkle import InmemoryTree
from sigstore._internal import merkle as sigstore_merkle
from sigstore.errors import VerificationError

from tichub.reports import merkle
from tichub.reports.merkle import MemoryTree, ProofError

LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]

ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]

H = {short: bytes.fromhex(full) for short, full in (
    ("96a2", "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
    ("5f08", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
    ("6b47", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ("bc1a", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
    ("ca85", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ("d37e", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    ("0ebc", "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
    ("b086", "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
    ("fac5", "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    ("6e34", "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
)}

INCLUSION = [  # (index, size, path)
    (0, 8, ["96a2", "5f08", "6b47"]),
    (5, 8, ["bc1a", "ca85", "d37e"]),
    (2, 3, ["fac5"]),
    (1, 5, ["6e34", "5f08", "bc1a"]),
    (0, 1, []),
]

CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a2", "5f08", "6b47"]),
    (6, 8, ["0ebc", "ca85", "d37e"]),
    (2, 5, ["5f08", "bc1a"]),
    (6, 7, ["0ebc", "b086", "d37e"]),
]


@pytest.fixture(scope="module")
def tree() -> MemoryTree:
    return MemoryTree(LEAVES)


def test_roots_of_every_size_match_the_published_ones(tree: MemoryTree) -> None:
    assert [tree.root(n) for n in range(9)] == ROOTS
    assert ROOTS[0] == merkle.EMPTY_ROOT


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_published_ones(
    tree: MemoryTree, index: int, size: int, path: list[str]
) -> None:
    proof = merkle.inclusion_proof(tree, index, size)
    assert proof == [H[p] for p in path]
    merkle.verify_inclusion(merkle.leaf_hash(LEAVES[index]), index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_published_ones(
    tree: MemoryTree, old: int, new: int, proof: list[str]
) -> None:
    made = merkle.consistency_proof(tree, old, new)
    assert made == [H[p] for p in proof]
    merkle.verify_consistency(old, new, ROOTS[old], ROOTS[new], made)


def test_every_altered_inclusion_proof_is_refused(tree: MemoryTree) -> None:
    index, size = 5, 8
    leaf = merkle.leaf_hash(LEAVES[index])
    proof = merkle.inclusion_proof(tree, index, size)
    bad = [
        (merkle.leaf_hash(b"forged report"), index, size, proof, ROOTS[size]),
        (leaf, index - 1, size, proof, ROOTS[size]),
        (leaf, index, size - 1, proof, ROOTS[size - 1]),  # a root is signed with its size
        (leaf, index, size, proof[:-1], ROOTS[size]),
        (leaf, index, size, [*proof, proof[0]], ROOTS[size]),
        (leaf, index, size, [proof[1], proof[0], proof[2]], ROOTS[size]),
        (leaf, index, size, proof, ROOTS[7]),
        (leaf, size, size, proof, ROOTS[size]),
    ]
    for args in bad:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(*args)


def test_a_rewritten_history_fails_consistency(tree: MemoryTree) -> None:
    rewritten = MemoryTree([*LEAVES[:3], b"replaced entry", *LEAVES[4:]])
    proof = merkle.consistency_proof(rewritten, 6, 8)
    assert rewritten.root(8) != ROOTS[8]
    with pytest.raises(ProofError):  # the old checkpoint's root cannot be reached
        merkle.verify_consistency(6, 8, ROOTS[6], rewritten.root(8), proof)
    good = merkle.consistency_proof(tree, 6, 8)
    for args in [(6, 8, ROOTS[6], ROOTS[8], good[:-1]), (6, 8, ROOTS[5], ROOTS[8], good),
                 (6, 8, ROOTS[6], ROOTS[7], good), (8, 6, ROOTS[8], ROOTS[6], good),
                 (8, 8, ROOTS[8], ROOTS[7], [])]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(*args)


def test_an_independent_implementation_agrees_on_random_trees() -> None:
    # pymerkle builds its own tree of the same leaves; its inclusion path is the leaf's own
    # hash followed by the RFC 9162 audit path.
    rng = random.Random(2027)
    for size in [1, 2, 3, 5, 8, 13, 31, 64, 100, 257]:
        data = [rng.randbytes(rng.randrange(0, 40)) for _ in range(size)]
        ours = MemoryTree(data)
        theirs = InmemoryTree("sha256")
        for d in data:
            theirs.append_entry(d)
        assert ours.root() == theirs.get_root()
        for index in sorted(rng.sample(range(size), min(size, 6))):
            proof = merkle.inclusion_proof(ours, index, size)
            assert [merkle.leaf_hash(data[index]), *proof] == \
                theirs.prove_inclusion(index + 1, size).path
        for old in sorted(rng.sample(range(1, size + 1), min(size, 4))):
            assert ours.root(old) == theirs.get_root(old)
            merkle.verify_consistency(old, size, theirs.get_root(old), theirs.get_root(),
                                      merkle.consistency_proof(ours, old, size))


def _sigstore_entry(leaf: bytes, index: int, size: int, proof: list[bytes],
                   root: bytes) -> SimpleNamespace:
    # sigstore-python reads only these fields of a Rekor entry to check inclusion.
    inclusion = SimpleNamespace(log_index=index, tree_size=size, hashes=proof, root_hash=root)
    return SimpleNamespace(_inner=SimpleNamespace(canonicalized_body=leaf,
                                                  inclusion_proof=inclusion))


def test_sigstore_accepts_our_inclusion_proofs() -> None:
    # sigstore-python's own inclusion check (the one it runs on Rekor entries), on our
    # proofs from trees of many shapes; and it refuses a proof with a hash changed.
    rng = random.Random(6962)
    for size in [1, 2, 3, 7, 8, 9, 100, 255, 256, 257, 1000]:
        data = [rng.randbytes(rng.randrange(1, 60)) for _ in range(size)]
        ours = MemoryTree(data)
        root = ours.root()
        for index in sorted(rng.sample(range(size), min(size, 8))):
            proof = merkle.inclusion_proof(ours, index, size)
            sigstore_merkle.verify_merkle_inclusion(
                _sigstore_entry(data[index], index, size, proof, root))  # type: ignore[arg-type]
            if proof:
                bad = [*proof[:-1], bytes(32)]
                with pytest.raises(VerificationError):
                    sigstore_merkle.verify_merkle_inclusion(
                        _sigstore_entry(data[index], index, size, bad, root))  # type: ignore[arg-type]


def test_all_proofs_at_once_are_the_proofs_one_by_one() -> None:
    # The one-pass construction (pairs, odd last node lifted) against the RFC's recursion,
    # and its root against pymerkle's, for every size up to 70 and some beyond.
    rng = random.Random(9162)
    for size in [*range(1, 71), 127, 128, 129, 1000]:
        data = [rng.randbytes(8) for _ in range(size)]
        tree = MemoryTree(data)
        root, proofs = merkle.all_inclusion_proofs([merkle.leaf_hash(d) for d in data])
        theirs = InmemoryTree("sha256")
        for d in data:
            theirs.append_entry(d)
        assert root == tree.root() == theirs.get_root()
        assert proofs == [merkle.inclusion_proof(tree, i, size) for i in range(size)]
    with pytest.raises(ProofError):
        merkle.all_inclusion_proofs([])


def test_asking_outside_the_tree_is_an_error(tree: MemoryTree) -> None:
    with pytest.raises(ProofError):
        merkle.inclusion_proof(tree, 8, 8)
    with pytest.raises(ProofError):
        merkle.consistency_proof(tree, 5, 4)
    with pytest.raises(ProofError):
        merkle.inclusion_proof(tree, 3, 9)  # beyond the leaves held
