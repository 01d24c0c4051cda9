"""The FastAPI application: JSON API under /api, pages everywhere else."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLATimeoutError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from tichub import __version__
from tichub.core import fields
from tichub.core.auth import ANONYMOUS, SESSION_COOKIE, Policy, policy_of
from tichub.core.config import Settings, get_settings
from tichub.core.db import RETRY_AFTER, is_locked, make_engine, make_sessionmaker
from tichub.core.errors import PROBLEM_JSON, Problem, field_errors, overloaded
from tichub.core.i18n import request_locale, translations
from tichub.core.limits import DEFAULT_BODY, BodyLimits, InFlight, body_limit_of, too_large
from tichub.core.messages import Msg, translate
from tichub.core.middleware import FORM_HEADER, HeadersAndCsrf
from tichub.core.web import WEB_DIR, render

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="TICHub API",
        version=__version__,
        description="Testing, inspection and certification platform. Errors are RFC 9457 "
        "problem+json; list endpoints take `page` and `per_page`; every operation states who "
        "may call it under `x-access`, and the largest request body it takes, in bytes, under "
        "`x-body-limit` (413 beyond). Busy: 503 with `Retry-After`.",
        # Served by core.api instead, with vendored assets and a declared policy.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    engine = make_engine(settings.database_url, echo=settings.sql_echo,
                         write_wait=settings.write_wait)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.secret_key = settings.resolved_secret_key()
    from tichub.reports.service import Log

    app.state.log = Log.from_settings(settings)

    _install_error_handlers(app)
    _install_middleware(app, settings)

    from tichub.carbon import api as carbon_api
    from tichub.carbon import cbam_api, cbam_views, olca_api, pact_api, pact_views
    from tichub.carbon import views as carbon_views
    from tichub.core import api as core_api
    from tichub.core import views as core_views
    from tichub.market import api as market_api
    from tichub.market import views as market_views
    from tichub.pt import api as pt_api
    from tichub.pt import views as pt_views
    from tichub.registry import api as registry_api
    from tichub.registry import views as registry_views
    from tichub.reports import api as reports_api
    from tichub.reports import views as reports_views
    from tichub.supervision.routes import routers as supervision_routers
    from tichub.web import home

    # Routing tries routers in order: public verification, the busiest call, goes first.
    routers = [reports_api.router, reports_api.log_router, core_api.router, registry_api.router,
               pt_api.router, market_api.router, carbon_api.router, cbam_api.router,
               olca_api.router, pact_api.router, home.router, core_views.router,
               registry_views.router, reports_views.router, pt_views.router,
               market_views.router, carbon_views.router, cbam_views.router, pact_views.router,
               *supervision_routers]
    for router in routers:
        app.include_router(router)
    app.state.routers = routers
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    app.openapi = lambda: _openapi_with_access(app)  # type: ignore[method-assign]
    return app


def after_checkpoint() -> list[Callable[[Session], object]]:
    """What the background integrator runs after each checkpoint it signs."""
    from tichub.supervision.inspections.service import draw_ready

    # A frozen inspection plan is drawn as soon as the checkpoint that seeds it is signed,
    # without anyone pressing a button.
    return [draw_ready]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from tichub.reports.integrator import Integrator

    every = app.state.settings.log_integrate_every
    integrator = Integrator(app.state.sessionmaker, app.state.log, every,
                            app.state.settings.log_witness_urls,
                            after_checkpoint=after_checkpoint()) if every > 0 else None
    if integrator:
        integrator.start()
    from tichub.core.notify import Mailer

    mailer = Mailer(app.state.sessionmaker, app.state.settings) \
        if app.state.settings.smtp_host else None
    if mailer:
        mailer.start()
    from tichub.carbon.pact_events import Sender

    # Answers owed to customers' PACT requests, including those a restart left behind.
    sender = Sender(app.state.sessionmaker, app.state.secret_key)
    app.state.pact_sender = sender
    sender.start()
    # What start-up built lives as long as the process: out of the collector's way, so
    # that its full collections (pauses in the slowest requests) walk only request garbage.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        if integrator:
            integrator.stop()
        if mailer:
            mailer.stop()
        sender.stop()


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or "text/html" not in request.headers.get(
        "accept", "")


def _from_form_script(request: Request) -> bool:
    """A form that app.js sent with fetch: it shows the refusal beside the fields at fault,
    in the reader's language, and keeps what was typed."""
    return request.headers.get(FORM_HEADER) == "1"


