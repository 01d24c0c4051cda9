"""The supervision domain's routers, in the order the application tries them. Each
sub-capability (a subpackage) adds its own ``api.router`` and ``views.router`` here."""

from __future__ import annotations

from fastapi import APIRouter

from tichub.market.equipment import api as equipment_api
from tichub.market.equipment import views as equipment_views
from tichub.registry.editions import api as editions_api
from tichub.registry.editions import views as editions_views
from tichub.registry.staff import api as staff_api
from tichub.registry.staff import views as staff_views

routers: list[APIRouter] = [
    # The evidence registers (equipment, staff) and the standards' editions.
    equipment_api.router, staff_api.router, editions_api.router,
    equipment_views.router, staff_views.router, editions_views.router,
]
