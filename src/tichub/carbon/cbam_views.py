"""CBAM pages: installations, their embedded emissions and the communication to importers."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
