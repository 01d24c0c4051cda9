"""The supervision domain's routers, in the order the application tries them. Each
sub-capability (a subpackage) adds its own ``api.router`` and ``views.router`` here."""

from __future__ import annotations

from fastapi import APIRouter

routers: list[APIRouter] = []


def _add_inspections() -> None:
    from tichub.supervision.inspections import api as inspections_api
    from tichub.supervision.inspections import views as inspections_views
    from tichub.supervision.sanctions import api as sanctions_api
    from tichub.supervision.sanctions import views as sanctions_views

    routers.extend([inspections_api.router, sanctions_api.router, sanctions_views.router,
                    inspections_views.router])


_add_inspections()
