"""Proficiency-testing routes under /api/pt."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, Request, UploadFile

from tichub.core import errors, limits
from tichub.core.auth import DB, Principal, Public, access
from tichub.core.bounds import Finite
from tichub.core.messages import Msg
from tichub.core.models import OrgKind, Role
from tichub.pt import service
from tichub.pt.models import PtParticipant, PtResult, PtRound
from tichub.pt.schemas import (
    AnswerIn,
    CorrectiveActionIn,
    CorrectiveActionOut,
    InviteIn,
    JoinIn,
    MeasurandIn,
    MeasurandOut,
    ParticipantOut,
    ResultOut,
    ResultsIn,
    RoundIn,
    RoundOut,
    SchemeIn,
    SchemeOut,
    StabilityIn,
    UnsatisfactoryOut,
)

router = APIRouter(prefix="/api/pt", tags=["proficiency testing"])

LABS = (OrgKind.lab, OrgKind.certification_body)
Provider = Annotated[Principal, access(
    "member", role=Role.editor, scope="pt:write", kinds=LABS,
    note="editors of the scheme's provider organisation")]
Participant = Annotated[Principal, access(
    "member", role=Role.editor, scope="pt:write", kinds=LABS,
    note="editors of the participating organisation (or, for requests, of the provider)")]
Reader = Annotated[Principal, access(
    "user", scope="pt:read",
    note="the provider and supervision at any time; accepted participants once published")]
MAX_UPLOAD = 5 * 1024 * 1024


@router.get("/schemes", response_model=list[SchemeOut])
def list_schemes(db: DB, principal: Public) -> list[Any]:
    """Every PT scheme, with its measurands: laboratories look here for schemes to join."""
    return service.list_schemes(db)


@router.post("/schemes", response_model=SchemeOut, status_code=201)
def create_scheme(body: SchemeIn, db: DB, principal: Provider) -> Any:
    """Defines a scheme: field, measurands with units, method groups."""
    return service.create_scheme(db, principal, body)


@router.get("/schemes/{scheme_id}", response_model=SchemeOut)
def get_scheme(scheme_id: str, db: DB, principal: Public) -> Any:
    return service.get_scheme(db, scheme_id)


@router.post("/schemes/{scheme_id}/measurands", response_model=MeasurandOut, status_code=201)
def add_measurand(scheme_id: str, body: MeasurandIn, db: DB, principal: Provider) -> Any:
    return service.add_measurand(db, principal, scheme_id, body)


def round_out(rnd: PtRound, principal: Principal | None = None) -> RoundOut:
    """A round; its given assigned values and σ_pt only to its provider and supervision
    until it is published (a formulation value is the answer to the test)."""
    reveal = rnd.status.value == "published" or (principal is not None and (
        service.is_provider(principal, rnd) or principal.is_regulator))
    return RoundOut(
        id=rnd.id, scheme_id=rnd.scheme_id, scheme_code=rnd.scheme.code, code=rnd.code,
        title=rnd.title, status=rnd.status.value, items=rnd.items, dispatch_on=rnd.dispatch_on,
        deadline=rnd.deadline, score=rnd.score, computed_at=rnd.computed_at,
        published_at=rnd.published_at,
        measurands=[{"measurand": s.measurand.name, "unit": s.measurand.unit,
                     "assigned_kind": s.assigned_kind, "method": s.method,
                     "sigma_kind": s.sigma_kind,
                     **({"assigned_value": s.assigned_value, "assigned_u": s.assigned_u,
                         "sigma_value": s.sigma_value} if reveal else {})}
                    for s in rnd.settings])


@router.post("/schemes/{scheme_id}/rounds", response_model=RoundOut, status_code=201)
def create_round(scheme_id: str, body: RoundIn, db: DB, principal: Provider) -> RoundOut:
    """Opens a round in draft: items, dispatch date, deadline, and per measurand how the
    assigned value and σ_pt are set."""
    return round_out(service.create_round(db, principal, scheme_id, body), principal)


@router.get("/rounds", response_model=list[RoundOut])
def list_rounds(db: DB, principal: Public,
                scheme_id: Annotated[str | None, Query(max_length=26)] = None) -> list[RoundOut]:
    """Rounds, newest first (what a round is, not its results)."""
    return [round_out(r, principal) for r in service.list_rounds(db, scheme_id)]


@router.get("/rounds/{round_id}", response_model=RoundOut)
def get_round(round_id: str, db: DB, principal: Public) -> RoundOut:
    return round_out(service.get_round(db, round_id), principal)


def participant_out(p: PtParticipant, reveal: bool, org_name: str | None = None
                    ) -> ParticipantOut:
    """A place in a round; to others only its code (its id, a ULID, would tell when it
    joined, and its certificate number whom it belongs to)."""
    if not reveal:
        return ParticipantOut(round_id=p.round_id, code=p.code)
    return ParticipantOut(id=p.id, round_id=p.round_id, code=p.code, status=p.status.value,
                          org_id=p.org_id, org_name=org_name,
                          certificate_number=p.certificate_number)


@router.get("/rounds/{round_id}/participants", response_model=list[ParticipantOut])
def list_participants(round_id: str, db: DB, principal: Reader) -> list[ParticipantOut]:
    """The provider sees who is behind each code; others see codes only, and their own
    organisation's place in full."""
    rnd = service.get_round(db, round_id)
    if not service.can_read_round(db, principal, rnd):
        raise errors.forbidden(Msg("for the round's provider, participants and supervision"))
    provider = service.is_provider(principal, rnd) or principal.is_regulator
    return [participant_out(p, provider or p.org_id in principal.roles)
            for p in service.participants(db, rnd)]


