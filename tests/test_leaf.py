"""Leaf bytes: RFC 8785 canonical JSON (checked against the scheme's published test data)
and the salted commitment to a record's private fields."""

from __future__ import annotations

import json

import pytest

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
