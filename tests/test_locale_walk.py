"""Every page the demo's users reach, in Chinese and in English, and every form on them sent
empty: no message id without its Chinese, no developer's word (a snake_case identifier, a
raw status) in what people read, and refusals in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from demo_site import KNOWN_FORMS, PASSWORD, USERS, Crawl, Page, crawl, seeded, settings_for
from helpers import csrf_from
from tichub.app import create_app
from tichub.core import i18n

SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]*[a-z0-9]\b")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Elements whose text is code or raw data by declaration, and elements never shown.
RAW_TAGS = {"code", "kbd", "samp", "script", "style", "template", "pre"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Visible(HTMLParser):
    """The text a person reads: element text outside code and [data-raw], plus the
    placeholders, titles and labels of controls."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []  # per open element: is it raw?
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        raw = (bool(self.stack) and self.stack[-1]) or tag in RAW_TAGS or "data-raw" in a \
            or "hidden" in a
        if not raw:
            for name in ("placeholder", "title", "aria-label", "alt"):
                if a.get(name):
                    self.parts.append(str(a[name]))
        if tag not in VOID:
            self.stack.append(raw)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]) and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


class _Forms(HTMLParser):
    """The page's forms sent by app.js (post, not data-native) that have a field to fill:
    their action and hidden fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str], bool]] = []
        self.current: tuple[str, dict[str, str], list[bool]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            native = "data-native" in a or "hx-post" in a or a.get("target")
            post = (a.get("method") or "get").lower() == "post"
            self.current = (str(a.get("action") or ""), {}, [bool(post and not native)])
        elif self.current is not None and tag in ("input", "select", "textarea"):
            kind = (a.get("type") or "text").lower()
            if kind == "hidden" and a.get("name"):
                self.current[1][str(a["name"])] = str(a.get("value") or "")
            elif kind not in ("submit", "button", "hidden") and "hidden" not in a:
                self.current[2].append(True)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.current is not None:
            action, hidden, flags = self.current
            # Sent by app.js, and with something to type (not a lone action button).
            if flags[0] and len(flags) > 1:
                self.forms.append((action, hidden, True))
            self.current = None


def forms(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Forms()
    parser.feed(html)
    return [(action, hidden) for action, hidden, _ in parser.forms]


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory,
         sqlite_template: Path) -> Iterator[tuple[TestClient, Crawl, dict[str | None, str]]]:
    db = seeded(tmp_path_factory.getbasetemp(), sqlite_template)
    copy = tmp_path_factory.mktemp("locale-walk") / "walk.db"
    copy.write_bytes(db.read_bytes())
    app = create_app(settings_for(copy))
    pages = Crawl()
    cookies: dict[str | None, str] = {}
    with TestClient(app) as client:
        for user in USERS:
            client.cookies.clear()
            if user:
                login = client.get("/login")
                r = client.post("/login", data={"email": user, "password": PASSWORD,
                                                "csrf_token": csrf_from(login.text), "next": "/"},
                                follow_redirects=False)
                assert r.status_code == 303, f"{user} could not sign in"
                cookies[user] = client.cookies.get("tichub_session") or ""

            def get(url: str) -> tuple[int, str, str]:
                # Not followed: a page that sends one to sign in is not that page.
                r = client.get(url, follow_redirects=False)
                return r.status_code, r.headers.get("content-type", ""), r.text

            crawl(app, get, user, pages, extra=KNOWN_FORMS)
        yield client, pages, cookies
    app.state.engine.dispose()


def _as(client: TestClient, cookies: dict[str | None, str], page: Page, locale: str) -> None:
    client.cookies.clear()
    client.cookies.set("tichub_lang", locale)
    if page.user:
        client.cookies.set("tichub_session", cookies[page.user])


def test_the_crawl_reaches_every_part_of_the_platform(walk) -> None:  # type: ignore[no-untyped-def]
    _, pages, _ = walk
    routes = {p.route for p in pages.pages}
    for expected in ("/institutions/{institution_id}", "/market", "/pt", "/carbon",
                     "/notifications", "/account"):
        assert expected in routes, f"{expected}: {sorted(routes)}"
    assert len(routes) >= 25, f"{len(routes)}: {sorted(routes)}"


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_page_speaks_the_readers_language(walk, locale: str) -> None:  # type: ignore[no-untyped-def]
    client, pages, cookies = walk
    faults: list[str] = []
    i18n.MISSES.clear()
    i18n.record_misses = True
    try:
        for page in pages.pages:
            _as(client, cookies, page, locale)
            before = {m for m in i18n.MISSES if m[0] == "zh"}
            r = client.get(page.url)
            new = sorted({m for m in i18n.MISSES if m[0] == "zh"} - before)
            if new:
                faults.append(f"{page.url} ({page.user}): untranslated "
                              + "; ".join(f"{c}|{m}" if c else m for _, c, m in new))
            words = sorted(set(SNAKE.findall(visible_text(r.text))))
            if words:
                faults.append(f"{page.url} ({page.user}): developer words {words}")
    finally:
        i18n.record_misses = False
    assert not faults, f"{len(faults)} pages fail in {locale}:\n" + "\n".join(faults)


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_form_sent_empty_is_refused_in_the_readers_words(walk, locale: str) -> None:  # type: ignore[no-untyped-def]
    client, pages, cookies = walk
    faults: list[str] = []
    sent: set[tuple[str | None, str]] = set()
    for page in pages.pages:
        _as(client, cookies, page, locale)
        html = client.get(page.url).text
        for action, hidden in forms(html):
            target = action or page.url
            key = (page.user, re.sub(r"[0-9A-Z]{26}", "{id}", target))
            if key in sent:
                continue
            sent.add(key)
            r = client.post(target, data=hidden, headers={"X-TICHub-Form": "1",
                                                          "Accept": "application/json"},
                            follow_redirects=False)
            if r.status_code < 400 or "json" not in r.headers.get("content-type", ""):
                continue
            body = r.json()
            texts = [str(body.get("title", "")), str(body.get("detail", ""))]
            for e in body.get("errors") or []:
                texts += [str(e.get("message", "")), str(e.get("label", ""))]
            words = sorted({w for t in texts for w in SNAKE.findall(t)})
            foreign = [t for t in texts if t and locale == "zh" and not CJK.search(t)]
            if words or foreign:
                faults.append(f"{target} on {page.url} ({page.user}): "
                              f"{words or ''} {foreign or ''}".strip())
    assert sent, "no form was found to send"
    assert not faults, f"{len(faults)} forms fail in {locale}:\n" + "\n".join(faults)
