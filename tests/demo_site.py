"""The demo, seeded small into a temporary database, and a crawl of its pages as each demo
user sees them: the ground both page walks (the 390 px width test and the locale walk)
stand on."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

from fastapi import FastAPI

from conftest import LOG_KEY, LOG_ORIGIN
from tichub.app import api_routes, create_app
from tichub.core.config import Settings
from tichub.demo import seed as demo

SCALE = 0.1
# Whom the walks sign in as (None: nobody), with the pages each lands on first.
USERS: list[str | None] = [None, "company@demo.tichub.cn", "lab@demo.tichub.cn",
                           "regulator@demo.tichub.cn", "operator@demo.tichub.cn"]
PASSWORD = demo.DEMO_PASSWORD
LANDINGS = ["/", "/institutions", "/verify", "/market", "/pt", "/carbon", "/account",
            "/notifications", "/login", "/market/orders", "/market/vouchers", "/market/experts",
            "/market/requests/new", "/pt/history", "/carbon/reviews", "/carbon/models/new",
            "/carbon/cbam", "/carbon/cbam/new", "/carbon/cbam/defaults",
            "/carbon/cbam/communications", "/carbon/pact"]
# Pages one reaches by a form, not a link, or that only signed-in users are shown.
KNOWN_FORMS = ["/institutions?q=%E7%94%B5%E6%B1%A0", "/verify?number=NOPE-0001",
               "/no-such-page"]
# Not pages: files, the API, the log's tiles, sign-out.
SKIP = re.compile(r"^/(api|static|log|logout|favicon\.ico)(/|$)|\.(pdf|csv|json|zip|xml|svg|png)$|"
                  r"/(export|download|pdf|bundle)(/|$)")
MAX_PAGES = 200


def settings_for(path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{path}", secret_key="walk-secret-key",
                    cookie_secure=False, log_origin=LOG_ORIGIN, log_key=LOG_KEY,
                    log_integrate_every=0)


def seeded(base: Path, template: Path) -> Path:
    """A copy of the seeded demo database, seeding it once per test run."""
    seeded_db = base / "demo-site.db"
    if not seeded_db.exists():
        work = base / "demo-site.seeding.db"
        shutil.copy(template, work)
        app = create_app(settings_for(work))
        with app.state.sessionmaker() as db:
            demo.seed_everything(db, app.state.log, scale=SCALE, rng_seed=2027)
        app.state.engine.dispose()
        work.rename(seeded_db)
    return seeded_db


def route_of(app: FastAPI, path: str) -> str | None:
    """The route pattern a path belongs to (/market/orders/{order_id}), or None."""
    for route in api_routes(app):
        if "GET" in (route.methods or ()) and route.path_regex.match(path):
            return route.path_format
    return None


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links(html: str, base: str) -> list[str]:
    """The page's internal links, as paths with their query."""
    parser = _Links()
    parser.feed(html)
    out = []
    for href in parser.hrefs:
        url = urlsplit(urldefrag(urljoin(base, href))[0])
        if url.netloc and url.netloc != urlsplit(base).netloc:
            continue
        query = "&".join(p for p in url.query.split("&") if p and not p.startswith("lang="))
        out.append(url.path + (f"?{query}" if query else ""))
    return out


@dataclass
class Page:
    user: str | None
    url: str
    route: str


@dataclass
class Crawl:
    pages: list[Page] = field(default_factory=list)
    seen_routes: set[str] = field(default_factory=set)


def crawl(app: FastAPI, get: Callable[[str], tuple[int, str, str]], user: str | None,
          into: Crawl, extra: Iterable[str] = ()) -> None:
    """Follows internal links from the landing pages, keeping one URL per route pattern
    (over all users: the first to reach a pattern keeps it). ``get(url)`` answers status,
    content type and body."""
    queue = [*LANDINGS, *extra]
    visited: set[str] = set()
    while queue and len(visited) < MAX_PAGES:
        url = queue.pop(0)
        path = url.split("?")[0]
        if url in visited or SKIP.search(path):
            continue
        route = route_of(app, path) or path
        # Each pattern once; the known forms' pages (searches) count on their own.
        key = url if url in extra else route
        # A landing page is read for its links by every user, as each sees other links.
        if key in into.seen_routes and url not in LANDINGS:
            continue
        visited.add(url)
        status, kind, body = get(url)
        if "text/html" not in kind:
            continue
        if key not in into.seen_routes:
            into.seen_routes.add(key)
            into.pages.append(Page(user, url, route))
        if status < 400:
            queue.extend(u for u in links(body, "http://testserver" + url) if u not in visited)
