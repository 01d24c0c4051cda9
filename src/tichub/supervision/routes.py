"""The supervision domain's routers, in the order the application tries them. Each
sub-capability (a subpackage) adds its own ``api.router`` and ``views.router`` here."""

from __future__ import annotations

from fastapi import APIRouter

routers: list[APIRouter] = []

from tichub.supervision.approval import api as _approval_api  # noqa: E402
from tichub.supervision.approval import views as _approval_views  # noqa: E402

routers += [_approval_api.router, _approval_views.router]
