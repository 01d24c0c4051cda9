"""Directory pages: search with filters and counts, and an institution's page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from tichub.core.auth import DB, Public
from tichub.core.i18n import request_locale
from tichub.core.models import OrgKind, Role
from tichub.core.pagination import PageNumber, PageParams, page_params
from tichub.core.web import render
from tichub.registry import search, service
from tichub.registry.api import SearchParams
from tichub.registry.districts import DISTRICTS
from tichub.registry.matches import matched_lines
from tichub.registry.models import QualificationKind, QualificationStatus

router = APIRouter(include_in_schema=False)

PER_PAGE = 20


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


@router.get("/institutions", response_class=HTMLResponse)
def search_page(
    request: Request, db: DB, principal: Public, query: SearchParams,
    page: PageNumber = 1,
) -> HTMLResponse:
    result = service.search_page(db, principal, query, PageParams(page=page, per_page=PER_PAGE))
    base = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "lang")]
    locale_zh = request_locale(request) == "zh"
    names = {d.slug: d.zh if locale_zh else d.en for d in DISTRICTS}
    # The district facet leaves the district filter out (it shows what ticking another
    # district would add); the chart shows the results, so only the ticked districts.
    shown = {s: n for s, n in result.facets["district"].items()
             if not query.districts or s in query.districts}
    chart = {"labels": [names[s] for s in shown], "values": list(shown.values())}
    matches = matched_lines(db, [hit.institution.id for hit in result.items],
                            search.interpret(query), english=not locale_zh)
    return render(
        request, "registry/search.html", principal,
        query=query, result=result, chart=chart, matches=matches, page=page,
        pages=_pages(result.total, PER_PAGE),
        districts=DISTRICTS, kinds=list(QualificationKind), statuses=list(QualificationStatus),
        qs=lambda **extra: urlencode(base + [(k, str(v)) for k, v in extra.items()]),
        export_qs=urlencode(base),
    )


@router.get("/institutions/{institution_id}", response_class=HTMLResponse)
def institution_page(
    request: Request, institution_id: str, db: DB, principal: Public,
    page: Annotated[PageParams, Depends(page_params)],
    standard: str | None = None,
) -> HTMLResponse:
    inst = service.get_institution(db, principal, institution_id)
    lines, total = service.scope_lines(db, principal, institution_id, page, standard=standard)
    # A quote request starts from the standard the visitor filtered by, or the first one.
    quote_standard = standard or (lines[0].standard if lines else "")
    can_issue = inst.org_id in principal.orgs_with(Role.editor) and any(
        principal.kinds.get(inst.org_id) is k for k in (OrgKind.lab, OrgKind.certification_body))
    return render(request, "registry/institution.html", principal,
                  inst=service.to_out(inst, principal), lines=lines, total=total,
                  page=page, pages=_pages(total, page.per_page),
                  quals={q.id: service.qualification_label(q) for q in inst.qualifications},
                  signatories=service.list_signatories(db, principal, institution_id),
                  standard=standard or "", quote_standard=quote_standard,
                  can_issue=can_issue)
