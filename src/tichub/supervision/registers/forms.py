"""What the register pages share: running a use case from a form (a refusal goes back to
the form as problem+json, which app.js shows beside the field) and returning with a flash."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from tichub.core import errors
from tichub.core.flash import flash
from tichub.core.messages import Msg

T = TypeVar("T")
MAX_UPLOAD = 5 * 1024 * 1024


def run(action: Callable[[], T]) -> T:
    try:
        return action()
    except ValidationError as exc:
        raise errors.Problem(422, "Invalid input",
                             errors=errors.field_errors(exc.errors())) from None


def done(request: Request, url: str, message: Msg) -> Response:
    return flash(request, RedirectResponse(url, status_code=303), message)


def text(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def opt(form: Any, name: str) -> str | None:
    return text(form, name) or None


async def upload(form: Any) -> tuple[str, bytes]:
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise errors.invalid("file", Msg("choose a CSV or Excel file"))
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise errors.invalid("file", Msg("is larger than {size} MB", size=5))
    return file.filename, data
