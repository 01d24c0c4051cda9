"""PACT use cases: sharing studies, the customers' systems (OAuth2 clients) allowed to pull
an organisation's shared footprints, the footprints and events they exchange, and a
supplier's footprint received as an organisation's own emission factor.

Two error kinds: the management use cases raise ``errors.Problem`` like the rest of
TICHub; what the PACT host API calls raises ``PactApiError`` (PACT's ``{"code",
"message"}`` body) or ``OAuthError`` (RFC 6749's ``{"error", "error_description"}``).
"""

from __future__ import annotations

import functools
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tichub.carbon import pact, pact_events
from tichub.carbon import service as carbon
from tichub.carbon.models import (
    PactClient,
    PactDelivery,
    PactEvent,
    PactToken,
    Study,
    StudyStatus,
)
from tichub.carbon.schemas import FactorIn, ImportSummary
from tichub.core import audit, errors
from tichub.core.auth import ANONYMOUS, Principal, can, require, require_member
from tichub.core.ids import utcnow
from tichub.core.messages import Msg
from tichub.core.models import Role
from tichub.core.security import hash_password, new_secret, sha256_hex, verify_password
from tichub.core.service import organisation_names

SCOPE = carbon.SCOPE
TOKEN_LIFETIME = timedelta(hours=1)
PAGE_MAX = 100  # footprints per page at most, whatever ``limit`` asks
SCOPES = "footprint:list footprint:read"
V3_FILTERS = ("productId", "companyId", "geography", "classification", "validOn",
              "validAfter", "validBefore", "status")
# CloudEvents types each version's events endpoint takes, by what they do.
EVENT_TYPES = {
    "2": {"org.wbcsd.pathfinder.ProductFootprint.Published.v1": "published",
          "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1": "request",
          "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1": "fulfilled",
          "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1": "rejected"},
    "3": {"org.wbcsd.pact.ProductFootprint.PublishedEvent.3": "published",
          "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3": "request",
          # the v3 text's own example spells it without "Event"
          "org.wbcsd.pact.ProductFootprint.RequestCreated.3": "request",
          "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3": "fulfilled",
          "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3": "rejected"},
}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}$")


class PactApiError(Exception):
    """An answer of the PACT API: HTTP status and PACT's error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class OAuthError(Exception):
    """An answer of the token endpoint, as RFC 6749 section 5.2 words it."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


def _bad(message: str) -> PactApiError:
    return PactApiError(400, "BadRequest", message)


def not_found(version: str) -> PactApiError:
    # v2's table calls it NoSuchFootprint; v3's enumeration NotFound.
    return PactApiError(404, "NoSuchFootprint" if version == "2" else "NotFound",
                        "The specified footprint does not exist.")


def not_implemented(version: str, message: str) -> PactApiError:
    return PactApiError(400 if version == "2" else 501, "NotImplemented", message)


# --- identifiers ----------------------------------------------------------------------------

# URNs in the form PACT recommends for identifiers without a registry of their own
# (urn:pact:{issuer's domain}:{kind}:{id}); the issuer is the platform's host.
def company_urn(domain: str, org_id: str) -> str:
    return f"urn:pact:{domain}:company-id:{org_id}"


def product_urn(domain: str, model_id: str) -> str:
    return f"urn:pact:{domain}:supplier-id:{model_id}"


def classification_urn(cn_code: str) -> str:
    return f"urn:pact:productclassification:cn:{cn_code.replace(' ', '')}"


# --- a study as a footprint -----------------------------------------------------------------

def _quality(study: Study, root: Mapping[str, Any]) -> pact.DataQuality | None:
    """The pedigree scores of the root model's inputs, weighted by their contribution."""
    scores: dict[tuple[str, str], list[int]] = {}
    for p in root.get("processes") or []:
        for i in p.get("inputs") or []:
            unc = i.get("uncertainty") or {}
            if unc.get("kind") == "pedigree" and len(unc.get("pedigree") or []) == 5:
                scores[(p.get("name", ""), i.get("name", ""))] = list(unc["pedigree"])
    if not scores:
        return None
    weight = covered = 0.0
    sums = [0.0] * 5  # reliability, completeness, temporal, geographical, technological
    for c in study.results.get("contributions") or []:
        w = abs(float(c.get("co2e") or 0.0))
        weight += w
        s = scores.get((c.get("process", ""), c.get("input", "")))
        if s and w:
            covered += w
            sums = [a + w * b for a, b in zip(sums, s, strict=True)]
    if not covered:
        return None
    r, c, t, g, tech = (x / covered for x in sums)
    return pact.DataQuality(coverage=covered / weight, technological=tech, temporal=t,
                            geographical=g, completeness=c, reliability=r)


