"""Words for full-text search, the same on every database.

Chinese is segmented with jieba (search mode for documents, so that "蓄电池" also yields
"电池"; precise mode for queries); English is lower-cased and stemmed with Snowball, so
"batteries" finds "battery". Documents store the words space-separated and the database
only matches whole words: SQLite through FTS5, PostgreSQL through a GIN index on arrays.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache

import jieba
import snowballstemmer

jieba.setLogLevel(logging.WARNING)
_stemmer = snowballstemmer.stemmer("english")
_ASCII_WORD = re.compile(r"^[0-9a-z]+$")
_WORD_CHAR = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)
STOPWORDS = frozenset(
    ["的", "和", "与", "及", "或", "等", "用", "中", "之", "其",
     "a", "an", "and", "or", "of", "the", "for", "to", "in", "on", "with", "by", "at", "as",
     "is", "are", "be"]
)


@lru_cache(maxsize=65536)  # words repeat across texts: stemming them once is enough
def _normalise(token: str) -> str | None:
    token = token.strip().lower()
    if not token or token in STOPWORDS or not _WORD_CHAR.search(token):
        return None
    if token.isdigit():  # what Snowball gives back unchanged, at a cost
        return token
    if _ASCII_WORD.match(token):
        return str(_stemmer.stemWord(token))
    if token.isascii():
        return None  # punctuation runs
    return token


def _split_ascii(text: str) -> str:
    # jieba keeps "Li-ion" whole; split on anything that is not a letter, digit or CJK.
    return re.sub(r"[^\w\u3400-\u9fff]+", " ", text)


@lru_cache(maxsize=4096)
def query_terms(text: str) -> tuple[str, ...]:
    """Words a query must all find, in order, without repeats."""
    out: dict[str, None] = {}
    for tok in jieba.cut(_split_ascii(text)):
        norm = _normalise(tok)
        if norm:
            out[norm] = None
    return tuple(out)


@lru_cache(maxsize=65536)
def _text_terms(text: str) -> tuple[str, ...]:
    # Scope texts repeat a great deal (the same product under many labs): cache them.
    return tuple(n for tok in jieba.cut_for_search(_split_ascii(text)) if (n := _normalise(tok)))


def document_terms(texts: Iterable[str | None]) -> str:
    """A document's distinct words, space-separated, for the index."""
    out: dict[str, None] = {}
    for text in texts:
        if text:
            out.update(dict.fromkeys(_text_terms(text)))
    return " ".join(out)
