"""openLCA JSON-LD import and export of product models."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["carbon"])