def _processes(root: Mapping[str, Any]) -> str:
    names = [f"{p.get('name', '')} ({str(p.get('stage', '')).replace('_', ' ')})"
             for p in root.get("processes") or []]
    text = "Processes: " + "; ".join(names) + "." if names else ""
    return text if len(text) <= 1000 else text[:997] + "…"


def _assurance(db: Session, study: Study, standard: str) -> pact.Assurance | None:
    if study.status is not StudyStatus.certified:
        return None
    name = ""
    if study.cb_institution_id:
        from tichub.registry import service as registry

        with suppress(errors.Problem):  # an unpublished institution: its organisation's name
            inst = registry.get_institution(db, ANONYMOUS, study.cb_institution_id)
            name = inst.name_en or inst.name_zh
    if not name and study.cb_org_id:
        name = organisation_names(db, [study.cb_org_id]).get(study.cb_org_id, "")
    return pact.Assurance(provider_name=name or "certification body",
                          completed_at=study.decided_at,
                          certificate_number=study.certificate_number or "",
                          standard_name=standard)


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def footprint_in(db: Session, study: Study, domain: str, *, status: str = "Active",
                 preceding: Sequence[str] = ()) -> pact.FootprintIn:
    """What a study says, in the terms PACT asks for."""
    root = study.models.get(study.model_id) or {}
    results = study.results or {}
    declared = results.get("declared") or {}
    company = organisation_names(db, [study.org_id]).get(study.org_id, "")
    standard = str(root.get("standard") or "GB/T 24067-2024")
    return pact.FootprintIn(
        pf_id=study.pact_id or str(uuid.uuid4()), created=study.created_at,
        company_name=company or study.org_id, company_ids=[company_urn(domain, study.org_id)],
        product_name=str(root.get("product") or root.get("name") or study.title),
        product_description=str(root.get("functional_unit") or study.title),
        product_ids=[product_urn(domain, study.model_id)],
        classifications=[classification_urn(root["cn_code"])] if root.get("cn_code") else [],
        declared_amount=float(declared.get("amount") or root.get("declared_amount") or 1.0),
        declared_unit=str(declared.get("unit") or root.get("declared_unit") or "piece"),
        mass_kg=root.get("mass_kg"), total=study.total,
        by_category=results.get("by_category") or {},
        basis=str(results.get("basis") or root.get("basis") or "AR6"),
        boundary=str(results.get("boundary") or root.get("boundary") or "cradle_to_gate"),
        standard=standard, period_start=_date(root.get("period_start")),
        period_end=_date(root.get("period_end")), geography=str(root.get("geography") or ""),
        primary_share=results.get("primary_share"), quality=_quality(study, root),
        assurance=_assurance(db, study, standard), valid_from=study.valid_from,
        valid_until=study.valid_until, status=status, preceding=preceding,
        cut_off=str(root.get("cut_off") or ""), processes=_processes(root),
        comment=f"Study: {study.title}.")


def _shared(db: Session, org_id: str) -> list[Study]:
    return list(db.scalars(select(Study).where(
        Study.org_id == org_id, Study.shared.is_(True), Study.pact_id.is_not(None))
        .order_by(Study.created_at, Study.id)))


def _lineage(studies: Sequence[Study]) -> dict[str, tuple[str, list[str]]]:
    """Each shared study's status and the footprints it replaces: of one product model's
    shared studies, the newest is Active and lists the older ones, which are Deprecated."""
    by_model: dict[str, list[Study]] = {}
    for s in studies:
        by_model.setdefault(s.model_id, []).append(s)
    out: dict[str, tuple[str, list[str]]] = {}
    for group in by_model.values():
        for n, s in enumerate(group):
            newest = n == len(group) - 1
            out[s.id] = ("Active" if newest else "Deprecated",
                         [g.pact_id for g in group[:n] if g.pact_id])
    return out


def _documents(db: Session, org_id: str, version: str, domain: str) -> list[dict[str, Any]]:
    studies = _shared(db, org_id)
    lineage = _lineage(studies)
    docs = []
    for s in studies:
        status, preceding = lineage[s.id]
        # A footprint v2 cannot express (an hourly unit, a net negative figure) is served
        # over v3 only.
        with suppress(pact.PactError):
            docs.append(pact.footprint(footprint_in(db, s, domain, status=status,
                                                    preceding=preceding), version))
    return docs


# --- management: sharing and clients --------------------------------------------------------

