"""Pages: Chinese by default, English by switch, every template string translated."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from helpers import make_account, make_institution
from tichub.core.i18n import translations
from tichub.core.messages import enum_label, shown_enums

ROOT = Path(__file__).resolve().parent.parent


def test_every_string_of_the_interface_has_a_chinese_translation() -> None:
    # Templates' strings and every Msg/MsgC of the Python code (babel.cfg's keywords).
    method_map = [("src/tichub/web/templates/**.html", "jinja2"),
                  ("src/tichub/**.py", "python")]
    options = {"src/tichub/web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "Msg": None, "MsgC": ((1, "c"), 2),
                "pgettext": ((1, "c"), 2)}
    ids = {(ctx, msg) for _, _, msg, _, ctx in extract_from_dir(
        str(ROOT), method_map, options, keywords=keywords) if isinstance(msg, str)}
    assert len(ids) > 50
    zh = translations("zh")
    untranslated = sorted(f"{c}|{m}" if c else m for c, m in ids
                          if (zh.pgettext(c, m) if c else zh.gettext(m)) == m)
    assert untranslated == []


def test_every_status_and_kind_is_named_in_both_languages() -> None:
    # An enum member shown on a page is translated under its enum's name (enum_label); a
    # missing English entry would show the raw value ("report_issued").
    members = [m for kind in shown_enums() for m in kind]
    assert len(members) > 30
    missing = [f"{type(m).__name__}.{m.value} ({locale})" for m in members
               for locale in ("zh", "en") if _unnamed(m.value, enum_label(m).localize(locale),
                                                      locale)]
    assert missing == []


def _unnamed(value: str, shown: str, locale: str) -> bool:
    # In English a one-word value ("open") may stand as it is; "report_issued" may not.
    return shown == value and (locale == "zh" or not value.isalpha())


def test_chinese_by_default_and_english_by_switch(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="上海甲检测技术有限公司", serial=1,
                               scope=[("GB 31241-2022", "锂离子电池", "过充电")])
    page = client.get(f"/institutions/{inst}")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text and "能力范围" in page.text
    assert "GB 31241-2022" in page.text and "过充电" in page.text

    english = client.get(f"/institutions/{inst}?lang=en")
    assert '<html lang="en">' in english.text and "Capability scope" in english.text
    # The choice sticks for the next page.
    assert "Directory of institutions" in client.get("/institutions").text


def test_search_page_shows_counts_and_results(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    make_institution(db, acc, name="上海甲检测技术有限公司", serial=1, district="jiading",
                     scope=[("GB 31241-2022", "锂离子电池", "过充电")])
    page = client.get("/institutions", params={"q": "GB 31241"})
    assert "共找到 1 家机构" in page.text
    assert "上海甲检测技术有限公司" in page.text
    # The district filter shows its count.
    assert '<span class="count">1</span>' in page.text
    # So does the status filter, and the htmx swap (same page, same layout) carries them.
    assert re.search(r'value="valid" >\s*有效 <span class="count">1</span>', page.text)
    assert re.search(r'value="expired" >\s*已过期 <span class="count">0</span>', page.text)


def test_the_district_chart_shows_the_results_and_the_filter_all_counts(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    make_institution(db, acc, name="甲", serial=1, district="jiading")
    make_institution(db, acc, name="乙", serial=2, district="pudong")
    page = client.get("/institutions", params={"district": "pudong"}).text
    assert "共找到 1 家机构" in page
    assert re.search(r'value="jiading" >\s*嘉定区 <span class="count">1</span>', page)
    chart = json.loads(html.unescape(re.search(r"data-chart='([^']*)'", page).group(1)))
    assert chart["labels"] == ["浦东新区"] and chart["values"] == [1]


def test_search_page_explains_a_query_with_no_searchable_words(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    make_institution(db, acc, name="上海甲检测技术有限公司", serial=1)
    page = client.get("/institutions", params={"q": "的"})
    assert "共找到 0 家机构" in page.text and "上海甲检测技术有限公司" not in page.text
    assert "没有可检索的词" in page.text
    english = client.get("/institutions", params={"q": "!!!", "lang": "en"})
    assert "The query has no searchable words" in english.text


def test_html_errors_for_pages_and_problem_json_for_the_api(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/institutions/nope", headers={"accept": "text/html"})
    assert page.status_code == 404 and "<html" in page.text and "未找到" in page.text
    api = client.get("/api/registry/institutions/nope")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["status"] == 404


def test_pages_and_api_docs_load_nothing_from_outside(client, db) -> None:  # type: ignore[no-untyped-def]
    # Users may be offline: every script, style and image comes from /static.
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1,
                               scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    for path in ("/", "/login", "/institutions?q=GB+31241", f"/institutions/{inst}",
                 "/api/docs"):
        r = client.get(path, headers={"accept": "text/html"})
        assert r.status_code == 200, path
        sources = re.findall(r'(?:src|href)=["\']([^"\']+)', r.text)
        sources += re.findall(r'(?:_url|url)["\']?\s*[:=]\s*["\']([^"\']+)', r.text)
        assert sources, path
        outside = [s for s in sources if re.match(r"(?:https?:)?//", s)
                   and not re.match(r"(?:https?:)?//testserver(?:/|$)", s)]
        assert outside == [], f"{path} loads {outside}"
        for s in sources:
            if s.startswith("/static/"):
                assert client.get(s).status_code == 200, s


def test_the_institution_page_lists_its_authorised_signatories(client, db) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from tichub.registry import service as registry
    from tichub.registry.schemas import SignatoryIn

    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1)
    assert 'id="signatories"' not in client.get(f"/institutions/{inst}").text
    registry.add_signatory(db, acc.principal(db), inst, SignatoryIn(
        name="王芳", title="技术负责人", authorised_from=date(2021, 3, 1),
        authorised_until=date(2027, 2, 28)))
    page = client.get(f"/institutions/{inst}").text
    table = page[page.index('id="signatories"'):]
    assert "授权签字人" in page and "王芳" in table and "2027-02-28" in table


def test_what_a_404_names_is_in_the_readers_words() -> None:
    # errors.not_found(what) shows "未找到：{what}": a plain English noun there would show
    # English inside the Chinese page. Every caller passes a Msg.
    import ast

    plain = []
    for path in (ROOT / "src" / "tichub").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(
                    node.func, "id", None)) == "not_found" and node.args and isinstance(
                    node.args[0], (ast.Constant, ast.JoinedStr)):
                plain.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert plain == []
