"""Plain ASGI middleware: security headers, the CSRF cookie, and refusing control
characters in the path or query. Plain ASGI, not Starlette's BaseHTTPMiddleware, because
that one runs every request in its own task group, which cost more than the public
verification endpoint's own work."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tichub.core.auth import CSRF_COOKIE
from tichub.core.errors import Problem, invalid
from tichub.core.schemas import text_fault

# Scripts and styles only from our own files: no inline <script>, on* attributes, <style>
# or style="" (templates keep behaviour in static/app.js and looks in static/app.css).
# ECharts draws on canvas and htmx's own indicator style is off (base.html), so neither
# needs 'unsafe-inline'; nothing needs eval. data: images are Swagger UI's CSS icons.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
# app.js sends forms with fetch and this header: it is answered in JSON, a redirect as
# {"redirect": url} (fetch would follow it and lose the page's flash message), a refusal as
# problem+json in the reader's language.
FORM_HEADER = "x-tichub-form"

# Only when cookies are secure, i.e. the platform is served over HTTPS: a year, the usual.
HSTS = (b"strict-transport-security", b"max-age=31536000")


def request_text_fault(scope: Scope) -> tuple[str, str] | None:
    """(field, why) for the first path or query text that cannot be stored, else None."""
    texts = [("path", scope.get("path", ""))]  # ASGI gives it decoded
    query = scope.get("query_string", b"").decode("latin-1")
    if query:
        texts += parse_qsl(query, keep_blank_values=True)
    return next(((name, f) for name, value in texts if (f := text_fault(value))), None)


class HeadersAndCsrf:
    def __init__(self, app: ASGIApp, *, cookie_secure: bool,
                 problem_response: Callable[[Request, Problem], Response]) -> None:
        self.app = app
        self.cookie_secure = cookie_secure
        self.problem_response = problem_response
        self.headers = SECURITY_HEADERS + ((HSTS,) if cookie_secure else ())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        from_form_script = (FORM_HEADER.encode(), b"1") in scope.get("headers", ())
        redirect_body: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.body" and redirect_body:
                if redirect_body[0]:
                    await send({"type": "http.response.body", "body": redirect_body[0]})
                    redirect_body[0] = b""
                return  # the redirect's own (empty) body is replaced
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if from_form_script and message["status"] in (301, 302, 303, 307, 308):
                    body = json.dumps({"redirect": headers.get("location", "/")}).encode()
                    redirect_body.append(body)
                    message["status"] = 200
                    del headers["location"]
                    headers["content-type"] = "application/json"
                    headers["content-length"] = str(len(body))
                for name, value in self.headers:
                    if name.decode() not in headers:
                        headers.raw.append((name, value))
                nonce = scope["state"].get("csrf_nonce")
                if nonce and CSRF_COOKIE not in Request(scope).cookies:
                    cookie = Response()
                    cookie.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="strict",
                                      secure=self.cookie_secure, max_age=30 * 86400)
                    headers.raw.extend(h for h in cookie.raw_headers if h[0] == b"set-cookie")
            await send(message)

        # A NUL in an id or a search reaches the database otherwise, which PostgreSQL refuses.
        fault = request_text_fault(scope)
        if fault:
            response = self.problem_response(Request(scope, receive), invalid(*fault))
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
