"""Limits on what one request may cost: the size of its body, and how many requests a process
works on at once.

Body sizes are Starlette's request-body limiter: the application's default here, and a
route's own ``max_body_size=`` next to the route, for the few that take more (uploads, the
batch registration). It refuses a body whose ``Content-Length`` is over the limit at its first
read, before any byte is read, and counts a streamed (chunked) body as it arrives, stopping
at the limit. This middleware adds what the limiter leaves: it answers a body over every
limit at once, before any work, and renders the limiter's plain-text 413 as problem+json.

Plain ASGI, like core/middleware.py, and for the same reason (no task group per request).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tichub.core.errors import FieldError, Problem, overloaded
from tichub.core.messages import Msg

MiB = 1024 * 1024
# JSON and form posts. The largest legitimate ones beside the batch are a product model
# (200 processes of a few inputs) and a PACT event, both well under this.
DEFAULT_BODY = 1 * MiB
# A multipart form's own bytes around its file: boundaries, part headers, the CSRF field.
FORM_MARGIN = 64 * 1024
# POST /api/reports/batch: 1,000 typical records are 0.9 MiB as UTF-8 JSON, 1.1 MiB with
# every non-ASCII character escaped; 1,000 records with long conclusions, ten standards and
# three signatories are 5.0 and 9.2 MiB (bench/RESULTS.md, "Request body limits").
BATCH_BODY = 10 * MiB
# A product model: an input is about 250 bytes of JSON; 200 processes of 100 inputs, 5 MB.
MODEL_BODY = 8 * MiB
# Scope and institution imports: a CSV of MAX_ROWS (200,000) rows of about 250 bytes.
TABLE_IMPORT = 64 * MiB


def upload(file_bytes: int) -> int:
    """The body limit of a route taking one file of at most ``file_bytes``."""
    return file_bytes + FORM_MARGIN


ProblemResponse = Callable[[Request, Problem], Response]


def body_limit_of(scope: Scope, default: int) -> int:
    """The limit that applies to this request's body: its route's own, else the default."""
    limit = getattr(scope.get("route"), "max_body_size", None)
    return limit if isinstance(limit, int) else default


def too_large(limit: int, *, of: str = "this route's limit") -> Problem:
    return Problem(413, "Content too large", f"body: the request body is larger than {of}, "
                   f"{limit} bytes", [FieldError("body", Msg("is larger than {n} bytes", n=limit))])


class BodyLimits:
    """The default body limit for every route, with problem+json answers."""

    def __init__(self, app: ASGIApp, *, default: int, ceiling: Callable[[], int],
                 problem_response: ProblemResponse) -> None:
        # Starlette's limiter holds the default; a route's own limiter, nested inside,
        # raises or lowers it for that route.
        self.app = RequestBodyLimitMiddleware(app, max_body_size=default)
        self.default = default
        # The largest limit of any route. Starlette builds the middleware at the first
        # request, when every route is in.
        self.ceiling = ceiling()
        self.problem_response = problem_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.ceiling:
            # More than any route takes: refused before routing, reading or signing in.
            await self._answer(scope, receive, send, too_large(
                self.ceiling, of="the largest limit of any route"))
            return
        replacing = False

        async def send_problem(message: Message) -> None:
            nonlocal replacing
            if message["type"] == "http.response.start":
                kind = Headers(raw=message.get("headers", [])).get("content-type", "")
                replacing = message["status"] == 413 and kind.startswith("text/plain")
                if replacing:  # the limiter's own answer
                    await self._answer(scope, receive, send,
                                       too_large(body_limit_of(scope, self.default)))
                    return
            if not replacing:
                await send(message)

        await self.app(scope, receive, send_problem)

    async def _answer(self, scope: Scope, receive: Receive, send: Send,
                      problem: Problem) -> None:
        response = self.problem_response(Request(scope, receive), problem)
        # The client may still be sending: do not keep the connection for the rest.
        response.headers["connection"] = "close"
        await response(scope, receive, send)


class InFlight:
    """At most ``limit`` requests at once in this process; a few more wait a moment for a
    place, and beyond that the answer is 503 with Retry-After at once, rather than an
    unbounded queue in the server (whose requests time out as 500s, or wait minutes).

    Public verification and the log's checkpoint and tiles have their own places, so that a
    burst of slow writes cannot shut out the public, and a flood of look-ups cannot shut out
    the labs."""

    PUBLIC_PREFIXES = ("/verify", "/api/reports/verify", "/api/reports/status", "/log/")

    def __init__(self, app: ASGIApp, *, limit: int, queue: int, wait: float,
                 problem_response: ProblemResponse) -> None:
        self.app = app
        self.lanes = {name: _Lane(limit, queue, wait) for name in ("public", "general")}
        self.retry_after = max(1, round(wait))
        self.problem_response = problem_response

    def _lane(self, scope: Scope) -> _Lane | None:
        path: str = scope.get("path", "")
        if path.startswith("/static/"):
            return None  # files from memory: nothing to bound
        public = scope.get("method") in ("GET", "HEAD") and path.startswith(self.PUBLIC_PREFIXES)
        return self.lanes["public" if public else "general"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self._lane(scope) if scope["type"] == "http" else None
        if lane is None:
            await self.app(scope, receive, send)
            return
        if not await lane.enter():
            response = self.problem_response(Request(scope, receive),
                                              overloaded(self.retry_after))
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            lane.leave()

    def stats(self) -> dict[str, Any]:
        return {name: {"running": lane.running, "waiting": lane.waiting, "refused":
                       lane.refused} for name, lane in self.lanes.items()}


class _Lane:
    """A counting gate with a bounded waiting line and a bounded wait. All on the event loop,
    so the counters need no lock; a place that frees up is handed to the oldest waiter."""

    def __init__(self, limit: int, queue: int, wait: float) -> None:
        self.limit, self.queue, self.wait = limit, queue, wait
        self.running = 0
        self.refused = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def enter(self) -> bool:
        if self.running < self.limit and not self._waiters:
            self.running += 1
            return True
        if len(self._waiters) >= self.queue or self.wait <= 0:
            self.refused += 1
            return False
        place: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(place)
        try:
            await asyncio.wait_for(place, self.wait)  # returns if handed a place meanwhile
            return True
        except TimeoutError:
            self.refused += 1
            return False
        except BaseException:  # the client went away: pass on a place handed to it
            if place.done() and not place.cancelled():
                self.leave()
            raise
        finally:
            if place in self._waiters:
                self._waiters.remove(place)

    def leave(self) -> None:
        while self._waiters:
            place = self._waiters.popleft()
            if not place.done():
                place.set_result(None)  # the place goes on to it: running stays
                return
        self.running -= 1
