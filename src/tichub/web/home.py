"""The home page: the search box, and each section of the platform with a live figure.

It sits beside the templates, not in ``core``, because it gathers every domain's figure
(through their services) and core depends on no domain. The home page is the busiest page,
so each figure is one indexed count or one row read."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from tichub.carbon import service as carbon
from tichub.core.auth import DB, Public
from tichub.core.web import render
from tichub.market import orders
from tichub.pt import service as pt
from tichub.registry import service as registry
from tichub.reports import service as reports

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Figures:
    institutions: int
    reports: int
    services: int
    pt_rounds: int
    carbon_studies: int


def home_figures(db: Session) -> Figures:
    return Figures(institutions=registry.published_count(db), reports=reports.log_size(db),
                   services=orders.active_listing_count(db), pt_rounds=pt.open_round_count(db),
                   carbon_studies=carbon.certified_study_count(db))


@router.get("/", response_class=HTMLResponse)
def home(request: Request, db: DB, principal: Public) -> HTMLResponse:
    return render(request, "home.html", principal, figures=home_figures(db))