def _problem_for_page(request: Request, problem: Problem) -> Response:
    locale = request_locale(request, request.app.state.settings.default_locale)
    tr = translations(locale)
    path = request.url.path
    body = {"status": problem.status, "title": tr.gettext(problem.title),
            # With field errors, the detail only repeats them with the fields' names.
            "detail": translate(problem.detail, locale)
            if problem.detail and not problem.errors else "",
            "errors": [{"field": e.field, "row": e.row,
                        "label": translate(fields.label(e.field, path), locale)
                        if fields.label(e.field, path) else "",
                        "message": translate(e.message, locale)} for e in problem.errors]}
    headers = {"Retry-After": str(problem.retry_after)} if problem.retry_after else {}
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON,
                        headers=headers)


def _problem_response(request: Request, problem: Problem) -> Response:
    if _from_form_script(request):
        return _problem_for_page(request, problem)
    if problem.status == 401 and request.method in ("GET", "HEAD") and not _wants_json(request):
        # A page behind sign-in: sign in, then come back to it.
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if _wants_json(request):
        headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else {}
        if problem.retry_after is not None:
            headers["Retry-After"] = str(problem.retry_after)
        return JSONResponse(problem.as_dict(instance=request.url.path), status_code=problem.status,
                            media_type=PROBLEM_JSON, headers=headers)
    principal = getattr(request.state, "principal", ANONYMOUS)
    page = render(request, "error.html", principal, status_code=problem.status, problem=problem)
    if problem.retry_after is not None:
        page.headers["Retry-After"] = str(problem.retry_after)
    return page


