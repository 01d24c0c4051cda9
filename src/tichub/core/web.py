"""Server-rendered pages: one Jinja2 environment per language, rendering with a CSRF token."""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import SQLAlchemyError

from tichub.core import fields, notify
from tichub.core import flash as flashes
from tichub.core.auth import CSRF_COOKIE, CSRF_FIELD, Principal
from tichub.core.i18n import LOCALE_COOKIE, request_locale, translations
from tichub.core.ids import BEIJING
from tichub.core.messages import Msg, translate
from tichub.core.security import csrf_token

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


@lru_cache
def templates_for(locale: str) -> Jinja2Templates:
    # One environment per language, so concurrent requests never swap each other's catalogue.
    t = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    t.env.add_extension("jinja2.ext.i18n")
    t.env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    t.env.globals["CSRF_FIELD"] = CSRF_FIELD
    t.env.filters["beijing"] = beijing_time
    t.env.filters["yuan"] = yuan
    # {{ value|tr }}: a Msg or an enum member in the reader's language, other text as is.
    t.env.filters["tr"] = lambda value: translate(value, locale)
    t.env.globals["field_label"] = fields.label
    t.env.globals["is_msg"] = lambda value: isinstance(value, Msg)
    return t


def yuan(fen: int | None) -> str:
    """An amount in fen as people read it: 12,800.50."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def beijing_time(moment: datetime) -> str:
    """An instant as people here read it: Beijing time, to the minute."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def csrf_nonce(request: Request) -> str:
    nonce = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_nonce", None)
    if not nonce:
        nonce = secrets.token_urlsafe(24)
        request.state.csrf_nonce = nonce  # the middleware sets the cookie on the response
    return str(nonce)


def render(
    request: Request, name: str, principal: Principal, status_code: int = 200, **context: Any
) -> HTMLResponse:
    locale = request_locale(request, request.app.state.settings.default_locale)
    flashed = flashes.take(request)
    context.update(
        principal=principal,
        locale=locale,
        csrf=csrf_token(request.app.state.secret_key, csrf_nonce(request)),
        flash=translate(flashed, locale) if flashed is not None else None,
        unread=_unread(request, principal),
    )
    response = templates_for(locale).TemplateResponse(
        request, name, context, status_code=status_code)
    if flashes.FLASH_COOKIE in request.cookies:
        response.delete_cookie(flashes.FLASH_COOKIE)
    if request.query_params.get("lang") == locale:
        response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 86400, samesite="lax",
                            httponly=True)
    return response


def _unread(request: Request, principal: Principal) -> int:
    """The header's unread-notifications badge; a page must not fail for want of it."""
    if not principal.authenticated or not principal.roles:
        return 0
    try:
        with request.app.state.sessionmaker() as db:
            return notify.unread_count(db, principal)
    except SQLAlchemyError:  # the badge is a hint; the page matters more
        return 0


def html_to_pdf(html: str) -> bytes:
    """A self-contained page (inline CSS and SVG) as a PDF; nothing is fetched."""
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf())
