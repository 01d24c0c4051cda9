"""Which scope lines of a search result matched the query, with the matched words marked.

The search ranks institutions by their qualifications' documents and never looks at single
lines, so a page of results asks for its lines afterwards: one query over the page's
institutions, narrowed in SQL by the standard or a fragment of each word, then checked word
by word as the index splits them (a line "matches" when it holds a searched word)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from tichub.core.textsearch import document_terms
from tichub.registry.models import ScopeLine
from tichub.registry.search import Interpretation

PER_INSTITUTION = 3
CANDIDATES_EACH = 20  # lines read per institution at most: the page stays cheap


@dataclass(frozen=True)
class MatchedLine:
    line_no: int
    standard: Markup
    product: Markup
    parameter: Markup


def _fragment(word: str) -> str:
    # A stem ("batteri") is not always a prefix of the words it stands for ("battery"):
    # one character less is, for every English word Snowball shortens.
    return word[:-1] if word.isascii() and len(word) > 4 else word


def _pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    parts = []
    for w in sorted(set(words), key=len, reverse=True):
        if w.isascii():
            parts.append(r"\b" + re.escape(_fragment(w)) + r"\w*")
        else:
            parts.append(re.escape(w))
    return re.compile("|".join(parts), re.I) if parts else None


def highlight(text: str | None, pattern: re.Pattern[str] | None) -> Markup:
    """``text`` escaped, with each match of ``pattern`` in ``<mark>``."""
    text = text or ""
    if pattern is None:
        return escape(text)
    out, at = [], 0
    for m in pattern.finditer(text):
        if m.end() == m.start():
            continue
        out.append(escape(text[at:m.start()]))
        out.append(Markup("<mark>%s</mark>") % text[m.start():m.end()])
        at = m.end()
    out.append(escape(text[at:]))
    return Markup("").join(out)


def _holds(line: ScopeLine, words: set[str]) -> bool:
    text = " ".join(t for t in (line.product, line.parameter, line.product_en,
                                line.parameter_en, line.standard_title) if t)
    # Split as the index splits documents: "蓄电池" holds "电池".
    return bool(words & set(document_terms([text]).split()))


def matched_lines(db: Session, institution_ids: Sequence[str], interp: Interpretation,
                  english: bool = False) -> dict[str, list[MatchedLine]]:
    """Up to ``PER_INSTITUTION`` matching lines of each institution, by line number."""
    words = set(interp.words) | set(interp.product_words) | set(interp.parameter_words)
    std = interp.standard
    if not institution_ids or not (words or std):
        return {}
    conds = []
    if std is not None:
        by_std = ScopeLine.std_key == std.key
        conds.append(by_std if std.year is None else by_std & (ScopeLine.std_year == std.year))
    for w in words:
        like = f"%{_fragment(w)}%"
        conds += [func.lower(col).like(like) for col in (
            ScopeLine.product, ScopeLine.parameter, ScopeLine.product_en,
            ScopeLine.parameter_en, ScopeLine.standard_title)]
    # The first candidates of each institution, so that a large lab's lines never crowd out
    # the next result's.
    ranked = select(ScopeLine.id, func.row_number().over(
        partition_by=ScopeLine.institution_id, order_by=ScopeLine.line_no).label("n")).where(
        ScopeLine.institution_id.in_(list(institution_ids)), or_(false(), *conds)).subquery()
    rows = db.scalars(select(ScopeLine).join(ranked, ranked.c.id == ScopeLine.id)
                      .where(ranked.c.n <= CANDIDATES_EACH)
                      .order_by(ScopeLine.institution_id, ScopeLine.line_no))
    pattern = _pattern(words)
    std_pattern = re.compile(re.escape(std.key), re.I) if std is not None else None
    out: dict[str, list[MatchedLine]] = {}
    for line in rows:
        found = out.setdefault(line.institution_id, [])
        if len(found) >= PER_INSTITUTION:
            continue
        by_standard = std is not None and line.std_key == std.key and (
            std.year is None or line.std_year == std.year)
        if not by_standard and not (words and _holds(line, words)):
            continue
        product = (line.product_en or line.product) if english else line.product
        parameter = (line.parameter_en or line.parameter) if english else line.parameter
        found.append(MatchedLine(line.line_no, highlight(line.standard, std_pattern),
                                 highlight(product, pattern), highlight(parameter, pattern)))
    return {k: v for k, v in out.items() if v}
