"""One error type for the whole platform, rendered as RFC 9457 problem+json."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tichub.core.messages import Msg

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
    retry_after: int | None = None  # seconds, sent as Retry-After (503, 429)

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


def field_errors(details: Iterable[Mapping[str, Any]], row: int | None = None,
                 body: Any = None) -> list[FieldError]:
    """Pydantic's error list as field errors, without the request part ("body", "query").
    ``body`` is the request's body as read, for placing a JSON syntax error in it."""
    out = []
    for e in details:
        if e.get("type") == "json_invalid":
            out.append(FieldError("body", _malformed_json(e, body), row))
            continue
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "form")]
        msg = str(e.get("msg", "invalid"))
        at = row
        # An item of a batch ("records": [...]) is named by its row, from 1, as the batch's
        # own checks name it.
        if len(loc) >= 2 and loc[0] == "records" and loc[1].isdigit():
            at, loc = int(loc[1]) + 1, loc[2:]
        # A check across fields names its field first ("valid_until: …"): point at it.
        named = WHOLE_MODEL_CHECK.match(msg)
        if named:
            loc, msg = [*loc, named[1]], named[2]
        out.append(FieldError(".".join(loc) or "request",
                              msg if named else _in_words(e, msg), at))
    return out


def _in_words(error: Mapping[str, Any], english: str) -> str:
    """Pydantic's usual complaints as messages people read in their language; others (the
    models' own checks) as they are."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    simple = {
        "missing": Msg("is required"),
        "int_parsing": Msg("must be a whole number"),
        "int_from_float": Msg("must be a whole number"),
        "float_parsing": Msg("must be a number"),
        "decimal_parsing": Msg("must be a number"),
        "bool_parsing": Msg("must be yes or no"),
        "date_parsing": Msg("must be a date (YYYY-MM-DD)"),
        "date_from_datetime_parsing": Msg("must be a date (YYYY-MM-DD)"),
        "datetime_parsing": Msg("must be a date and time"),
        "datetime_from_date_parsing": Msg("must be a date and time"),
        "enum": Msg("is not one of the choices"),
        "literal_error": Msg("is not one of the choices"),
        "string_type": Msg("must be text"),
        "list_type": Msg("must be a list"),
        "float_type": Msg("must be a number"),
        "int_type": Msg("must be a whole number"),
        "finite_number": Msg("must be a number"),
        "date_type": Msg("must be a date (YYYY-MM-DD)"),
        "datetime_type": Msg("must be a date and time"),
    }
    if kind in simple:
        return simple[kind]
    bounds = {"string_too_short": Msg("must have at least {n} characters",
                                      n=ctx.get("min_length")),
              "string_too_long": Msg("must have at most {n} characters", n=ctx.get("max_length")),
              "greater_than_equal": Msg("must be at least {n}", n=ctx.get("ge")),
              "greater_than": Msg("must be more than {n}", n=ctx.get("gt")),
              "less_than_equal": Msg("must be at most {n}", n=ctx.get("le")),
              "less_than": Msg("must be less than {n}", n=ctx.get("lt")),
              "too_short": Msg("needs at least {n}", n=ctx.get("min_length")),
              "too_long": Msg("takes at most {n}", n=ctx.get("max_length"))}
    return bounds.get(kind, english)


def _malformed_json(error: Mapping[str, Any], body: Any) -> str:
    """Where the body stops being JSON, as a person counts it (FastAPI gives an offset)."""
    reason = str((error.get("ctx") or {}).get("error", "not JSON"))
    loc = error.get("loc", ())
    offset = loc[-1] if loc and isinstance(loc[-1], int) else None
    if offset is None or not isinstance(body, str):
        return f"malformed JSON: {reason}"
    line = body.count("\n", 0, offset) + 1
    column = offset - body.rfind("\n", 0, offset)
    return f"malformed JSON at line {line}, column {column}: {reason}"


def invalid(field_name: str, message: str, row: int | None = None) -> Problem:
    return Problem(
        422,
        "Invalid input",
        detail=f"{field_name}: {message}",
        errors=[FieldError(field_name, message, row)],
    )


def not_found(what: str) -> Problem:
    """``what`` as people call it: a ``Msg`` where it is shown to them."""
    return Problem(404, "Not found", detail=Msg("{what} not found", what=what))


def forbidden(detail: str | None = None) -> Problem:
    return Problem(403, "Forbidden", detail=detail or Msg("You may not do this"))


def unauthorized(detail: str | None = None) -> Problem:
    return Problem(401, "Unauthorized",
                   detail=detail or Msg("Sign in, or send an API token (API clients)"))


def conflict(field_name: str, message: str) -> Problem:
    return Problem(409, "Conflict", detail=f"{field_name}: {message}",
                   errors=[FieldError(field_name, message)])


def overloaded(retry_after: int, detail: str | None = None) -> Problem:
    """503 with Retry-After: the server could not take the request now, and did nothing."""
    detail = detail or Msg("the server is busy")
    return Problem(503, "Service unavailable",
                   detail=Msg("{why}; try again in {seconds} s", why=detail, seconds=retry_after),
                   retry_after=retry_after)
