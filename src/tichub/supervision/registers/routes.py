"""The evidence registers' routers (equipment, staff) and the standards' editions: their
use cases live with their tables (market, registry); supervision serves them together."""

from __future__ import annotations

from fastapi import APIRouter

from tichub.market.equipment import api as equipment_api
from tichub.market.equipment import views as equipment_views
from tichub.registry.editions import api as editions_api
from tichub.registry.editions import views as editions_views
from tichub.registry.staff import api as staff_api
from tichub.registry.staff import views as staff_views

routers: list[APIRouter] = [
    equipment_api.router, staff_api.router, editions_api.router,
    equipment_views.router, staff_views.router, editions_views.router,
]
