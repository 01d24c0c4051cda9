"""The PACT data exchange API (v2 and v3) and the routes that manage it."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["PACT"])