def share_study(db: Session, principal: Principal, study_id: str, shared: bool,
                domain: str) -> Study:
    """Shares a study over PACT (its first share gives it its PACT id) or stops sharing it."""
    study = carbon.get_study(db, principal, study_id)
    require_member(principal, Role.editor, org=study.org_id, scope=SCOPE)
    if shared:
        if study.status is StudyStatus.withdrawn:
            raise errors.invalid("shared", Msg("a withdrawn study is not shared"))
        try:  # v3 is what every footprint must be expressible in
            pact.footprint_v3(footprint_in(db, study, domain))
        except pact.PactError as exc:
            raise errors.invalid(exc.where, exc.message) from None
        if study.pact_id is None:
            study.pact_id = str(uuid.uuid4())
        if not study.shared:
            study.shared, study.shared_at = True, utcnow()
    else:
        study.shared, study.shared_at = False, None
    audit.record(db, action="carbon.study.shared" if shared else "carbon.study.unshared",
                 object_type="carbon_study", object_id=study.id,
                 actor_user_id=principal.user_id, org_id=study.org_id,
                 data={"pact_id": study.pact_id})
    db.commit()
    return study


def shared_studies(db: Session, principal: Principal, org_id: str) -> list[Study]:
    require(principal, Role.viewer, org=org_id)
    return _shared(db, org_id)


def export(db: Session, principal: Principal, study_id: str, version: str,
           domain: str) -> dict[str, Any]:
    """The study as a ProductFootprint, for whoever may read the study."""
    study = carbon.get_study(db, principal, study_id)
    status, preceding = "Active", list[str]()
    if study.shared and study.pact_id:
        status, preceding = _lineage(_shared(db, study.org_id)).get(study.id, (status, []))
    try:
        return pact.footprint(footprint_in(db, study, domain, status=status,
                                           preceding=preceding), version)
    except pact.PactError as exc:
        raise errors.invalid(exc.where, exc.message) from None


def create_client(db: Session, principal: Principal, org_id: str, name: str
                  ) -> tuple[PactClient, str]:
    """A customer's system allowed to pull the organisation's shared footprints. Returns
    the row and the client secret, shown once; only its argon2 hash is kept."""
    require_member(principal, Role.admin, org=org_id, scope=SCOPE)
    name = name.strip()
    if not name:
        raise errors.invalid("name", Msg("say whose system this is"))
    secret = new_secret()
    row = PactClient(org_id=org_id, name=name[:200], client_id="pact-" + secrets.token_hex(12),
                     secret_hash=hash_password(secret), created_by=principal.user_id)
    db.add(row)
    db.flush()
    audit.record(db, action="carbon.pact.client.created", object_type="carbon_pact_client",
                 object_id=row.id, actor_user_id=principal.user_id, org_id=org_id,
                 data={"name": row.name, "client_id": row.client_id})
    db.commit()
    return row, secret


def list_clients(db: Session, principal: Principal, org_id: str) -> list[PactClient]:
    require(principal, Role.viewer, org=org_id)
    return list(db.scalars(select(PactClient).where(PactClient.org_id == org_id)
                           .order_by(PactClient.created_at.desc(), PactClient.id)))


def revoke_client(db: Session, principal: Principal, client_row_id: str) -> PactClient:
    row = db.get(PactClient, client_row_id) or db.scalar(
        select(PactClient).where(PactClient.client_id == client_row_id))
    if row is None or not can(principal, Role.viewer, org=row.org_id):
        raise errors.Problem(404, "Not found", detail=Msg("No such PACT client"))
    require_member(principal, Role.admin, org=row.org_id, scope=SCOPE)
    if not row.revoked:
        row.revoked = True
        # Its tokens stop working now, not when they expire; answers still owed to it
        # are not sent.
        db.execute(delete(PactToken).where(PactToken.client_id == row.id))
        db.execute(update(PactDelivery).where(
            PactDelivery.client_id == row.id, PactDelivery.status == "pending")
            .values(status="failed", last_error="the client was revoked"))
        audit.record(db, action="carbon.pact.client.revoked",
                     object_type="carbon_pact_client", object_id=row.id,
                     actor_user_id=principal.user_id, org_id=row.org_id,
                     data={"name": row.name, "client_id": row.client_id})
        db.commit()
    return row


def requests_received(db: Session, principal: Principal, org_id: str,
                      limit: int = 50) -> list[tuple[PactEvent, PactClient]]:
    """The events the organisation's customers sent, newest first."""
    require(principal, Role.viewer, org=org_id)
    rows = db.execute(select(PactEvent, PactClient).join(
        PactClient, PactClient.id == PactEvent.client_id).where(PactClient.org_id == org_id)
        .order_by(PactEvent.created_at.desc(), PactEvent.id).limit(limit))
    return [(e, c) for e, c in rows]


