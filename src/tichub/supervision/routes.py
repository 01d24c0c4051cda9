"""The supervision domain's routers, in the order the application tries them. Each
sub-capability (a subpackage) adds its own ``api.router`` and ``views.router`` here."""

from __future__ import annotations

from fastapi import APIRouter

from tichub.supervision.approval import api as approval_api
from tichub.supervision.approval import views as approval_views
from tichub.supervision.complaints import api as complaints_api
from tichub.supervision.complaints import views as complaints_views
from tichub.supervision.credit import api as credit_api
from tichub.supervision.credit import views as credit_views
from tichub.supervision.dashboard import api as dashboard_api
from tichub.supervision.dashboard import views as dashboard_views
from tichub.supervision.evidence import api as evidence_api
from tichub.supervision.evidence import views as evidence_views
from tichub.supervision.inspections import api as inspections_api
from tichub.supervision.inspections import views as inspections_views
from tichub.supervision.registers.routes import routers as registers_routers
from tichub.supervision.sanctions import api as sanctions_api
from tichub.supervision.sanctions import views as sanctions_views
from tichub.supervision.signals import api as signals_api
from tichub.supervision.signals import views as signals_views

routers: list[APIRouter] = [
    approval_api.router, approval_views.router,
    credit_api.router, complaints_api.router, dashboard_api.router,
    credit_views.router, complaints_views.router, dashboard_views.router,
    inspections_api.router, sanctions_api.router, sanctions_views.router,
    inspections_views.router, evidence_api.router, evidence_views.router,
    signals_api.router, signals_views.router, *registers_routers,
]
