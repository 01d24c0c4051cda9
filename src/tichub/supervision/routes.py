"""The supervision domain's routers, in the order the application tries them. Each
sub-capability (a subpackage) adds its own ``api.router`` and ``views.router`` here."""

from __future__ import annotations

from fastapi import APIRouter

from tichub.supervision.evidence import api as evidence_api
from tichub.supervision.evidence import views as evidence_views

routers: list[APIRouter] = [evidence_api.router, evidence_views.router]