# --- the host API: tokens -------------------------------------------------------------------

@lru_cache(maxsize=1)
@functools.cache
def _decoy_hash() -> str:
    # One hash for the process: an unknown id costs one verification, as a known one does.
    return hash_password(new_secret())


def _basic(authorization: str | None) -> tuple[str, str] | None:
    import base64
    import binascii

    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        text = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = text.partition(":")
    return (client_id, secret) if sep else None


def issue_token(db: Session, authorization: str | None, form: Mapping[str, str]
                ) -> dict[str, Any]:
    """OAuth2 client credentials (RFC 6749 section 4.4): HTTP Basic client_id:secret and
    grant_type=client_credentials give a bearer token for an hour; only its SHA-256 is kept."""
    creds = _basic(authorization)
    if creds is None and form.get("client_id"):  # client_secret_post, which RFC 6749 allows
        creds = (form.get("client_id", ""), form.get("client_secret", ""))
    if creds is None:
        raise OAuthError(401, "invalid_client", "authenticate with HTTP Basic client_id:secret")
    row = db.scalar(select(PactClient).where(PactClient.client_id == creds[0]))
    # A decoy check for unknown ids, so the answer's timing does not tell which ids exist.
    good = verify_password(row.secret_hash if row else _decoy_hash(), creds[1])
    if row is None or not good or row.revoked:
        raise OAuthError(401, "invalid_client", "Authentication failed")
    grant = form.get("grant_type")
    if not grant:
        raise OAuthError(400, "invalid_request", "grant_type is missing")
    if grant != "client_credentials":
        raise OAuthError(400, "unsupported_grant_type", "only client_credentials is offered")
    now = utcnow()
    # Tokens long expired are forgotten; recently expired ones still answer TokenExpired.
    db.execute(delete(PactToken).where(PactToken.client_id == row.id,
                                       PactToken.expires_at < now - timedelta(days=1)))
    token = new_secret()
    db.add(PactToken(client_id=row.id, token_hash=sha256_hex(token),
                     expires_at=now + TOKEN_LIFETIME))
    db.commit()
    return {"access_token": token, "token_type": "Bearer",
            "expires_in": int(TOKEN_LIFETIME.total_seconds()), "scope": SCOPES}


def client_for(db: Session, authorization: str | None) -> PactClient:
    """The client whose bearer token this is. An unknown or missing token: 401 BadRequest
    (v3's text asks for 401; the conformance tests accept 400 or 401 with BadRequest);
    an expired one: 401 TokenExpired; a revoked client: 403 AccessDenied."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise PactApiError(401, "BadRequest", "send the access token from /auth/token as "
                           "'Authorization: Bearer <token>'")
    row = db.scalar(select(PactToken).where(
        PactToken.token_hash == sha256_hex(authorization[7:].strip())))
    if row is None:
        raise PactApiError(401, "BadRequest", "Invalid access token")
    if row.expires_at <= utcnow():
        raise PactApiError(401, "TokenExpired", "The specified access token has expired")
    client = db.get(PactClient, row.client_id)
    if client is None or client.revoked:
        raise PactApiError(403, "AccessDenied", "Access denied: the client was revoked")
    return client


# --- the host API: footprints ---------------------------------------------------------------

def _instant_param(values: list[str], name: str) -> datetime | None:
    if not values:
        return None
    if len(values) > 1:
        raise _bad(f"{name} is given more than once")
    try:
        return pact.parse_instant(values[0], name)
    except pact.PactError as exc:
        raise _bad(str(exc)) from None


def _validity(doc: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """A footprint's validity period; without one, three years from the reference end."""
    start = pact.parse_instant(doc.get("validityPeriodStart"), "validityPeriodStart")
    end = pact.parse_instant(doc.get("validityPeriodEnd"), "validityPeriodEnd")
    ref_end = pact.parse_instant(doc["pcf"]["referencePeriodEnd"], "referencePeriodEnd")
    assert ref_end is not None
    start = start or ref_end
    if end is None:
        d = ref_end.date()
        end = datetime.combine(pact.add_years(d, 3), ref_end.timetz())
    return start, end