@router.post("/rounds/{round_id}/participants", response_model=ParticipantOut,
             status_code=201)
def invite(round_id: str, body: InviteIn, db: DB, principal: Provider) -> ParticipantOut:
    """The provider invites a laboratory; it gets a random code and must accept."""
    return participant_out(service.invite(db, principal, round_id, body.org_id), True)


@router.post("/rounds/{round_id}/join", response_model=ParticipantOut, status_code=201)
def join(round_id: str, body: JoinIn, db: DB, principal: Participant) -> ParticipantOut:
    """A laboratory asks to take part; the provider must accept."""
    return participant_out(service.request_to_join(db, principal, round_id, body.org_id), True)


@router.post("/participants/{participant_id}/answer", response_model=ParticipantOut)
def answer(participant_id: str, body: AnswerIn, db: DB,
           principal: Participant) -> ParticipantOut:
    """Accepts or declines: an invitation (the laboratory) or a request (the provider)."""
    return participant_out(service.answer(db, principal, participant_id, body.accept), True)


@router.post("/rounds/{round_id}/homogeneity", max_body_size=limits.upload(MAX_UPLOAD))
async def homogeneity(round_id: str, db: DB, principal: Provider,
                      measurand: Annotated[str, Query(min_length=1, max_length=100)],
                      file: Annotated[UploadFile, File(description="CSV or .xlsx: item, value "
                                                       "(one row per replicate)")],
                      sigma_pt: Annotated[Finite | None, Query(gt=0)] = None) -> dict[str, Any]:
    """The items' homogeneity check for one measurand (ISO 13528:2022 Annex B), from the
    provider's replicate measurements; σ_pt is the round's unless given."""
    service.require_provider(db, principal, service.get_round(db, round_id).scheme_id)
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise errors.invalid("file", Msg("is larger than {size} MB", size=5))
    return service.record_homogeneity(db, principal, round_id, measurand,
                                      file.filename or "", data, sigma_pt)


@router.post("/rounds/{round_id}/stability")
def stability(round_id: str, body: StabilityIn, db: DB, principal: Provider) -> dict[str, Any]:
    """The items' stability check for one measurand (ISO 13528:2022 B.5)."""
    return service.record_stability(db, principal, round_id, body.measurand, body.before,
                                    body.after, body.sigma_pt)


@router.post("/rounds/{round_id}/open", response_model=RoundOut)
def open_round(round_id: str, db: DB, principal: Provider) -> RoundOut:
    """Draft → open: items dispatched, results accepted until the deadline."""
    return round_out(service.transition(db, principal, round_id, "open"), principal)


@router.post("/rounds/{round_id}/close", response_model=RoundOut)
def close_round(round_id: str, db: DB, principal: Provider) -> RoundOut:
    """Open → closed: no more results."""
    return round_out(service.transition(db, principal, round_id, "close"), principal)


@router.post("/rounds/{round_id}/compute", response_model=RoundOut)
def compute(round_id: str, db: DB, principal: Provider) -> RoundOut:
    """Statistics and scores of a closed round (again, until published)."""
    return round_out(service.compute(db, principal, round_id), principal)


@router.post("/rounds/{round_id}/publish", response_model=RoundOut)
def publish(round_id: str, request: Request, db: DB, principal: Provider) -> RoundOut:
    """Publishes scores and report; registers participation certificates when the scheme
    names its institution (a token then also needs reports:write)."""
    return round_out(service.publish(db, principal, round_id, request.app.state.log),
                     principal)


def result_out(r: PtResult, name: str, unit: str, published: bool) -> ResultOut:
    return ResultOut(
        id=r.id, measurand=name, item=r.item, value=r.value, unit=unit,
        reported_value=r.reported_value, reported_unit=r.reported_unit,
        expanded_uncertainty=r.expanded_u, coverage_factor=r.coverage_k, method=r.method,
        submitted_at=r.submitted_at,
        **({"z": r.z, "z_prime": r.z_prime, "zeta": r.zeta, "en": r.en,
            "verdict": r.verdict} if published else {}))


