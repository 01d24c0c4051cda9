"""CBAM installations: embedded emissions, default values and the operator's communication."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["carbon"])
