"""Security headers on every answer: a Content-Security-Policy without inline scripts or
styles, nosniff, the referrer policy, and HSTS when cookies are secure (HTTPS). The
templates keep to the policy (the browser test, test_csp_browser, shows it in Chromium)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tichub.app import create_app
from tichub.core.web import WEB_DIR

TEMPLATES = WEB_DIR / "templates"
# Rendered to PDF by WeasyPrint, never served to a browser.
PDF_ONLY = {"print.html"}


def test_pages_and_the_api_send_the_policy(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/login", "/api/docs", "/api/openapi.json", "/no-such-page"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                          "object-src 'none'", "frame-ancestors 'none'"):
            assert directive in csp, (path, directive)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in r.headers  # cookies not secure here


def test_hsts_when_cookies_are_secure(settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings.model_copy(update={"cookie_secure": True}))
    try:
        with TestClient(app, base_url="https://testserver") as c:
            assert c.get("/").headers["strict-transport-security"] == "max-age=31536000"
    finally:
        app.state.engine.dispose()


def test_templates_have_no_inline_scripts_handlers_or_styles() -> None:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.name in PDF_ONLY:
            continue
        text = path.read_text(encoding="utf-8")
        for what, pattern in (("inline <script>", r"<script(?![^>]*\bsrc=)[^>]*>"),
                              ("<style>", r"<style\b"), ("style attribute", r"\sstyle="),
                              ("event handler", r"\son[a-z]+\s*="), ("hx-on", r"\shx-on"),
                              ("javascript: URL", r"javascript:")):
            if re.search(pattern, text, re.I):
                found.append(f"{path.relative_to(TEMPLATES)}: {what}")
    assert found == []


def test_the_api_docs_start_from_a_file() -> None:
    from tichub.core import api

    assert (WEB_DIR / "static" / "api-docs.js").is_file()
    assert Path(api.__file__).read_text().count("<script>") == 0