def _own_results(db: DB, principal: Principal, rnd: PtRound, org_id: str) -> list[ResultOut]:
    p = next((p for p in service.own_participants(db, principal, rnd) if p.org_id == org_id),
             None)
    if p is None:
        raise errors.forbidden(Msg("this organisation is not a participant of the round"))
    names = {s.id: (s.measurand.name, s.measurand.unit) for s in rnd.settings}
    published = rnd.status.value == "published"
    return [result_out(r, *names[r.round_measurand_id], published)
            for r in service.results_of(db, p)]


@router.post("/rounds/{round_id}/results", response_model=list[ResultOut], status_code=201)
def submit(round_id: str, body: ResultsIn, db: DB, principal: Participant) -> list[ResultOut]:
    """A participant's results (value, expanded uncertainty and k, method, unit: converted
    to the measurand's). All or none; refused after the deadline, twice, in a unit that
    does not convert, or from a non-participant."""
    service.submit_results(db, principal, round_id, body.org_id, body.results)
    rnd = service.get_round(db, round_id)
    return _own_results(db, principal, rnd, body.org_id)


@router.post("/rounds/{round_id}/results/upload", response_model=list[ResultOut],
             max_body_size=limits.upload(MAX_UPLOAD),
             status_code=201)
async def upload(round_id: str, db: DB, principal: Participant,
                 org_id: Annotated[str, Query(min_length=26, max_length=26)],
                 file: Annotated[UploadFile, File(description="CSV or .xlsx: measurand, "
                                                  "item, value, unit, U, k, method")]
                 ) -> list[ResultOut]:
    """The same as POST …/results, from a spreadsheet; errors name its rows."""
    service.check_participant(db, principal, round_id, org_id)
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise errors.invalid("file", Msg("is larger than {size} MB", size=5))
    entries, rows = service.results_upload(file.filename or "", data)
    service.submit_results(db, principal, round_id, org_id, entries, rows_of=rows)
    return _own_results(db, principal, service.get_round(db, round_id), org_id)


@router.get("/rounds/{round_id}/results", response_model=list[ResultOut])
def own_results(round_id: str, db: DB, principal: Reader,
                org_id: Annotated[str, Query(min_length=26, max_length=26)]
                ) -> list[ResultOut]:
    """A participant's own results, with scores once published."""
    return _own_results(db, principal, service.get_round(db, round_id), org_id)


@router.get("/rounds/{round_id}/report")
def report(round_id: str, db: DB, principal: Reader) -> dict[str, Any]:
    """The anonymous round report as data: per measurand and item, the assigned value and
    how it was derived, σ_pt, the uncertainty check, and every result by code."""
    rnd, measurands, mine = service.round_report(db, principal, round_id)
    return {"round": round_out(rnd, principal).model_dump(mode="json"),
            "own_codes": sorted(mine),
            "measurands": [{"name": m.name, "name_en": m.name_en, "unit": m.unit,
                            "assigned_kind": m.assigned_kind, "method": m.method,
                            "sigma_kind": m.sigma_kind,
                            "items": [{"item": i.item, "statistics": _statistics(i.computed),
                                       "results": i.rows} for i in m.items]}
                           for m in measurands]}


@router.get("/orgs/{org_id}/history")
def history(org_id: str, db: DB, principal: Reader) -> list[dict[str, Any]]:
    """A laboratory's scores over every published round, oldest first."""
    return service.history(db, principal, org_id)


@router.get("/unsatisfactory", response_model=list[UnsatisfactoryOut])
def unsatisfactory(db: DB, principal: Reader,
                   org_id: Annotated[str | None, Query(max_length=26)] = None
                   ) -> list[dict[str, Any]]:
    """Unsatisfactory results of published rounds by laboratory, newest first: every
    laboratory's for supervision (they count in its credit score), one's own otherwise.
    Each is also an audit event ``pt.result.unsatisfactory`` in the lab's log."""
    return service.unsatisfactory(db, principal, org_id)


@router.post("/results/{result_id}/corrective-actions", response_model=CorrectiveActionOut,
             status_code=201)
def record_corrective_action(result_id: Annotated[str, Path(max_length=26)],
                             body: CorrectiveActionIn, db: DB,
                             principal: Participant) -> Any:
    """The laboratory's corrective action after its unsatisfactory result in a published
    round: what was done and the day it was done. From that day on, its reports of the
    parameter no longer raise the supervision signal PT_NO_CORRECTION."""
    return service.record_corrective_action(db, principal, result_id, body)


@router.get("/results/{result_id}/corrective-actions",
            response_model=list[CorrectiveActionOut])
def corrective_actions(result_id: Annotated[str, Path(max_length=26)], db: DB,
                       principal: Reader) -> list[Any]:
    """The corrective actions recorded for a result, oldest first: for the laboratory
    and for supervision."""
    return list(service.corrective_actions(db, principal, result_id))


def _statistics(computed: dict[str, Any]) -> dict[str, Any]:
    """An item's statistics as documented; ``notes`` (its warnings as messages for pages)
    stay inside."""
    return {k: v for k, v in computed.items() if k != "notes"}
