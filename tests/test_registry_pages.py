"""The directory's pages: matched scope lines under each result, the institution page's
contact details and quote button, and the home page's sections with live figures."""

from __future__ import annotations

import re

from helpers import make_account, make_institution, sign_in
from tichub.core.models import OrgKind
from tichub.registry.matches import _pattern, highlight

SCOPE = [("GB 31241-2022", "锂离子电池", "过充电保护"),
         ("GB 4943.1-2022", "信息技术设备", "电气强度"),
         ("IEC 62133-2:2017", "Lithium battery <pack>", "Overcharge")]


def _lines(page: str) -> list[str]:
    return re.findall(r'<ul class="matched-lines"[^>]*>(.*?)</ul>', page, re.S)


def test_a_result_shows_the_lines_that_matched_with_the_words_marked(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    make_institution(db, acc, name="上海甲检测技术有限公司", serial=1, scope=SCOPE)
    page = client.get("/institutions", params={"q": "电池"}).text
    [lines] = _lines(page)
    assert "锂离子<mark>电池</mark>" in lines
    assert "信息技术设备" not in lines  # a line without the word is not shown
    by_standard = client.get("/institutions", params={"q": "GB 4943.1"}).text
    [lines] = _lines(by_standard)
    assert "<mark>GB 4943.1</mark>-2022" in lines and "锂离子电池" not in lines
    english = client.get("/institutions", params={"q": "batteries", "lang": "en"}).text
    [lines] = _lines(english)
    # Stemmed words are found in their other forms; the rest is escaped, never markup.
    assert "Lithium <mark>battery</mark> &lt;pack&gt;" in lines


def test_highlight_escapes_everything_but_the_marks() -> None:
    shown = highlight("<b>电池</b> & battery", _pattern(["电池", "batteri"]))
    assert str(shown) == "&lt;b&gt;<mark>电池</mark>&lt;/b&gt; &amp; <mark>battery</mark>"
    assert str(highlight("<i>", None)) == "&lt;i&gt;"


def test_the_institution_page_has_contact_details_and_a_quote_button(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1, scope=SCOPE[:1])
    page = client.get(f"/institutions/{inst}").text
    assert "申请报价" in page
    assert f'href="/market/requests/new?institution={inst}&standard=GB%2031241-2022"' in page
    assert 'data-testid="address"' in page and "机构类型" in page and "检验检测机构" in page
    assert "登记报告" not in page  # only the lab's editors see its report links
    make_account(db, "buyer@firm.cn", kind=OrgKind.enterprise)
    sign_in(client, "buyer@firm.cn")
    assert "登记报告" not in client.get(f"/institutions/{inst}").text
    client.cookies.clear()
    sign_in(client, "lab@example.com")
    mine = client.get(f"/institutions/{inst}?lang=en").text
    assert 'href="/reports/new"' in mine and "Request a quote" in mine
    assert "<dd>lab</dd>" not in mine


def test_the_institution_page_shows_its_phone_e_mail_and_website(client, db) -> None:  # type: ignore[no-untyped-def]
    import pytest
    from pydantic import ValidationError

    from tichub.registry import service as registry
    from tichub.registry.schemas import InstitutionPatch

    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1)
    registry.update_institution(db, acc.principal(db), inst, InstitutionPatch(
        phone="021 5555 0101", email="service@jia.example.cn", website="https://jia.example.cn"))
    page = client.get(f"/institutions/{inst}").text
    assert '<a href="tel:02155550101">021 5555 0101</a>' in page and "电话" in page
    assert 'href="mailto:service@jia.example.cn"' in page
    assert 'href="https://jia.example.cn"' in page and "网站" in page
    api = client.get(f"/api/registry/institutions/{inst}").json()
    assert api["phone"] == "021 5555 0101" and api["website"] == "https://jia.example.cn"
    with pytest.raises(ValidationError):  # never a javascript: link on the page
        InstitutionPatch(website="javascript:alert(1)")


def test_the_home_page_shows_each_section_with_a_live_figure(client, db) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    make_institution(db, acc, name="甲检测", serial=1)
    make_institution(db, acc, name="乙检测", serial=2)
    page = client.get("/").text
    assert 'action="/institutions"' in page  # the search box stays
    for section, href in (("directory", "/institutions"), ("verify", "/verify"),
                          ("market", "/market"), ("pt", "/pt"), ("carbon", "/carbon")):
        m = re.search(rf'data-testid="section-{section}">(.*?)</article>', page, re.S)
        assert m, section
        assert f'href="{href}"' in m.group(1)
    directory = re.search(r'section-directory">.*?class="figure">([\d,]+)<', page, re.S)
    assert directory and directory.group(1) == "2"
    english = client.get("/?lang=en").text
    assert "records in the public transparency log" in english
