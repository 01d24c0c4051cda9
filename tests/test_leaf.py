"""Leaf bytes: RFC 8785 canonical JSON (checked against the scheme's published test data)
and the salted commitment to a record's private fields."""

from __future__ import annotations

import json
import random

import pytest
import rfc8785

from tichub.reports import leaf

# From the test data of RFC 8785's authors (github.com/cyberphone/json-canonicalization,
# testdata/input and testdata/output: values.json and weird.json).
RFC8785_CASES = [
    (
        '{"numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],'
        ' "escaping": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}',
        '{"escaping":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/","literals":[null,true,false],'
        '"numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}',
    ),
    (
        '{"\\u20ac": "Euro Sign", "1": "One", "\\u0080": "Control\\u007f",'
        ' "\\ud83d\\ude02": "Smiley", "\\u00f6": "Latin Small Letter O With Diaeresis",'
        ' "\\ufb33": "Hebrew Letter Dalet With Dagesh", "</script>": "Browser Challenge"}',
        '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f602":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    ),
]


@pytest.mark.parametrize(("given", "expected"), RFC8785_CASES)
def test_canonical_json_matches_the_published_test_data(given: str, expected: str) -> None:
    assert leaf.canonical(json.loads(given)) == expected.encode("utf-8")


def _random_value(rng: random.Random, depth: int = 0) -> object:
    # Characters where escaping rules differ between encoders, if they differ anywhere.
    alphabet = ["a", "Z", "0", " ", '"', "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x00",
                "\x1f", "\x7f", "\u0080", "\u2028", "\u2029", "€", "锂", "\ufeff",
                "\U0001f602", "</script>", "'", "&"]
    pick = rng.randrange(8 if depth < 3 else 5)
    if pick == 0:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
    if pick == 1:
        return rng.choice([0, -1, 1, 2**53 - 1, -(2**53 - 1), rng.randrange(-10**9, 10**9)])
    if pick == 2:
        return rng.choice([True, False, None])
    if pick in (3, 4):
        return rng.choice(["", "issuer", "Issuer", "_x", "a", "aa", "a_b", "z9"])
    if pick == 5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["v", "record", "private", "a", "B", "_", "aa", "Z1", "a-b", "A", "number"]
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def test_the_fast_path_writes_what_rfc8785_writes() -> None:
    # canonical() writes plain values with the standard library's encoder: it must give
    # the rfc8785 package's bytes for every such value.
    rng = random.Random(8785)
    values = [_random_value(rng) for _ in range(3000)]
    values.append({"record": {"number": "R-1", "client": "上海\u2028某公司\x01", "n": 2**53 - 1},
                   "private": "ab" * 32, "v": 1})
    for value in values:
        assert leaf._plain(value) or not isinstance(value, dict | list)
        assert leaf.canonical(value) == rfc8785.dumps(value), value
    # Outside what it can prove, rfc8785 decides: a float, a large integer, a non-ASCII key.
    for other in ({"x": 1.5}, {"n": 2**60}, {"€": 1}):
        assert not leaf._plain(other)
    with pytest.raises(leaf.LeafError):
        leaf.canonical({"n": 2**60})
    with pytest.raises(leaf.LeafError):
        leaf.canonical({"s": "\ud800"})


def test_what_canonical_json_cannot_hold_is_refused() -> None:
    for bad in (float("nan"), float("inf"), {1: "integer key"}, {"x": object()}):
        with pytest.raises(leaf.LeafError):
            leaf.canonical(bad)


def test_a_commitment_opens_only_with_its_fields_and_salt() -> None:
    private = {"client": "上海某储能科技有限公司", "sample": "电芯 S-2026-001"}
    salt = bytes(range(32))
    commit = leaf.commitment(private, salt)
    assert len(commit) == 64 and int(commit, 16) >= 0
    assert leaf.opens(commit, dict(reversed(list(private.items()))), salt)  # order is moot
    assert not leaf.opens(commit, {**private, "client": "别的公司"}, salt)
    assert not leaf.opens(commit, private, bytes(32))
    # The same private fields under another salt give an unrelated commitment, so the log
    # does not tell which records share a client.
    assert leaf.commitment(private, leaf.new_salt()) != commit
    with pytest.raises(leaf.LeafError):
        leaf.commitment(private, b"short")


def test_leaf_bytes_are_canonical_whatever_the_field_order() -> None:
    a = leaf.leaf_bytes({"number": "R-1", "kind": "test_report"}, "ab" * 32)
    b = leaf.leaf_bytes({"kind": "test_report", "number": "R-1"}, "ab" * 32)
    assert a == b
    assert a == (b'{"private":"' + b"ab" * 32 + b'","record":{"kind":"test_report",'
                 b'"number":"R-1"},"v":1}')
