"""Turns the conformance tool's TypeScript schema module into plain JSON Schema files.

Run once by hand (see README.md): python ts_to_json.py SOURCE.ts EXPORT_NAME OUT.json
The module holds object literals (bare keys, single or double quotes, trailing commas)
and one reference by name to another constant of the same module; nothing else.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
    r"""|(?P<name>[$A-Za-z_][$\w]*)|(?P<num>-?\d+(?:\.\d+)?)|(?P<punct>[{}\[\]:,]))""")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        m = _TOKEN.match(text, i)
        if not m:
            raise ValueError(f"cannot read at {i}: {text[i:i + 30]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        i = m.end()
    return out


def _string(raw: str) -> str:
    if raw[0] == "'":  # a single-quoted literal: same escapes, other quote
        raw = '"' + raw[1:-1].replace('\\"', '"').replace('"', '\\"') + '"'
    return str(json.loads(raw))


def _value(toks: list[tuple[str, str]], pos: int, consts: dict[str, Any]) -> tuple[Any, int]:
    kind, text = toks[pos]
    if kind == "str":
        return _string(text), pos + 1
    if kind == "num":
        return (float(text) if "." in text else int(text)), pos + 1
    if kind == "name":
        literals = {"true": True, "false": False, "null": None}
        return (literals[text] if text in literals else consts[text]), pos + 1
    if text == "[":
        items: list[Any] = []
        pos += 1
        while toks[pos][1] != "]":
            item, pos = _value(toks, pos, consts)
            items.append(item)
            if toks[pos][1] == ",":
                pos += 1
        return items, pos + 1
    if text == "{":
        obj: dict[str, Any] = {}
        pos += 1
        while toks[pos][1] != "}":
            key_kind, key = toks[pos]
            obj[_string(key) if key_kind == "str" else key] = None
            assert toks[pos + 1][1] == ":", toks[pos:pos + 3]
            obj[_string(key) if key_kind == "str" else key], pos = _value(toks, pos + 2, consts)
            if toks[pos][1] == ",":
                pos += 1
        return obj, pos + 1
    raise ValueError(f"unexpected {text!r}")


def constants(source: str) -> dict[str, Any]:
    text = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("//"))
    consts: dict[str, Any] = {}
    for m in re.finditer(r"export const (\w+) = ", text):
        toks = _tokens(text[m.end():text.index("};", m.end()) + 1])
        consts[m.group(1)], _ = _value(toks, 0, consts)
    return consts


if __name__ == "__main__":
    src, name, out = sys.argv[1:4]
    with open(src, encoding="utf-8") as fh:
        schema = constants(fh.read())[name]
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(schema, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
