"""The supervision domain's routers, in the order the application tries them. Each
sub-capability (a subpackage) adds its own ``api.router`` and ``views.router`` here."""

from __future__ import annotations

from fastapi import APIRouter

routers: list[APIRouter] = []

from tichub.supervision.signals import api as signals_api  # noqa: E402
from tichub.supervision.signals import views as signals_views  # noqa: E402

routers += [signals_api.router, signals_views.router]
