"""Credit-tier pages: the published rule set, a lab's own tier (/supervision/mine), one
institution for its supervisors, and the appeals."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from tichub.core import errors, fields, limits
from tichub.core.auth import DB, Principal, Public, SignedIn
from tichub.core.flash import flash
from tichub.core.i18n import request_locale
from tichub.core.ids import BEIJING
from tichub.core.messages import Msg
from tichub.core.models import Role
from tichub.core.web import render
from tichub.registry.districts import BY_SLUG
from tichub.supervision import files, jurisdiction
from tichub.supervision.credit import score as scorer
from tichub.supervision.credit import service
from tichub.supervision.models import AppealStatus, CreditScore

router = APIRouter(include_in_schema=False)

fields.register({"text": Msg("Why the tier is wrong"), "files": Msg("Files"),
                 "answer": Msg("Decision and reasons"), "score_id": Msg("Score")},
                under="/supervision/mine")
fields.register({"answer": Msg("Decision and reasons"), "status": Msg("Decision")},
                under="/supervision/appeals")


def district_name(slug: str, locale: str) -> str:
    d = BY_SLUG.get(slug)
    if d is None:
        return slug
    return d.zh if locale == "zh" else d.en


def _chart(scores: list[CreditScore], locale: str) -> dict[str, Any]:
    """The score over time, oldest first, with the tier thresholds as lines."""
    ordered = list(reversed(scores))
    rules = scorer.load(scorer.current_version())
    return {"kind": "credit", "labels": [s.computed_at.astimezone(BEIJING).strftime("%Y-%m-%d")
                                          for s in ordered],
            "values": [s.score for s in ordered], "tiers": [s.tier for s in ordered],
            "lines": [{"tier": t, "min": float(m)} for t, m in rules.thresholds if m is not None],
            "name": Msg("Score").localize(locale)}


def _explain(row: CreditScore | None, locale: str) -> list[dict[str, Any]]:
    if row is None:
        return []
    try:
        rules = scorer.load(row.rule_version)
    except KeyError:  # a version since withdrawn: the stored figures still stand
        rules = None
    return [{**c, "label": service.label(c["key"], locale, rules) if rules else c["key"]}
            for c in row.contributions]


def _institution_context(db: DB, principal: Principal, institution_id: str,
                         locale: str) -> dict[str, Any]:
    inst, scores = service.history(db, principal, institution_id)
    latest = scores[0] if scores else None
    return {"inst": inst, "scores": scores, "latest": latest,
            "tier": latest.tier if latest else service.DEFAULT_TIER,
            "explain": _explain(latest, locale), "chart": _chart(scores, locale),
            "appeals": service.appeals_for_institution(db, inst.id),
            "district_name": district_name(inst.district, locale)}


@router.get("/supervision/credit/rules", response_class=HTMLResponse)
def rules_page(request: Request, principal: Public, version: str = "") -> HTMLResponse:
    locale = request_locale(request, request.app.state.settings.default_locale)
    try:
        rules = scorer.load(version[:10] or scorer.current_version())
    except KeyError:
        raise errors.not_found(Msg("rule set version")) from None
    return render(request, "supervision/credit/rules.html", principal, rules=rules,
                  versions=scorer.versions(), basis=rules.document["basis"].get(locale, ""),
                  label=lambda r: r.label.get(locale, r.label["en"]))


@router.get("/supervision/mine", response_class=HTMLResponse)
def mine(request: Request, db: DB, principal: SignedIn) -> HTMLResponse:
    locale = request_locale(request, request.app.state.settings.default_locale)
    institutions = service.own_institutions(db, principal)
    chosen = request.query_params.get("institution", "")
    inst_ids = [i.id for i in institutions]
    current = chosen if chosen in inst_ids else (inst_ids[0] if inst_ids else None)
    context = _institution_context(db, principal, current, locale) if current else {}
    held = [principal.roles[i.org_id] for i in institutions
            if i.id == current and i.org_id in principal.roles]
    editor = any(r.rank >= Role.editor.rank for r in held)
    return render(request, "supervision/credit/mine.html", principal,
                  institutions=institutions, current=current, can_appeal=editor, **context)


async def _uploads(request: Request) -> tuple[dict[str, str], list[files.Upload]]:
    form = await request.form()
    texts = {k: v for k, v in form.items() if isinstance(v, str)}
    uploads = []
    for item in form.getlist("files"):
        if isinstance(item, UploadFile) and item.filename:
            data = await item.read(files.MAX_FILE + 1)
            uploads.append(files.Upload(item.filename, item.content_type or "", data))
    return texts, uploads


@router.post("/supervision/mine/appeals", response_model=None,
             max_body_size=limits.upload(files.MAX_FILE * files.MAX_FILES))
async def appeal(request: Request, db: DB, principal: SignedIn) -> Response:
    texts, uploads = await _uploads(request)
    score_id = texts.get("score_id", "")[:26]
    item = service.appeal(db, principal, score_id, texts.get("text", ""), uploads)
    return flash(request, RedirectResponse(
        f"/supervision/mine?institution={item.institution_id}", status_code=303),
        Msg("Appeal sent to the bureau"))


@router.get("/supervision/institutions/{institution_id}", response_class=HTMLResponse)
def institution_page(request: Request, institution_id: str, db: DB,
                     principal: SignedIn) -> HTMLResponse:
    locale = request_locale(request, request.app.state.settings.default_locale)
    jurisdiction.require_supervisor(db, principal)
    context = _institution_context(db, principal, institution_id, locale)
    return render(request, "supervision/credit/institution.html", principal,
                  can_decide=_decides(db, principal, context["inst"].district), **context)


def _decides(db: DB, principal: Principal, district: str) -> bool:
    try:
        jurisdiction.require_supervisor(db, principal, district, Role.editor)
    except errors.Problem:
        return False
    return True


@router.post("/supervision/institutions/{institution_id}/recompute", response_model=None)
def recompute(request: Request, institution_id: str, db: DB, principal: SignedIn) -> Response:
    service.recompute_for(db, principal, institution_id[:26])
    return flash(request, RedirectResponse(f"/supervision/institutions/{institution_id}",
                                           status_code=303), Msg("Tier recomputed"))


@router.get("/supervision/appeals", response_class=HTMLResponse)
def appeals_page(request: Request, db: DB, principal: SignedIn) -> HTMLResponse:
    jurisdiction.require_supervisor(db, principal)
    status = request.query_params.get("status", "")
    chosen = AppealStatus(status) if status in AppealStatus.__members__ else None
    rows = service.list_appeals(db, principal, chosen)
    return render(request, "supervision/credit/appeals.html", principal, rows=rows,
                  status=chosen, statuses=list(AppealStatus),
                  can_decide={i.id: _decides(db, principal, i.district) for _, i in rows})


@router.post("/supervision/appeals/{appeal_id}", response_model=None)
def decide(request: Request, appeal_id: str, db: DB, principal: SignedIn,
           status: Annotated[str, Form(max_length=20)] = "",
           answer: Annotated[str, Form(max_length=5000)] = "") -> Response:
    if status not in ("upheld", "rejected"):
        raise errors.invalid("status", Msg("is not one of the choices"))
    item = service.decide_appeal(db, principal, appeal_id[:26], status == "upheld", answer)
    return flash(request, RedirectResponse("/supervision/appeals", status_code=303),
                 Msg("Appeal decided: {status}", status=item.status))


@router.get("/supervision/appeals/{appeal_id}/files/{file_id}", response_model=None)
def appeal_file(appeal_id: str, file_id: str, db: DB, principal: SignedIn) -> Response:
    row = service.appeal_file(db, principal, appeal_id[:26], file_id[:26])
    # Served as a download: a file an institution uploaded must never run as our page.
    return Response(row.data, media_type=row.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.name)}",
        "X-Content-Type-Options": "nosniff"})