def _install_error_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return _problem_response(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errs = field_errors(exc.errors(), body=exc.body)
        detail = "; ".join(f"{e.field}: {e.message}" for e in errs)
        return _problem_response(request, Problem(422, "Invalid input", detail, errs))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 413:  # the body limiter, on a streamed body
            response = _problem_response(request, too_large(body_limit_of(request.scope,
                                                                          DEFAULT_BODY)))
            response.headers["connection"] = "close"  # rather than read the rest
            return response
        titles = {400: "Bad request", 404: "Not found", 405: "Method not allowed",
                  401: "Unauthorized", 403: "Forbidden"}
        details = {404: Msg("There is no page at this address"),
                   405: Msg("This address does not take that kind of request")}
        detail = details.get(exc.status_code) or str(exc.detail or "")
        return _problem_response(request, Problem(exc.status_code,
                                                  titles.get(exc.status_code, "Error"), detail))

    # The safety net, for what the use cases did not check. A constraint the database
    # enforced is still a conflict with stored data, not a server fault.
    async def on_integrity(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, IntegrityError)
        log.warning("%s %s: integrity error: %s", request.method, request.url.path, exc.orig)
        return _problem_response(request, Problem(409, "Conflict", _constraint(exc)))

    # Overload is an answer: a full pool or SQLite's lock (held by another process past its
    # busy timeout) means "not now", and the transaction was rolled back whole.
    async def on_busy(request: Request, exc: Exception) -> Response:
        if isinstance(exc, OperationalError) and not is_locked(exc):
            return await on_error(request, exc)
        log.warning("%s %s: overloaded: %s", request.method, request.url.path, exc)
        return _problem_response(request, overloaded(RETRY_AFTER, Msg("the database is busy")))

    # Starlette gives the Exception handler to ServerErrorMiddleware, which answers with it and
    # then re-raises for the server to see; the body says nothing of the internals.
    async def on_error(request: Request, exc: Exception) -> Response:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _problem_response(request, Problem(
            500, "Internal error", Msg("the server failed; the fault is logged")))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(IntegrityError, on_integrity)
    app.add_exception_handler(SQLATimeoutError, on_busy)
    app.add_exception_handler(OperationalError, on_busy)
    app.add_exception_handler(Exception, on_error)


def _constraint(exc: IntegrityError) -> Msg:
    """Which constraint refused the change, never the values (they may be others' data)."""
    name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)  # PostgreSQL
    if name:
        return Msg("the change conflicts with stored data ({which})", which=name)
    first = str(exc.orig).splitlines()[0] if exc.orig is not None else ""
    if "constraint failed" in first:  # SQLite names the columns only
        return Msg("the change conflicts with stored data ({which})", which=first)
    return Msg("the change conflicts with stored data")


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    # The last added runs first: headers on every answer, then the bound on requests at
    # once (the cheapest refusal), then the body limits.
    app.add_middleware(BodyLimits, default=DEFAULT_BODY, ceiling=_largest_body_limit(app),
                       problem_response=_problem_response)
    app.add_middleware(InFlight, limit=settings.max_in_flight, queue=settings.max_queued,
                       wait=settings.queue_wait, problem_response=_problem_response)
    app.add_middleware(HeadersAndCsrf, cookie_secure=settings.cookie_secure,
                       problem_response=_problem_response)
    from tichub.carbon.pact_https import PactHttpsOnly

    # Outermost: a plain-HTTP PACT request is refused before anything reads it.
    app.add_middleware(PactHttpsOnly, trusted_proxies=settings.trusted_proxies)


def _largest_body_limit(app: FastAPI) -> Callable[[], int]:
    """The largest body any route takes, once the routes are in (after the middleware)."""
    return lambda: max([DEFAULT_BODY, *(r.max_body_size for r in api_routes(app)
                                        if r.max_body_size is not None)])


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every route the application serves, static files apart: those of the platform's
    routers (FastAPI keeps included routers whole in ``app.routes``) and any added to the
    application itself."""
    routes = [r for router in app.state.routers for r in router.routes]
    return [r for r in [*routes, *app.routes] if isinstance(r, APIRoute)]


# API clients send a token; the pages' own calls ride on the session cookie (and then
# need the CSRF header for writes).
SECURITY_SCHEMES: dict[str, Any] = {
    "apiToken": {"type": "http", "scheme": "bearer", "bearerFormat": "tichub_…",
                 "description": "An API token (`tichub token create`, or the API), "
                                "sent as `Authorization: Bearer tichub_…`; its scopes bound "
                                "what it may do."},
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                      "description": "The browser session set by signing in at /login; "
                                     "writes also need the X-CSRF-Token header."},
}


def _security(policy: Policy) -> list[dict[str, list[str]]]:
    """Who may call, in OpenAPI's terms: anyone (the empty requirement first: a credential
    is optional), or either credential."""
    if policy.who == "public":
        return [{}, {"apiToken": []}, {"sessionCookie": []}]
    return [{"apiToken": []}, {"sessionCookie": []}]


def _openapi_with_access(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        policies = [p for d in route.dependant.dependencies
                    if d.call is not None and (p := policy_of(d.call))]
        for method in route.methods or ():
            op = schema["paths"].get(route.path_format, {}).get(method.lower())
            if op is not None and policies:
                op["x-access"] = policies[0].describe()
                op["security"] = _security(policies[0])
            if op is not None and method not in ("GET", "HEAD"):
                op["x-body-limit"] = route.max_body_size or DEFAULT_BODY  # bytes
    app.openapi_schema = schema
    return schema
