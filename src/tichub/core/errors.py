"""One error type for the whole platform, rendered as RFC 9457 problem+json."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PROBLEM_JSON = "application/problem+json"


@dataclass
class FieldError:
    field: str
    message: str
    row: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.row is not None:
            out["row"] = self.row
        return out


@dataclass
class Problem(Exception):
    status: int
    title: str
    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)
    type: str = "about:blank"

    def __str__(self) -> str:
        if self.errors:
            first = self.errors[0]
            where = f"row {first.row}, " if first.row is not None else ""
            more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            return f"{self.title}: {where}{first.field}: {first.message}{more}"
        return f"{self.title}: {self.detail}" if self.detail else self.title

    def as_dict(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        return body


WHOLE_MODEL_CHECK = re.compile(r"^Value error, ([a-z_][a-z0-9_.]*): (.+)$", re.S)


def field_errors(details: Iterable[Mapping[str, Any]], row: int | None = None) -> list[FieldError]:
    """Pydantic's error list as field errors, without the request part ("body", "query")."""
    out = []
    for e in details:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "form")]
        msg = str(e.get("msg", "invalid"))
        # A check across fields names its field first ("valid_until: …"): point at it.
        named = WHOLE_MODEL_CHECK.match(msg)
        if named:
            loc, msg = [*loc, named[1]], named[2]
        out.append(FieldError(".".join(loc) or "request", msg, row))
    return out


def invalid(field_name: str, message: str, row: int | None = None) -> Problem:
    return Problem(
        422,
        "Invalid input",
        detail=f"{field_name}: {message}",
        errors=[FieldError(field_name, message, row)],
    )


def not_found(what: str) -> Problem:
    return Problem(404, "Not found", detail=f"{what} not found")


def forbidden(detail: str = "You may not do this") -> Problem:
    return Problem(403, "Forbidden", detail=detail)


def unauthorized(detail: str = "Sign in or send an API token") -> Problem:
    return Problem(401, "Unauthorized", detail=detail)


def conflict(field_name: str, message: str) -> Problem:
    return Problem(409, "Conflict", detail=f"{field_name}: {message}",
                   errors=[FieldError(field_name, message)])


def overloaded(retry_after: int) -> Problem:
    """The server is busy: the answer carries ``Retry-After: retry_after`` (seconds)."""
    return Problem(503, "Service unavailable",
                   detail=f"the server is busy; retry after {retry_after} s")
