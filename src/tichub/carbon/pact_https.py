"""HTTPS only for PACT's host API (/pact): the specification requires it, and a bearer token
or client secret sent in the clear is as good as published.

A request counts as HTTPS when it reached the application over TLS (uvicorn with a
certificate, or uvicorn's own ``--proxy-headers`` having rewritten the scheme), or when it
came from a configured trusted proxy that says ``X-Forwarded-Proto: https``. The header
from anyone else is ignored: a client could write it itself.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/pact"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(entries: Iterable[str]) -> list[Network]:
    """The trusted proxies' networks; a bare address is a network of one."""
    out: list[Network] = []
    for entry in entries:
        text = entry.strip()
        if text:
            try:
                out.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise ValueError(f"TICHUB_TRUSTED_PROXIES: {text!r} is no address or "
                                 "network") from None
    return out


def _trusted(host: str | None, nets: list[Network]) -> bool:
    if not host or not nets:
        return False
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(addr.version == n.version and addr in n for n in nets)


def _forwarded_proto(scope: Scope) -> str:
    for name, value in scope.get("headers") or []:
        if name == b"x-forwarded-proto":
            # A chain of proxies appends; the first is what the client used.
            return value.decode("latin-1").split(",")[0].strip().lower()
    return ""


def is_https(scope: Scope, nets: list[Network]) -> bool:
    if scope.get("scheme") == "https":
        return True
    client = scope.get("client")
    return _trusted(client[0] if client else None, nets) and \
        _forwarded_proto(scope) == "https"


class PactHttpsOnly:
    """Refuses plain-HTTP requests to /pact with the error body the endpoint speaks: RFC
    6749's for the token endpoint, PACT's ``{"code", "message"}`` elsewhere. Refused, not
    redirected: a client that followed a redirect would already have sent its secret in
    the clear."""

    def __init__(self, app: ASGIApp, trusted_proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.nets = networks(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if (path == PREFIX or path.startswith(PREFIX + "/")) and not is_https(scope, self.nets):
            await self._refuse(path, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(path: str, send: Send) -> None:
        message = ("PACT is served over HTTPS only: send this request to the https:// "
                   "address (no credentials or tokens over plain HTTP)")
        body: dict[str, Any] = (
            {"error": "invalid_request", "error_description": message}
            if path.endswith("/auth/token") else {"code": "BadRequest", "message": message})
        data = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": 400, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
            (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": data})
