"""Words for search: jieba for Chinese, Snowball stems for English."""

from __future__ import annotations

from tichub.core.textsearch import document_terms, query_terms


def test_chinese_queries_are_segmented() -> None:
    assert query_terms("锂离子电池") == ("锂离子", "电池")


def test_documents_also_hold_the_shorter_words() -> None:
    words = document_terms(["电动自行车用锂离子蓄电池"]).split()
    # A query's words are all in the document: "电池" is inside "蓄电池".
    assert set(query_terms("锂离子电池")) <= set(words)
    assert {"自行车", "蓄电池"} <= set(words)


def test_english_is_lower_cased_and_stemmed() -> None:
    assert query_terms("Lithium-ion Batteries") == query_terms("lithium ion battery")
    assert "batteri" in document_terms(["Secondary cells and batteries"]).split()


def test_stopwords_and_punctuation_are_dropped() -> None:
    assert query_terms("the testing of 的 电池，") == ("test", "电池")
