"""Pages for everyone: home, sign-in and sign-out, and the account page."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tichub.core import errors, service
from tichub.core.auth import DB, SESSION_COOKIE, Public, SignedIn
from tichub.core.figures import home_figures
from tichub.core.throttle import Throttled
from tichub.core.web import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only local paths, so the sign-in form cannot be used to redirect elsewhere.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DB, principal: Public) -> HTMLResponse:
    """The search box, and each section of the platform with a live figure."""
    return render(request, "home.html", principal, figures=home_figures(db))


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, principal: Public, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", principal, next=_safe_next(next))


@router.post("/login", response_model=None)
def login(
    request: Request, db: DB, principal: Public,
    email: Annotated[str, Form()], password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    # The peer's address; behind a reverse proxy that is the proxy's (see the README).
    address = request.client.host if request.client else "unknown"
    try:
        user = service.authenticate(db, email, password, address)
    except Throttled as exc:
        refused = render(request, "login.html", principal, status_code=exc.status,
                         next=_safe_next(next), email=email, locked=exc.locked,
                         wait_seconds=exc.retry_after,
                         wait_minutes=math.ceil(exc.retry_after / 60))
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    except errors.Problem as exc:
        return render(request, "login.html", principal, status_code=exc.status,
                      next=_safe_next(next), error=exc.detail, email=email)
    settings = request.app.state.settings
    token = service.start_session(db, user, settings.session_hours, address)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=settings.cookie_secure, max_age=settings.session_hours * 3600)
    return response


@router.post("/logout")
def logout(request: Request, db: DB, principal: SignedIn) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_session(db, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, db: DB, principal: SignedIn) -> HTMLResponse:
    orgs = [(org, principal.roles[org.id]) for org in service.my_organisations(db, principal)]
    return render(request, "account.html", principal, orgs=orgs)
