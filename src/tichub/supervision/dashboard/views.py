"""The regulator's dashboard page and its exports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tichub.core import errors
from tichub.core.auth import DB, SignedIn
from tichub.core.exports import download
from tichub.core.i18n import request_locale
from tichub.core.messages import Msg
from tichub.core.web import render
from tichub.supervision.credit import service as credit
from tichub.supervision.credit.score import TIERS
from tichub.supervision.credit.views import district_name
from tichub.supervision.dashboard import service

router = APIRouter(include_in_schema=False)
EXPORT_LIMIT = 100_000


def _charts(d: service.Dashboard, locale: str) -> dict[str, Any]:
    labels = [district_name(r.district, locale) for r in d.districts]
    by_district = {"kind": "stacked", "labels": labels,
                   "series": [{"name": t, "values": [r.tiers[t] for r in d.districts],
                               "stack": "tiers", "colour": c}
                              for t, c in zip(TIERS, ("#15803d", "#2563eb", "#b45309",
                                                      "#b91c1c"), strict=True)]
                   + [{"name": Msg("Open signals").localize(locale), "type": "line",
                       "values": [r.open_signals for r in d.districts], "colour": "#7c3aed",
                       "axis": 1}]}
    trend = {"kind": "stacked", "labels": d.months,
             "series": [{"name": t, "values": d.tier_mix[t], "stack": "tiers", "colour": c}
                        for t, c in zip(TIERS, ("#15803d", "#2563eb", "#b45309", "#b91c1c"),
                                        strict=True)]
             + [{"name": Msg("Signals raised").localize(locale), "type": "line",
                 "values": d.signals_per_month, "colour": "#7c3aed", "axis": 1}]}
    return {"by_district": by_district, "trend": trend}


@router.get("/supervision/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, db: DB, principal: SignedIn) -> HTMLResponse:
    locale = request_locale(request, request.app.state.settings.default_locale)
    d = service.build(db, principal)
    return render(request, "supervision/dashboard.html", principal, d=d,
                  charts=_charts(d, locale), tiers=TIERS,
                  district_name=lambda slug: district_name(slug, locale))




@router.get("/supervision/dashboard/export", response_model=None)
def export(request: Request, db: DB, principal: SignedIn, table: str = "districts",
           format: str = "csv") -> Response:
    if format not in ("csv", "xlsx"):
        raise errors.invalid("format", Msg("is not one of the choices"))
    locale = request_locale(request, request.app.state.settings.default_locale)

    def h(text: str) -> str:
        return Msg(text).localize(locale)

    d = service.build(db, principal)
    header: list[str]
    rows: list[list[object]]
    if table == "districts":
        header = [h("District"), h("Institutions"), *TIERS, h("Open signals")]
        rows = [[district_name(r.district, locale), r.institutions,
                 *(r.tiers[t] for t in TIERS), r.open_signals] for r in d.districts]
    elif table == "institutions":
        items, _ = credit.tier_list(db, principal, None, 0, EXPORT_LIMIT)
        header = [h("Institution"), h("District"), h("Tier"), h("Score")]
        rows = [[i.name_zh, district_name(i.district, locale), t, s] for i, t, s in items]
    elif table in ("inspections", "checks"):
        due = d.inspections_due if table == "inspections" else d.checks_due
        header = [h("Institution"), h("District"), h("Due"), h("Overdue")]
        rows = [[x.institution_name, district_name(x.district, locale),
                 x.due.isoformat() if x.due else "", h("yes") if x.overdue else ""]
                for x in due]
    else:
        raise errors.invalid("table", Msg("is not one of the choices"))
    return download("xlsx" if format == "xlsx" else "csv", f"supervision-{table}", header,
                    rows, sheet=table)
