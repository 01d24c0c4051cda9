"""A message for the next page ("Quote sent"), carried in a short-lived signed cookie.

A form's use case succeeds and redirects (303); the page it lands on shows the message once,
in the reader's language, and clears it. Signed, so that no one can make our page say what
they like through a cookie."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from starlette.requests import Request
from starlette.responses import Response

from tichub.core.messages import Msg

FLASH_COOKIE = "tichub_flash"
MAX_AGE = 120  # seconds: long enough for the redirect, not for a later visit


def _sign(secret_key: str, payload: bytes) -> str:
    return hmac.new(secret_key.encode(), b"flash:" + payload, hashlib.sha256).hexdigest()[:32]


def flash(request: Request, response: Response, message: Msg) -> Response:
    """Shows ``message`` on the next page this browser renders; returns ``response``."""
    payload = base64.urlsafe_b64encode(json.dumps(message.as_json(),
                                                  ensure_ascii=True).encode())
    value = f"{payload.decode()}.{_sign(request.app.state.secret_key, payload)}"
    response.set_cookie(FLASH_COOKIE, value, max_age=MAX_AGE, httponly=True, samesite="lax",
                        secure=request.app.state.settings.cookie_secure)
    return response


def take(request: Request) -> Msg | None:
    """The message waiting for this page, if any and if ours (the caller clears the cookie)."""
    value = request.cookies.get(FLASH_COOKIE)
    if not value or "." not in value or len(value) > 3000:
        return None
    payload, _, signature = value.rpartition(".")
    if not hmac.compare_digest(signature, _sign(request.app.state.secret_key,
                                                payload.encode())):
        return None
    try:
        return Msg.from_json(json.loads(base64.urlsafe_b64decode(payload.encode())))
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