def _matches(doc: Mapping[str, Any], wanted: Mapping[str, list[str]],
             moments: Mapping[str, datetime | None]) -> bool:
    def any_of(values: Sequence[str], given: list[str]) -> bool:
        have = {v.lower() for v in values}
        return any(g.lower() in have for g in given)

    if wanted["productId"] and not any_of(doc.get("productIds", []), wanted["productId"]):
        return False
    if wanted["companyId"] and not any_of(doc.get("companyIds", []), wanted["companyId"]):
        return False
    if wanted["classification"] and not any_of(doc.get("productClassifications", []),
                                               wanted["classification"]):
        return False
    if wanted["geography"]:
        pcf = doc["pcf"]
        places = [str(pcf[k]).lower() for k in ("geographyRegionOrSubregion",
                                                "geographyCountry",
                                                "geographyCountrySubdivision") if pcf.get(k)]
        # A country also takes in its subdivisions (CN finds CN-SH).
        if not any(g.lower() == p or p.startswith(g.lower() + "-") for g in wanted["geography"]
                   for p in places):
            return False
    if wanted["status"] and not any(s.lower() == str(doc.get("status", "")).lower()
                                    for s in wanted["status"]):
        return False
    if any(moments.values()):
        start, end = _validity(doc)
        on, after, before = moments["validOn"], moments["validAfter"], moments["validBefore"]
        if on and not start <= on <= end:
            return False
        if after and not start > after:
            return False
        if before and not end < before:
            return False
    return True


def _page_params(params: Sequence[tuple[str, str]]) -> tuple[int, int]:
    values = dict(params)
    try:
        limit = int(values.get("limit", PAGE_MAX))
        offset = int(values.get("offset", 0))
    except ValueError:
        raise _bad("limit and offset are whole numbers") from None
    if limit < 1 or offset < 0:
        raise _bad("limit must be 1 or more, offset 0 or more")
    return min(limit, PAGE_MAX), offset


@dataclass(frozen=True)
class Page:
    data: list[dict[str, Any]]
    next_offset: int | None
    limit: int


def list_footprints(db: Session, client: PactClient, version: str,
                    params: Sequence[tuple[str, str]], domain: str) -> Page:
    """The footprints the client's supplier shares, filtered (v3's parameters) and paged."""
    names = {k for k, _ in params}
    if version == "2":
        if "$filter" in names:
            raise not_implemented("2", "$filter is not implemented by this host")
        unknown = names - {"limit", "offset"}
    else:
        if "$filter" in names:
            raise not_implemented("3", "$filter is deprecated in v3; use the filter "
                                       "parameters")
        extra = {n for n in names if n.lower().startswith("x-")}
        if extra:
            raise not_implemented("3", "no custom filter is offered: " + ", ".join(sorted(extra)))
        unknown = names - {"limit", "offset", *V3_FILTERS}
    if unknown:
        raise _bad("unknown query parameter: " + ", ".join(sorted(unknown)))
    limit, offset = _page_params(params)
    wanted = {name: [v for k, v in params if k == name and v.strip()] for name in V3_FILTERS}
    moments = {name: _instant_param(wanted[name], name)
               for name in ("validOn", "validAfter", "validBefore")}
    docs = [d for d in _documents(db, client.org_id, version, domain)
            if _matches(d, wanted, moments)]
    page = docs[offset:offset + limit]
    return Page(page, offset + limit if offset + limit < len(docs) else None, limit)


def get_footprint(db: Session, client: PactClient, version: str, pf_id: str,
                  domain: str) -> dict[str, Any]:
    """One footprint the client's supplier shares. Another organisation's, or one not
    shared, is not found, so that a client learns nothing of footprints it may not see."""
    study = db.scalar(select(Study).where(Study.pact_id == pf_id.lower())) \
        if _UUID.match(pf_id) else None
    if study is None or study.org_id != client.org_id or not study.shared:
        raise not_found(version)
    status, preceding = _lineage(_shared(db, study.org_id)).get(study.id, ("Active", []))
    try:
        return pact.footprint(footprint_in(db, study, domain, status=status,
                                           preceding=preceding), version)
    except pact.PactError as exc:
        raise _bad(f"this footprint cannot be expressed in v{version}: {exc}") from None


# --- the host API: events -------------------------------------------------------------------

