"""Finding institutions by standard, product, parameter or free text, ranked.

Matches are gathered as search keys (``registry.search_key``) — of the qualifications whose
scope lines cite the standard, or of the documents holding every word — filtered and folded
per institution by bit arithmetic on the keys, and ranked: the best match tier first (exact
standard and year, then the standard in another year, then a part of the standard or a
text match), within a tier institutions matched under a valid qualification before the
others, then the number of matching lines, then registration order (``registry.ranking``).

Validity is decided on ``tichub.core.ids.today()`` (UTC), the day the models use to show a
qualification's effective status. Text that holds no searchable word (only stop-words or
punctuation) finds nothing rather than everything: see ``Interpretation.no_searchable_words``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

import numpy as np
from sqlalchemy.orm import Session

from tichub.core.ids import today
from tichub.core.textsearch import query_terms
from tichub.registry import ranking, standards
from tichub.registry import search_key as sk
from tichub.registry.districts import DISTRICTS
from tichub.registry.models import QualificationKind, QualificationStatus


@dataclass
class Query:
    q: str = ""
    standard: str = ""
    product: str = ""
    parameter: str = ""
    districts: list[str] = field(default_factory=list)
    kinds: list[QualificationKind] = field(default_factory=list)
    statuses: list[QualificationStatus] = field(default_factory=list)
    on: date | None = None


@dataclass
class Interpretation:
    standard: standards.StandardNumber | None = None
    words: tuple[str, ...] = ()
    product_words: tuple[str, ...] = ()
    parameter_words: tuple[str, ...] = ()
    # Text was given but none of it can be searched (only stop-words or punctuation): the
    # search finds nothing, and the page says why.
    no_searchable_words: bool = False

    @property
    def has_terms(self) -> bool:
        return bool(self.words or self.product_words or self.parameter_words)

    def as_dict(self) -> dict[str, Any]:
        return {
            "standard": self.standard.key if self.standard else None,
            "year": self.standard.year if self.standard else None,
            "words": list(self.words),
            "product_words": list(self.product_words),
            "parameter_words": list(self.parameter_words),
            "no_searchable_words": self.no_searchable_words,
        }


@dataclass
class Row:
    seq: int
    tier: int
    valid: bool
    lines: int


@dataclass
class Result:
    rows: list[Row]
    total: int
    facets: dict[str, dict[str, int]]
    interpretation: Interpretation


def interpret(query: Query) -> Interpretation:
    out = Interpretation()
    std_text = query.standard.strip()
    free = query.q.strip()
    if not std_text and free and standards.looks_like_standard(free):
        std_text, free = free, ""
    if std_text:
        out.standard = standards.parse(std_text)
    out.words = query_terms(free) if free else ()
    out.product_words = query_terms(query.product) if query.product.strip() else ()
    out.parameter_words = query_terms(query.parameter) if query.parameter.strip() else ()
    # A field of stop-words alone is dropped like a stop-word inside a query; only when
    # nothing searchable is left of the text given does the query find nothing.
    typed = free or query.product.strip() or query.parameter.strip()
    out.no_searchable_words = bool(typed) and out.standard is None and not out.has_terms
    return out


def _placeholder(db: Session) -> str:
    return "?" if db.get_bind().dialect.name == "sqlite" else "%s"


def _fts_expression(interp: Interpretation) -> str:
    def phrase(col: str, word: str) -> str:
        return f'{col} : "{word.replace(chr(34), chr(34) * 2)}"'

    parts = [phrase("body", w) for w in interp.words]
    parts += [phrase("products", w) for w in interp.product_words]
    parts += [phrase("parameters", w) for w in interp.parameter_words]
    return " AND ".join(parts)


def _text_sql(db: Session, interp: Interpretation) -> tuple[str, list[Any]]:
    """Keys of the documents holding every word (whole words only)."""
    if db.get_bind().dialect.name == "sqlite":
        return "SELECT rowid FROM search_fts WHERE search_fts MATCH ?", [_fts_expression(interp)]
    conds, params = [], []
    for col, words in (("body", interp.words), ("products", interp.product_words),
                       ("parameters", interp.parameter_words)):
        if words:
            # tichub_words: the split the GIN index holds (migration 0002 says why).
            conds.append(f"tichub_words({col}) @> %s::text[]")
            params.append(list(words))
    return "SELECT id FROM search_docs WHERE " + " AND ".join(conds), params


def _standard_sql(
    db: Session, std: standards.StandardNumber, interp: Interpretation
) -> tuple[str, list[Any]]:
    """Keys of the qualifications whose scope cites the standard, with tier and lines."""
    p = _placeholder(db)
    lo, hi = standards.part_bounds(std.key)
    if std.year is not None:
        tier = (f"max(CASE WHEN std_key = {p} AND std_year = {p} THEN 3 "
                f"WHEN std_key = {p} THEN 2 ELSE 1 END)")
        params: list[Any] = [std.key, std.year, std.key]
    else:
        tier = f"max(CASE WHEN std_key = {p} THEN 3 ELSE 1 END)"
        params = [std.key]
    where = f"(std_key = {p} OR (std_key >= {p} AND std_key < {p}))"
    params += [std.key, lo, hi]
    if interp.has_terms:
        text_sql, text_params = _text_sql(db, interp)
        where += f" AND doc_key IN ({text_sql})"  # both must hold for the same qualification
        params += text_params
    return (f"SELECT doc_key, {tier}, count(*) FROM scope_lines WHERE {where} "
            "GROUP BY doc_key"), params


def _fetch_keys(db: Session, interp: Interpretation) -> tuple[Any, Any, Any]:
    # The hot path reads through the driver's cursor: tens of thousands of integers come
    # back for a broad query, and per-row result objects would cost more than the search.
    cursor = db.connection().connection.cursor()
    try:
        if interp.standard is not None:
            sql, params = _standard_sql(db, interp.standard, interp)
            cursor.execute(sql, params)
            rows = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 3)
            return rows[:, 0], rows[:, 1], rows[:, 2]
        if interp.has_terms:
            sql, params = _text_sql(db, interp)
            tier = 1
        else:
            sql, params, tier = "SELECT id FROM search_docs", [], 0
        cursor.execute(sql, params)
        keys = np.fromiter((r[0] for r in cast(Iterable[tuple[int]], cursor)), dtype=np.int64)
        return keys, np.full(len(keys), tier, dtype=np.int64), np.full(len(keys), tier,
                                                                        dtype=np.int64)
    finally:
        cursor.close()


def run(db: Session, query: Query, offset: int, limit: int) -> Result:
    on = query.on or today()
    interp = interpret(query)
    if interp.no_searchable_words:
        keys = tiers = lines = np.zeros(0, dtype=np.int64)
    else:
        keys, tiers, lines = _fetch_keys(db, interp)
    ranked = ranking.rank(keys, tiers, lines, ranking.Filters(
        districts=tuple(sk.DISTRICT_INDEX[d] for d in query.districts),
        kinds=tuple(sk.KINDS[k.value] for k in query.kinds),
        statuses=tuple(s.value for s in query.statuses),
        today=sk.day_number(on),
    ), offset, limit)
    by_district = {DISTRICTS[i].slug: n for i, n in ranked.by_district.items()}
    return Result(
        rows=[Row(int(s), int(t), bool(v), int(n)) for s, t, v, n in
              zip(ranked.seq, ranked.tier, ranked.valid, ranked.lines, strict=True)],
        total=ranked.total,
        facets={"district": dict(sorted(by_district.items(), key=lambda kv: -kv[1])),
                "qualification_kind": {sk.KIND_NAMES[k]: n for k, n in ranked.by_kind.items()},
                "status": ranked.by_status},
        interpretation=interp,
    )
