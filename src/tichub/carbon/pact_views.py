"""PACT pages: the customers' systems allowed to pull footprints, and what is shared."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
