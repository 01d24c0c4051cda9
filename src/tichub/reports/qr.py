"""The QR code printed on a report: a link to its public verification page that carries the
document's number and a prefix of its record's leaf hash, so a scan can tell a printed code
made up by a forger from one the log knows."""

from __future__ import annotations

import io
import re
from urllib.parse import urlencode

import segno

PREFIX_HEX = 16  # 64 bits: short enough for a small code, far too many to guess
HEX = re.compile(r"^[0-9a-f]+$")


def hash_prefix(leaf_hash: str) -> str:
    return leaf_hash[:PREFIX_HEX].lower()


def verify_path(number: str, leaf_hash: str) -> str:
    return "/verify?" + urlencode({"number": number, "h": hash_prefix(leaf_hash)})


def verify_url(base_url: str, number: str, leaf_hash: str) -> str:
    """The absolute address a printed code points at (``base_url`` as the request saw it)."""
    return base_url.rstrip("/") + verify_path(number, leaf_hash)


def prefix_matches(h: str, leaf_hash: str) -> bool:
    """True when ``h`` is a prefix of the leaf hash at least as long as a printed one's;
    shorter prefixes are refused, as they would be easy to hit by chance."""
    h = h.strip().lower()
    return len(h) >= PREFIX_HEX and bool(HEX.match(h)) and leaf_hash.lower().startswith(h)


def _code(url: str) -> segno.QRCode:
    # Level M survives a smudge or a fold on paper without growing the code much.
    return segno.make(url, error="m", micro=False)


def svg(url: str) -> bytes:
    out = io.BytesIO()
    _code(url).save(out, kind="svg", scale=4, border=4, light="#fff", xmldecl=False,
                    title=url)
    return out.getvalue()


def png(url: str) -> bytes:
    out = io.BytesIO()
    _code(url).save(out, kind="png", scale=8, border=4)
    return out.getvalue()
