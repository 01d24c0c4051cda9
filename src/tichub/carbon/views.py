"""Carbon pages: the footprint wizard, study results and the certification body's review queue."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
