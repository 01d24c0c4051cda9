"""Pages for everyone: home, sign-in and sign-out, and the account page."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from tichub.core import errors, fields, notify, service
from tichub.core.auth import DB, SESSION_COOKIE, Public, SignedIn
from tichub.core.flash import flash
from tichub.core.i18n import request_locale
from tichub.core.messages import Msg
from tichub.core.throttle import Throttled
from tichub.core.web import WEB_DIR, render

router = APIRouter(include_in_schema=False)

fields.register({
    "current_password": Msg("Current password"),
    "new_password": Msg("New password"),
    "new_password_again": Msg("New password again"),
})


def _safe_next(target: str | None) -> str:
    # Only local paths, so the sign-in form cannot be used to redirect elsewhere.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


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


@router.post("/account/password", response_model=None)
def change_password(
    request: Request, db: DB, principal: SignedIn,
    current_password: Annotated[str, Form()] = "", new_password: Annotated[str, Form()] = "",
    new_password_again: Annotated[str, Form()] = "",
) -> Response:
    service.change_password(db, principal, current=current_password, new=new_password,
                            again=new_password_again,
                            keep_session=request.cookies.get(SESSION_COOKIE))
    return flash(request, RedirectResponse("/account", status_code=303),
                 Msg("Password changed. Your other sessions were signed out."))


@router.get("/notifications", response_class=HTMLResponse)
def notifications(request: Request, db: DB, principal: SignedIn) -> HTMLResponse:
    items = notify.my_inbox(db, principal)
    names = service.organisation_names(db, {n.org_id for n in items})
    locale = request_locale(request, request.app.state.settings.default_locale)
    return render(request, "notifications.html", principal, items=items, org_names=names,
                  several_orgs=len(principal.roles) > 1,
                  title_of=lambda n: notify.title_of(n, locale))


@router.post("/notifications/read-all", response_model=None)
def read_all(request: Request, db: DB, principal: SignedIn) -> Response:
    count = notify.mark_all_read(db, principal)
    return flash(request, RedirectResponse("/notifications", status_code=303),
                 Msg("All notifications marked read ({count})", count=count))


@router.post("/notifications/{notification_id}/read", response_model=None)
def read_one(request: Request, notification_id: str, db: DB, principal: SignedIn) -> Response:
    n = notify.mark_read(db, principal, notification_id)
    # Reading a notification usually means going where it points.
    target = n.link if n.link.startswith("/") and not n.link.startswith("//") else "/notifications"
    if request.query_params.get("stay"):
        target = "/notifications"
    return flash(request, RedirectResponse(target, status_code=303),
                 Msg("Notification marked read"))


@router.get("/favicon.ico", response_model=None)
def favicon(principal: Public) -> Response:
    # Browsers ask for /favicon.ico before reading the page's <link rel="icon">.
    return FileResponse(WEB_DIR / "static" / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})