def _event_data(version: str, kind: str, data: Any) -> None:
    """Refuses an event whose data does not fit its type."""
    if not isinstance(data, Mapping):
        raise _bad("data must be a JSON object")
    if kind == "published":
        ids = data.get("pfIds")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise _bad("data.pfIds must be a non-empty list of footprint ids")
        # Both versions' schemas say footprint ids are UUIDs (v3: format uuid), and the
        # conformance tool refuses a URN on both (v3 since August 2025).
        if not all(_UUID.match(i) for i in ids):
            raise _bad("data.pfIds must hold footprint ids (UUIDs)")
    elif kind == "request":
        if version == "2":
            if not isinstance(data.get("pf"), Mapping):
                raise _bad("data.pf must be a ProductFootprint fragment (an object)")
        else:
            for name in ("productId", "companyId", "geography", "classification"):
                value = data.get(name)
                if value is not None and not (isinstance(value, list) and all(
                        isinstance(v, str) for v in value)):
                    raise _bad(f"data.{name} must be a list of strings")
            for name in ("validOn", "validAfter", "validBefore"):
                try:
                    pact.parse_instant(data.get(name), f"data.{name}")
                except pact.PactError as exc:
                    raise _bad(str(exc)) from None
    elif kind == "fulfilled":
        pfs = data.get("pfs")
        if not isinstance(data.get("requestEventId"), str) or not isinstance(pfs, list) or \
                not pfs:
            raise _bad("data must hold requestEventId and a non-empty pfs list")
    elif kind == "rejected":
        error = data.get("error")
        if not isinstance(data.get("requestEventId"), str) or not isinstance(error, Mapping):
            raise _bad("data must hold requestEventId and an error object")


