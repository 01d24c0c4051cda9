"""A witness as an HTTP service (C2SP tlog-witness): ``POST /add-checkpoint``, served by
``tichub witness serve``. The checks are ``witness.add_checkpoint``'s."""

from __future__ import annotations

import time
from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tichub.reports import witness
from tichub.reports.note import Signer, Verifier

MAX_BODY = 64 * 1024  # 63 proof lines and a checkpoint with its signatures fit many times


def app(logs: Mapping[str, Verifier], state: witness.WitnessState, key: Signer) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return Response("the body is too large\n", 413)
        try:
            body = raw.decode()
        except UnicodeDecodeError:
            return Response("the body is not UTF-8\n", 400)
        answer = witness.add_checkpoint(body, logs, state, key, int(time.time()))
        return Response(answer.body, answer.status, media_type=answer.content_type)

    return Starlette(routes=[Route("/add-checkpoint", add_checkpoint, methods=["POST"])])