def receive_event(db: Session, client: PactClient, version: str, body: Any,
                  domain: str = "tichub", our_source: str = "") -> PactEvent:
    """Validates and keeps a CloudEvent (structured mode) the client sent; the same event
    (source and id) sent again is taken once. A request for footprints is answered at
    once if it can be (``answer_request``): the answer is stored to be sent, not sent."""
    if not isinstance(body, Mapping):
        raise _bad("the body must be a CloudEvent (a JSON object)")
    for name in ("type", "specversion", "id", "source"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise _bad(f"{name} is missing")
    if body["specversion"] != "1.0":
        raise _bad("specversion must be 1.0 (CloudEvents)")
    kind = EVENT_TYPES[version].get(body["type"])
    if kind is None:
        other = "3" if version == "2" else "2"
        if body["type"] in EVENT_TYPES[other]:
            raise _bad(f"{body['type']} is a v{other} event; send it to /{other}/events")
        raise _bad(f"unknown event type {body['type']}")
    if "time" in body or version == "3":
        try:
            if pact.parse_instant(body.get("time"), "time") is None:
                raise _bad("time is missing")
        except pact.PactError as exc:
            raise _bad(str(exc)) from None
    _event_data(version, kind, body.get("data"))
    event_id, source = body["id"][:200], body["source"][:500]
    seen = db.scalar(select(PactEvent).where(
        PactEvent.client_id == client.id, PactEvent.event_id == event_id,
        PactEvent.source == source))
    if seen is not None:
        return seen
    row = PactEvent(client_id=client.id, spec=version, type=body["type"][:200],
                    event_id=event_id, source=source, data=dict(body.get("data") or {}))
    db.add(row)
    db.flush()
    if kind == "request":
        answer_request(db, client, row, domain, our_source)
    db.commit()
    return row


# --- answering a customer's request ---------------------------------------------------------

def _wanted(version: str, data: Mapping[str, Any]
            ) -> tuple[dict[str, list[str]], dict[str, datetime | None]]:
    """What a RequestCreated asks for, as the filters of ListFootprints: v2 names a
    ProductFootprint fragment (its productIds, companyIds), v3 the filters themselves."""
    def strings(value: Any) -> list[str]:
        return [v for v in value if isinstance(v, str) and v.strip()] \
            if isinstance(value, list) else []

    wanted: dict[str, list[str]] = {name: [] for name in V3_FILTERS}
    moments: dict[str, datetime | None] = {"validOn": None, "validAfter": None,
                                           "validBefore": None}
    if version == "2":
        pf = data.get("pf")
        pf = pf if isinstance(pf, Mapping) else {}
        wanted["productId"] = strings(pf.get("productIds"))
        wanted["companyId"] = strings(pf.get("companyIds"))
    else:
        for name in ("productId", "companyId", "geography", "classification"):
            wanted[name] = strings(data.get(name))
        for name in moments:
            with suppress(pact.PactError):
                moments[name] = pact.parse_instant(data.get(name), name)
    return wanted, moments


def _ours(db: Session, org_id: str, domain: str, product_ids: Sequence[str]) -> bool:
    """Whether a product id names one of the organisation's product models."""
    prefix = product_urn(domain, "")
    ids = [p[len(prefix):].upper() for p in product_ids if p.lower().startswith(prefix.lower())]
    return bool(ids) and db.scalar(select(Study.id).where(
        Study.org_id == org_id, Study.model_id.in_(ids)).limit(1)) is not None


def answer_request(db: Session, client: PactClient, request: PactEvent, domain: str,
                   our_source: str) -> str:
    """The automatic answer to a RequestCreated: the footprints we share that match it
    (RequestFulfilled); a request for a product of ours with no footprint shared yet is
    left pending, for a person to answer on the PACT page; otherwise RequestRejected,
    saying why. Returns the answer."""
    version = request.spec
    wanted, moments = _wanted(version, request.data)
    if not any(wanted.values()) and not any(moments.values()):
        request.answer = "pending"  # asks for nothing we can match: a person decides
        return "pending"
    docs = [d for d in _documents(db, client.org_id, version, domain)
            if _matches(d, wanted, moments)]
    if docs:
        pact_events.enqueue(db, client, request, "fulfilled",
                            {"requestEventId": request.event_id, "pfs": docs[:PAGE_MAX]},
                            our_source, None, pact_events.is_local(domain))
        return "fulfilled"
    if _ours(db, client.org_id, domain, wanted["productId"]):
        request.answer = "pending"
        return "pending"
    error = not_found(version)
    asked = ", ".join(wanted["productId"]) or "none"
    asked = asked if len(asked) <= 300 else asked[:297] + "…"
    pact_events.enqueue(db, client, request, "rejected", {
        "requestEventId": request.event_id,
        "error": {"code": error.code, "message": "No footprint shared with you matches "
                  f"the request (product ids: {asked})."}},
        our_source, None, pact_events.is_local(domain))
    return "rejected"


def _pending_request(db: Session, principal: Principal, event_row_id: str
                     ) -> tuple[PactEvent, PactClient]:
    row = db.get(PactEvent, event_row_id)
    client = db.get(PactClient, row.client_id) if row else None
    if row is None or client is None or not can(principal, Role.viewer, org=client.org_id):
        raise errors.not_found(Msg("No such PACT request"))
    require_member(principal, Role.editor, org=client.org_id, scope=SCOPE)
    if row.answer != "pending":
        raise errors.conflict("request", Msg("This request is answered already"))
    return row, client


def org_of(db: Session, request: PactEvent) -> str:
    """The organisation a customer's request was sent to."""
    client = db.get(PactClient, request.client_id)
    return client.org_id if client else ""


def fulfil_request(db: Session, principal: Principal, event_row_id: str, study_id: str,
                   domain: str, our_source: str) -> PactEvent:
    """A person answers a pending request with one of the footprints the organisation
    shares."""
    row, client = _pending_request(db, principal, event_row_id)
    study = db.get(Study, study_id) if study_id else None
    if study is None or study.org_id != client.org_id or not study.shared or \
            not study.pact_id:
        raise errors.invalid("study_id", Msg("choose a footprint you share"))
    status, preceding = _lineage(_shared(db, study.org_id)).get(study.id, ("Active", []))
    try:
        doc = pact.footprint(footprint_in(db, study, domain, status=status,
                                          preceding=preceding), row.spec)
    except pact.PactError:
        raise errors.invalid("study_id", Msg(
            "this footprint cannot be expressed in PACT version {version}",
            version=row.spec)) from None
    pact_events.enqueue(db, client, row, "fulfilled",
                        {"requestEventId": row.event_id, "pfs": [doc]}, our_source,
                        principal.user_id, pact_events.is_local(domain))
    db.commit()
    return row


def reject_request(db: Session, principal: Principal, event_row_id: str, reason: str,
                   domain: str, our_source: str) -> PactEvent:
    """A person declines a pending request, saying why (the customer's system is told)."""
    row, client = _pending_request(db, principal, event_row_id)
    reason = reason.strip()
    if not reason:
        raise errors.invalid("reason", Msg("say why, for the customer"))
    code = "NoSuchFootprint" if row.spec == "2" else "NotFound"
    pact_events.enqueue(db, client, row, "rejected", {
        "requestEventId": row.event_id, "error": {"code": code, "message": reason[:1000]}},
        our_source, principal.user_id, pact_events.is_local(domain))
    db.commit()
    return row


def set_credentials(db: Session, principal: Principal, client_row_id: str,
                    their_client_id: str, their_secret: str, secret_key: str) -> PactClient:
    """The client id and secret the customer gave for its own token endpoint, with which
    we answer its requests. The secret is kept encrypted and never shown again; setting
    them again replaces them (rotation)."""
    row = db.get(PactClient, client_row_id)
    if row is None or not can(principal, Role.viewer, org=row.org_id):
        raise errors.not_found(Msg("No such PACT client"))
    require_member(principal, Role.admin, org=row.org_id, scope=SCOPE)
    their_client_id, their_secret = their_client_id.strip(), their_secret.strip()
    if not their_client_id:
        raise errors.invalid("callback_client_id", Msg("give the client id the customer "
                                                       "gave you"))
    if not their_secret:
        raise errors.invalid("callback_secret", Msg("give the secret the customer gave you"))
    if len(their_client_id) > 200 or len(their_secret) > 2000:
        raise errors.invalid("callback_secret", Msg("is too long"))
    rotated = row.callback_secret is not None
    row.callback_client_id = their_client_id
    row.callback_secret = pact_events.seal(secret_key, their_secret)
    row.callback_set_at = utcnow()
    audit.record(db, action="carbon.pact.client.credentials." +
                 ("rotated" if rotated else "set"), object_type="carbon_pact_client",
                 object_id=row.id, actor_user_id=principal.user_id, org_id=row.org_id,
                 data={"name": row.name, "callback_client_id": their_client_id})
    db.commit()
    return row


def deliveries(db: Session, principal: Principal, org_id: str,
               limit: int = 50) -> dict[str, PactDelivery]:
    """The latest delivery of each answered request of the organisation, by request."""
    require(principal, Role.viewer, org=org_id)
    rows = db.scalars(select(PactDelivery).join(
        PactClient, PactClient.id == PactDelivery.client_id).where(
        PactClient.org_id == org_id).order_by(PactDelivery.created_at.desc()).limit(limit))
    out: dict[str, PactDelivery] = {}
    for r in rows:
        out.setdefault(r.request_id, r)
    return out


# --- a received footprint as an emission factor ---------------------------------------------

def factor_key(org_id: str, summary: pact.PactSummary) -> str:
    """``pact.<organisation>.<product id>``: factor keys are one namespace for every
    library, so the receiving organisation's id keeps two customers of one supplier apart
    (and neither learns that the other took the same footprint in)."""
    ident = summary.product_ids[0] if summary.product_ids else summary.id
    text = re.sub(r"[^A-Za-z0-9._:/-]+", "-", ident).strip("-") or summary.id
    return f"pact.{org_id.lower()}.{text}"[:120]


def _basis(summary: pact.PactSummary) -> str:
    if not summary.basis:
        raise errors.invalid("pcf.ipccCharacterizationFactors", Msg(
            "missing: the GWP basis (AR5 or AR6) of the footprint's CO2e is needed"))
    for basis in ("AR6", "AR5"):
        if basis in summary.basis:
            return basis
    raise errors.invalid("pcf.ipccCharacterizationFactors", Msg(
        "the platform keeps CO2e on IPCC AR5 or AR6; the footprint states {basis}",
        basis=", ".join(summary.basis)))


def import_footprint(db: Session, principal: Principal, org_id: str, doc: Any
                     ) -> tuple[pact.PactSummary, ImportSummary]:
    """A supplier's ProductFootprint (v2 or v3) as the organisation's own emission factor:
    per one declared unit, CO2e split by origin, so that its footprints can use it as a
    supplier-specific factor. Another import for the same product adds a version."""
    require_member(principal, Role.editor, org=org_id, scope=SCOPE)
    try:
        s = pact.read_footprint(doc)
    except pact.PactError as exc:
        raise errors.invalid(exc.where, exc.message) from None
    parts = {"fossil": s.fossil, "dluc": s.dluc, "land_management": s.land_management,
             "biogenic": s.biogenic, "biogenic_removal": s.biogenic_removal}
    gases = [{"gas": "CO2e", "category": k, "amount": float(pact.dec(v))}
             for k, v in parts.items() if abs(v) > 1e-12 * max(1.0, abs(s.pcf_including))]
    moment = s.period_end or s.period_start
    year = moment.year if moment else None
    ids = ", ".join(s.company_ids[:3])
    try:
        factor = FactorIn.model_validate({
            "key": factor_key(org_id, s), "name_en": s.product_name[:300], "unit": s.unit,
            "gases": gases or [{"gas": "CO2e", "category": "fossil", "amount": 0.0}],
            "basis": _basis(s), "region": s.geography[:60],
            "year": year if year and 1900 <= year <= 2100 else None,
            "source": (f"{s.company_name}" + (f" ({ids})" if ids else "")
                       + f", PACT ProductFootprint {s.id} (spec {s.spec_version or s.spec})"
                       )[:2000],
            "notes": (f"Supplier's footprint per 1 {s.unit} (their declared unit: "
                      f"{pact.dec(s.declared_amount)} {s.unit}); status {s.status}"
                      + ("; verified by " + s.verifier if s.verified and s.verifier
                         else "; verified" if s.verified else "") + ".")[:2000]})
    except ValueError as exc:  # pydantic's ValidationError
        raise errors.Problem(422, "Invalid input", errors=errors.field_errors(
            getattr(exc, "errors", lambda: [])())) from None
    summary = carbon.save_factors(db, principal, [(None, factor)], org_id)
    return s, summary
