"""One organisation cannot read or change another's private data through any route.

Every route of the application must appear in CASES; a new route without a case fails
``test_every_route_is_covered``, so this test grows with the platform.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from helpers import api_token, make_account, make_institution, sign_in
from tichub.app import api_routes
from tichub.carbon.models import CbamInstallation, EmissionFactor, ProductModel, Study
from tichub.core.models import ApiToken, AuditEvent, OrgKind
from tichub.market.models import (
    Booking,
    Instrument,
    InstrumentEvent,
    LedgerEntry,
    Order,
    OrderEvent,
    Programme,
    ProgrammeProvider,
    ServiceListing,
    Voucher,
)
from tichub.pt.models import PtCorrectiveAction, PtParticipant, PtResult, PtRound, PtScheme
from tichub.registry import service as registry
from tichub.registry.models import Institution, Qualification, ScopeLine, Staff, StandardEdition
from tichub.registry.schemas import InstitutionPatch, SignatoryIn
from tichub.reports import service as reports
from tichub.reports.models import LogTile, ReportRecord
from tichub.reports.note import COSIGNATURE, Signer
from tichub.reports.schemas import RecordIn
from tichub.supervision.models import QualificationApplication

SECRETS = ("秘密实验室", "a-owner@example.com", "a-secret-token", "over_1b", "秘密客户",
           "秘密参加者", "0.3141592", "秘密用途", "秘密电机", "a.secret.factor", "秘密场所")
# A's revenue tier is private, but its name is a value of an enum the API schema lists.
SCHEMA_WORDS = ("over_1b",)


_PACT_IDS: dict[str, str] = {}  # A's shared PACT footprint and PACT client, by _build
# A's credit score, its appeal with a file, and a complaint about A (supervision: credit).
_CREDIT_IDS: dict[str, str] = {}


def _credit_world(db, a_org: str, inst: str) -> None:  # type: ignore[no-untyped-def]
    from tichub.supervision.credit import service as credit
    from tichub.supervision.models import Complaint, CreditAppeal, CreditScore, StoredFile

    credit.recompute(db, institution_ids=[inst])
    score = db.scalar(select(CreditScore.id).where(CreditScore.institution_id == inst))
    file = StoredFile(org_id=a_org, institution_id=inst, name="f.pdf",
                      content_type="application/pdf", size=3, sha256="0" * 64, data=b"abc")
    complaint = Complaint(tracking_code="TS-AAAA-BBBB-CCCC", institution_id=inst,
                          district="pudong", text="秘密客户", contact="a-owner@example.com")
    db.add_all([file, complaint])
    db.flush()
    appeal = CreditAppeal(score_id=score, institution_id=inst, text="秘密客户", files=[file.id])
    db.add(appeal)
    db.commit()
    _CREDIT_IDS.update(score_id=score, appeal_id=appeal.id, file_id=file.id,
                       complaint_id=complaint.id, code=complaint.tracking_code)


@dataclass
class World:
    a_org: str
    a_inst: str
    a_hidden: str
    a_qual: str
    a_token: str
    b_org: str
    a_record: str
    a_signatory: str
    a_scheme: str
    a_round: str
    a_participant: str
    c_org: str  # a participant in A's PT round, whose identity and result are private
    a_number: str = "A-2026-0001"
    a_tile: str = "entries/000.p/1"  # the entry bundle holding A's record
    a_instrument: str = ""
    a_booking: str = ""  # A's booking of its own instrument, with a private purpose
    programme: str = ""
    a_listing: str = ""  # A's application to be paid by the programme's vouchers
    voucher: str = ""  # held by an enterprise other than B
    a_listing_service: str = ""  # a service A lists
    a_order: str = ""  # an enterprise's order of A's service
    a_notice: str = ""  # what A was told of it
    application: str = ""  # an enterprise's voucher application
    cal_start: str = ""
    cal_end: str = ""
    step: str = "open"
    fmt: str = "csv"
    what: str = "provider"
    kind: str = "invoice"
    a_expert: str = ""
    a_consultation: str = ""  # a firm's consultation of A's expert
    item_id: str = ""  # A's application to the programme, for the operator's page step
    a_factor: str = "a.secret.factor"  # A's own emission factor
    a_model: str = ""  # A's product model
    a_study: str = ""  # its footprint study
    pf_id: str = dataclasses.field(default_factory=lambda: _PACT_IDS.get("pf_id", ""))
    client_id: str = dataclasses.field(default_factory=lambda: _PACT_IDS.get("client_id", ""))
    pact_request: str = dataclasses.field(
        default_factory=lambda: _PACT_IDS.get("pact_request", ""))
    a_installation: str = ""  # A's CBAM installation
    a_qapp: str = ""  # A's qualification application on commitment, with a private site
    score_id: str = dataclasses.field(default_factory=lambda: _CREDIT_IDS.get("score_id", ""))
    appeal_id: str = dataclasses.field(default_factory=lambda: _CREDIT_IDS.get("appeal_id", ""))
    file_id: str = dataclasses.field(default_factory=lambda: _CREDIT_IDS.get("file_id", ""))
    complaint_id: str = dataclasses.field(
        default_factory=lambda: _CREDIT_IDS.get("complaint_id", ""))
    code: str = dataclasses.field(default_factory=lambda: _CREDIT_IDS.get("code", ""))
    version: str = "v1"
    # Supervision (inspections): a lab reaches none of a bureau's plans, inspectors,
    # inspections or sanctions; ids of none (a lab is refused before any look-up).
    plan_id: str = "01J00000000000000000000000"
    inspector_id: str = "01J00000000000000000000000"
    inspection_id: str = "01J00000000000000000000000"
    sanction_id: str = "01J00000000000000000000000"
    action: str = "freeze"
    a_equipment: str = ""  # an instrument of A's equipment register, not shared
    a_event: str = ""  # an outage of it
    a_staff: str = ""  # a person of A's staff register
    a_signal: str = ""  # a signal about A, A asked to explain, with A's answer file
    a_file: str = ""
    c_result: str = ""  # C's result in A's round (corrective actions are C's alone)


@dataclass
class Case:
    method: str
    path: str  # formatted with World's fields
    # "denied": 401/403/404; "public": 200 without A's secrets; "own": B's own data;
    # "schema": the API's description, public, without A's data
    expect: str
    body: Callable[[World], dict[str, Any]] | None = None
    files: bool = False
    form: bool = False  # a page's form: the body goes form-encoded


CASES = [
    Case("GET", "/api/me", "own"),
    Case("GET", "/api/openapi.json", "schema"),
    Case("GET", "/api/docs", "schema"),
    Case("GET", "/api/orgs/{a_org}", "denied"),
    Case("GET", "/api/orgs/{a_org}/members", "denied"),
    Case("GET", "/api/orgs/{a_org}/tokens", "denied"),
    Case("POST", "/api/orgs/{a_org}/tokens", "denied",
         body=lambda w: {"name": "stolen", "scopes": ["registry:write"]}),
    Case("DELETE", "/api/tokens/{a_token}", "denied"),
    Case("GET", "/api/orgs/{a_org}/audit", "denied"),
    Case("GET", "/api/registry/search", "public"),
    Case("GET", "/api/registry/search.csv", "public"),
    Case("GET", "/api/registry/search.xlsx", "public"),
    Case("GET", "/api/registry/institutions/{a_inst}/scope.csv", "public"),
    Case("GET", "/api/registry/institutions/{a_inst}/scope.xlsx", "public"),
    Case("GET", "/api/registry/institutions/{a_hidden}/scope.csv", "denied"),
    Case("GET", "/api/registry/institutions/{a_hidden}/scope.xlsx", "denied"),
    Case("GET", "/api/registry/institutions/{a_inst}", "public"),
    Case("GET", "/api/registry/institutions/{a_hidden}", "denied"),
    Case("GET", "/api/registry/institutions/{a_inst}/scope", "public"),
    Case("GET", "/api/registry/institutions/{a_hidden}/scope", "denied"),
    Case("POST", "/api/registry/orgs/{a_org}/institutions", "denied",
         body=lambda w: {"name_zh": "冒名", "credit_code": "91350100M000100Y43",
                         "district": "pudong"}),
    Case("PATCH", "/api/registry/institutions/{a_inst}", "denied",
         body=lambda w: InstitutionPatch(name_zh="篡改").model_dump(exclude_unset=True)),
    Case("POST", "/api/registry/institutions/{a_inst}/qualifications", "denied",
         body=lambda w: {"kind": "cma", "number": "999", "valid_until": "2030-01-01"}),
    Case("PUT", "/api/registry/qualifications/{a_qual}", "denied",
         body=lambda w: {"kind": "cnas", "number": "CNAS L0001", "valid_until": "2040-01-01",
                         "status": "valid"}),
    Case("PUT", "/api/registry/qualifications/{a_qual}/scope", "denied",
         body=lambda w: [{"standard": "GB 1-2000", "product": "x", "parameter": "y"}]),  # type: ignore[dict-item,return-value]
    Case("POST", "/api/registry/institutions/{a_inst}/scope/import", "denied", files=True),
    Case("POST", "/api/registry/institutions/import", "denied", files=True),
    Case("POST", "/api/reports", "denied", body=lambda w: {
        "number": "B-forged-1", "kind": "test_report", "institution_id": w.a_inst,
        "issued_on": "2026-01-05"}),
    Case("POST", "/api/reports/batch", "denied", body=lambda w: {"records": [{
        "number": "B-forged-2", "kind": "test_report", "institution_id": w.a_inst,
        "issued_on": "2026-01-05"}]}),
    Case("GET", "/api/reports/verify?number={a_number}", "public"),
    Case("GET", "/api/reports/status?number={a_number}", "public"),
    Case("GET", "/api/reports/records/{a_record}", "public"),
    Case("GET", "/api/reports/records/{a_record}/bundle", "public"),
    Case("PUT", "/api/reports/records/{a_record}/pdf", "denied", body=lambda w: {}),
    Case("GET", "/api/reports/records/{a_record}/pdf", "denied"),
    Case("GET", "/api/reports/records/{a_record}/evidence", "denied"),
    Case("GET", "/supervision/records/{a_record}", "denied"),
    Case("GET", "/api/reports/log/consistency?old=0&new=1", "public"),
    Case("GET", "/api/reports/log/checkpoints/1", "public"),
    Case("GET", "/api/reports/log/checkpoints", "public"),
    Case("GET", "/api/reports/log/witnesses", "public"),
    Case("POST", "/api/reports/orgs/{a_org}/witnesses", "denied", body=lambda w: {
        "verifier_key": "w.example+00000000+BBpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"}),
    Case("GET", "/api/reports/orgs/{a_org}/issuer-keys", "public"),
    Case("POST", "/api/reports/orgs/{a_org}/issuer-keys", "denied", body=lambda w: {
        "verifier_key": "b.example+00000000+AZmk5xBrsSRD7j4NcAI5eO0E3Z2OM7hjjo5sBDGqlZCz"}),
    Case("POST", "/api/reports/log/cosignatures", "denied", body=lambda w: {
        "size": 1, "cosignature": "\u2014 a-witness.example AAAA"}),
    Case("GET", "/log/checkpoint", "public"),
    Case("GET", "/log/tile/{a_tile}", "public"),
    Case("GET", "/api/registry/institutions/{a_inst}/signatories", "public"),
    Case("GET", "/api/registry/institutions/{a_hidden}/signatories", "denied"),
    Case("POST", "/api/registry/institutions/{a_inst}/signatories", "denied",
         body=lambda w: {"name": "冒名", "authorised_from": "2020-01-01"}),
    Case("POST", "/api/registry/signatories/{a_signatory}/end?on=2026-01-01", "denied"),
    Case("GET", "/api/pt/schemes", "public"),
    Case("POST", "/api/pt/schemes", "denied", body=lambda w: {
        "org_id": w.a_org, "code": "FORGED", "name_zh": "冒名计划"}),
    Case("GET", "/api/pt/schemes/{a_scheme}", "public"),
    Case("POST", "/api/pt/schemes/{a_scheme}/measurands", "denied",
         body=lambda w: {"name": "forged", "unit": "mg/kg"}),
    Case("POST", "/api/pt/schemes/{a_scheme}/rounds", "denied",
         body=lambda w: {"code": "X", "deadline": "2030-01-01T00:00:00+08:00"}),
    Case("GET", "/api/pt/rounds", "public"),
    Case("GET", "/api/pt/rounds/{a_round}", "public"),
    Case("GET", "/api/pt/rounds/{a_round}/participants", "denied"),
    Case("POST", "/api/pt/rounds/{a_round}/participants", "denied",
         body=lambda w: {"org_id": w.b_org}),
    Case("POST", "/api/pt/rounds/{a_round}/join", "denied", body=lambda w: {"org_id": w.c_org}),
    Case("POST", "/api/pt/participants/{a_participant}/answer", "denied",
         body=lambda w: {"accept": False}),
    Case("POST", "/api/pt/rounds/{a_round}/homogeneity?measurand=lead", "denied", files=True),
    Case("POST", "/api/pt/rounds/{a_round}/stability", "denied", body=lambda w: {
        "measurand": "lead", "before": [1], "after": [2], "sigma_pt": 1}),
    Case("POST", "/api/pt/rounds/{a_round}/open", "denied"),
    Case("POST", "/api/pt/rounds/{a_round}/close", "denied"),
    Case("POST", "/api/pt/rounds/{a_round}/compute", "denied"),
    Case("POST", "/api/pt/rounds/{a_round}/publish", "denied"),
    Case("POST", "/api/pt/rounds/{a_round}/results", "denied", body=lambda w: {
        "org_id": w.c_org, "results": [{"measurand": "lead", "value": 1}]}),
    Case("POST", "/api/pt/rounds/{a_round}/results/upload?org_id={c_org}", "denied",
         files=True),
    Case("GET", "/api/pt/rounds/{a_round}/results?org_id={c_org}", "denied"),
    Case("GET", "/api/pt/rounds/{a_round}/report", "denied"),
    Case("GET", "/api/pt/orgs/{c_org}/history", "denied"),
    Case("GET", "/api/pt/unsatisfactory", "denied"),
    Case("POST", "/api/pt/results/{c_result}/corrective-actions", "denied",
         body=lambda w: {"done_on": "2026-01-05", "note": "冒名整改"}),
    Case("GET", "/api/pt/results/{c_result}/corrective-actions", "denied"),
    Case("GET", "/api/supervision/applications/commitment?institution_id={a_inst}&kind=first",
         "denied"),
    Case("POST", "/api/supervision/applications", "denied", body=lambda w: {
        "institution_id": w.a_inst, "route": "general", "kind": "first",
        "conditions": {"site_address": "冒名", "staff_count": 1, "scope": [
            {"standard": "GB 31241-2022", "product": "x", "parameter": "y"}]}}),
    Case("GET", "/api/supervision/applications", "denied"),
    Case("GET", "/api/supervision/mine/applications", "own"),
    Case("GET", "/api/supervision/applications/{a_qapp}", "denied"),
    Case("POST", "/api/supervision/applications/{a_qapp}/check", "denied",
         body=lambda w: {"passed": False, "note": "forged"}),
    Case("POST", "/api/supervision/applications/{a_qapp}/decision", "denied",
         body=lambda w: {"approved": True}),
    Case("GET", "/supervision/mine/applications", "own"),
    Case("GET", "/supervision/mine/applications/new?institution_id={a_inst}", "denied"),
    Case("POST", "/supervision/mine/applications", "denied", body=lambda w: {
        "institution_id": w.a_inst, "route": "general", "kind": "first",
        "site_address": "冒名", "staff_count": "1",
        "scope": "GB 31241-2022, x, y"}, form=True),
    Case("GET", "/supervision/mine/applications/{a_qapp}", "denied"),
    Case("GET", "/supervision/applications", "denied"),
    Case("GET", "/supervision/applications.{fmt}", "denied"),
    Case("GET", "/supervision/applications/{a_qapp}", "denied"),
    Case("POST", "/supervision/applications/{a_qapp}/check", "denied",
         body=lambda w: {"outcome": "failed", "note": "forged"}, form=True),
    Case("POST", "/supervision/applications/{a_qapp}/decision", "denied",
         body=lambda w: {"outcome": "approved"}, form=True),
    Case("GET", "/pt", "public"),
    Case("POST", "/pt/schemes", "denied", body=lambda w: {
        "org_id": w.a_org, "code": "FORGED", "name_zh": "冒名计划"}, form=True),
    Case("GET", "/pt/schemes/{a_scheme}", "public"),
    Case("POST", "/pt/schemes/{a_scheme}/rounds", "denied", body=lambda w: {}, form=True),
    Case("GET", "/pt/rounds/{a_round}", "public"),
    Case("POST", "/pt/rounds/{a_round}/invite", "denied",
         body=lambda w: {"org_id": w.b_org}, form=True),
    Case("POST", "/pt/rounds/{a_round}/join", "denied",
         body=lambda w: {"org_id": w.c_org}, form=True),
    Case("POST", "/pt/participants/{a_participant}/answer", "denied",
         body=lambda w: {"accept": "no", "round_id": w.a_round}, form=True),
    Case("POST", "/pt/rounds/{a_round}/results", "denied",
         body=lambda w: {"org_id": w.c_org}, form=True),
    Case("POST", "/pt/rounds/{a_round}/homogeneity", "denied",
         body=lambda w: {"measurand": "lead"}, form=True),
    Case("POST", "/pt/rounds/{a_round}/stability", "denied",
         body=lambda w: {"measurand": "lead", "before": "1", "after": "2", "sigma_pt": "1"},
         form=True),
    Case("POST", "/pt/rounds/{a_round}/{step}", "denied", form=True),
    Case("GET", "/pt/rounds/{a_round}/report", "denied"),
    Case("GET", "/pt/rounds/{a_round}/report.pdf", "denied"),
    Case("GET", "/pt/rounds/{a_round}/report.pdf/progress", "denied"),
    Case("GET", "/pt/rounds/{a_round}/scores.{fmt}", "denied"),
    Case("GET", "/pt/history?org={c_org}", "denied"),
    Case("POST", "/pt/results/{c_result}/corrective-actions", "denied",
         body=lambda w: {"done_on": "2026-01-05", "note": "冒名整改"}, form=True),
    Case("GET", "/api/instruments", "public"),
    Case("POST", "/api/instruments", "denied", body=lambda w: {
        "org_id": w.a_org, "name": "冒名仪器", "kind": "SEM"}),
    Case("GET", "/api/instruments/{a_instrument}", "public"),
    Case("GET", "/api/instruments/{a_instrument}/calendar?start={cal_start}&end={cal_end}",
         "public"),
    Case("POST", "/api/instruments/{a_instrument}/bookings", "denied", body=lambda w: {
        "org_id": w.a_org, "starts_at": w.cal_start, "ends_at": w.cal_end}),
    Case("POST", "/api/bookings/{a_booking}/decision", "denied", body=lambda w: {
        "approve": False}),
    Case("POST", "/api/bookings/{a_booking}/cancel", "denied"),
    Case("POST", "/api/bookings/{a_booking}/outcome", "denied", body=lambda w: {
        "outcome": "no_show"}),
    Case("POST", "/api/vouchers/programmes", "denied", body=lambda w: {
        "org_id": w.a_org, "code": "FORGED", "name": "x", "budget_fen": 1,
        "valid_from": "2026-01-01", "valid_until": "2026-12-31"}),
    Case("GET", "/api/vouchers/programmes/{programme}", "public"),
    Case("POST", "/api/vouchers/programmes/{programme}/providers", "denied",
         body=lambda w: {"org_id": w.a_org}),
    Case("POST", "/api/vouchers/providers/{a_listing}/decision", "denied",
         body=lambda w: {"approve": False}),
    Case("POST", "/api/vouchers/programmes/{programme}/vouchers", "denied", body=lambda w: {
        "holder_org_id": w.b_org, "face_fen": 100, "valid_until": "2026-12-31"}),
    Case("GET", "/api/vouchers/{voucher}", "denied"),
    Case("POST", "/api/vouchers/{voucher}/revoke", "denied"),
    Case("POST", "/api/vouchers/programmes/{programme}/settlements", "denied",
         body=lambda w: {"provider_org_id": w.a_org}),
    Case("GET", "/api/vouchers/programmes/{programme}/ledger", "denied"),
    Case("GET", "/api/services", "public"),
    Case("POST", "/api/services", "denied", body=lambda w: {
        "org_id": w.a_org, "institution_id": w.a_inst, "title": "冒名", "standards": ["GB 1"],
        "price_fen": 1}),
    Case("POST", "/api/services/{a_listing_service}/orders", "denied", body=lambda w: {
        "org_id": w.a_org, "product": "x"}),
    Case("POST", "/api/requests", "denied", body=lambda w: {
        "org_id": w.a_org, "product": "x", "institution_ids": [w.a_inst]}),
    Case("GET", "/api/orders?org_id={a_org}", "denied"),
    Case("GET", "/api/orders/{a_order}", "denied"),
    Case("GET", "/api/orders/{a_order}/events", "denied"),
    Case("POST", "/api/orders/{a_order}/actions", "denied", body=lambda w: {
        "action": "decline"}),
    Case("POST", "/api/orders/{a_order}/rating", "denied", body=lambda w: {"rating": 1}),
    Case("POST", "/api/vouchers/programmes/{programme}/applications", "denied",
         body=lambda w: {"org_id": w.a_org, "requested_fen": 1, "district": "pudong",
                         "sector": "x"}),
    Case("GET", "/api/vouchers/programmes/{programme}/applications", "denied"),
    Case("POST", "/api/vouchers/applications/{application}/decision", "denied",
         body=lambda w: {"approve": True}),
    Case("POST", "/api/vouchers/programmes/{programme}/claims", "denied",
         body=lambda w: {"provider_org_id": w.a_org}),
    Case("GET", "/api/vouchers/programmes/{programme}/figures", "denied"),
    Case("GET", "/api/vouchers/programmes/{programme}/figures.{fmt}", "denied"),
    Case("GET", "/api/orgs/{a_org}/notifications", "denied"),
    Case("POST", "/api/notifications/{a_notice}/read", "denied"),
    Case("GET", "/market", "public"),
    # The evidence registers: A's alone (and its district's supervisors').
    Case("GET", "/api/registers/equipment?institution_id={a_inst}", "denied"),
    Case("POST", "/api/registers/equipment", "denied", body=lambda w: {
        "institution_id": w.a_inst, "asset_no": "X-1", "name": "冒名", "kind": "x"}),
    Case("GET", "/api/registers/equipment/template.{fmt}", "public"),
    Case("POST", "/api/registers/equipment/import?institution_id={a_inst}", "denied",
         files=True),
    Case("GET", "/api/registers/equipment/{a_equipment}", "denied"),
    Case("PATCH", "/api/registers/equipment/{a_equipment}", "denied",
         body=lambda w: {"shared": True}),
    Case("POST", "/api/registers/equipment/{a_equipment}/events", "denied",
         body=lambda w: {"kind": "calibration", "valid_from": "2026-01-01",
                         "valid_until": "2026-12-31"}),
    Case("POST", "/api/registers/equipment/events/{a_event}/end?on=2026-12-31", "denied"),
    Case("GET", "/api/registers/staff?institution_id={a_inst}", "denied"),
    Case("POST", "/api/registers/staff", "denied", body=lambda w: {
        "institution_id": w.a_inst, "name": "冒名", "employed_from": "2020-01-01"}),
    Case("GET", "/api/registers/staff/template.{fmt}", "public"),
    Case("POST", "/api/registers/staff/import?institution_id={a_inst}", "denied",
         files=True),
    Case("GET", "/api/registers/staff/{a_staff}", "denied"),
    Case("PATCH", "/api/registers/staff/{a_staff}", "denied", body=lambda w: {"name": "x"}),
    Case("POST", "/api/registers/staff/{a_staff}/end?on=2026-12-31", "denied"),
    Case("GET", "/api/standards/editions", "public"),
    Case("GET", "/api/standards/editions/in-force?standard=GB%204943.1-2022&day=2024-01-01",
         "public"),
    Case("POST", "/api/standards/editions", "denied", body=lambda w: {
        "number": "GB 4943.1-2022", "withdrawn_on": "2024-01-01", "source": "x"}),
    Case("POST", "/api/standards/editions/import", "denied", files=True),
    Case("GET", "/registers/equipment?institution={a_inst}", "denied"),
    Case("POST", "/registers/equipment", "denied", form=True, body=lambda w: {
        "institution_id": w.a_inst, "asset_no": "X-1", "name": "冒名", "kind": "x"}),
    Case("POST", "/registers/equipment/import", "denied", form=True, files=True,
         body=lambda w: {"institution_id": w.a_inst}),
    Case("GET", "/registers/equipment/{a_equipment}", "denied"),
    Case("POST", "/registers/equipment/{a_equipment}", "denied", form=True, body=lambda w: {
        "asset_no": "X-1", "name": "冒名", "kind": "x", "shared": "yes"}),
    Case("POST", "/registers/equipment/{a_equipment}/events", "denied", form=True,
         body=lambda w: {"kind": "calibration", "valid_from": "2026-01-01",
                         "valid_until": "2026-12-31"}),
    Case("POST", "/registers/equipment/events/{a_event}/end", "denied", form=True,
         body=lambda w: {"on": "2026-12-31"}),
    Case("GET", "/registers/staff?institution={a_inst}", "denied"),
    Case("POST", "/registers/staff", "denied", form=True, body=lambda w: {
        "institution_id": w.a_inst, "name": "冒名", "employed_from": "2020-01-01"}),
    Case("POST", "/registers/staff/import", "denied", form=True, files=True,
         body=lambda w: {"institution_id": w.a_inst}),
    Case("GET", "/registers/staff/{a_staff}", "denied"),
    Case("POST", "/registers/staff/{a_staff}", "denied", form=True, body=lambda w: {
        "name": "冒名", "employed_from": "2020-01-01"}),
    Case("POST", "/registers/staff/{a_staff}/end", "denied", form=True,
         body=lambda w: {"on": "2026-12-31"}),
    Case("GET", "/standards/editions", "public"),
    Case("POST", "/standards/editions/import", "denied", form=True, files=True),
    Case("POST", "/market/services", "denied", form=True, body=lambda w: {
        "org_id": w.a_org, "institution_id": w.a_inst, "title": "冒名", "standards": "GB 1",
        "price": "1"}),
    Case("GET", "/market/services/{a_listing_service}", "public"),
    Case("POST", "/market/services/{a_listing_service}/orders", "denied", form=True,
         body=lambda w: {"org_id": w.a_org, "product": "x"}),
    Case("GET", "/market/requests/new", "own"),
    Case("GET", "/market/requests/labs", "own"),
    Case("POST", "/market/requests", "denied", form=True, body=lambda w: {
        "org_id": w.a_org, "product": "x", "institution_ids": w.a_inst}),
    Case("GET", "/market/orders", "own"),
    Case("GET", "/market/orders/{a_order}", "denied"),
    Case("GET", "/market/orders/{a_order}/{kind}.pdf", "denied"),
    Case("POST", "/market/orders/{a_order}/actions", "denied", form=True,
         body=lambda w: {"action": "decline"}),
    Case("POST", "/market/instruments", "denied", form=True, body=lambda w: {
        "org_id": w.a_org, "name": "冒名", "kind": "SEM"}),
    Case("GET", "/market/instruments/{a_instrument}", "public"),
    Case("POST", "/market/instruments/{a_instrument}/bookings", "denied", form=True,
         body=lambda w: {"org_id": w.a_org, "day": w.cal_start[:10], "start": "09:00",
                         "end": "10:00"}),
    Case("POST", "/market/bookings/{a_booking}/{step}", "denied", form=True),
    Case("POST", "/market/bookings/{a_booking}/cancel", "denied", form=True),
    Case("GET", "/market/vouchers", "own"),
    Case("POST", "/market/vouchers/{what}", "denied", form=True, body=lambda w: {
        "programme_id": w.programme, "org_id": w.a_org}),
    Case("GET", "/market/programmes/{programme}", "denied"),
    Case("POST", "/market/programmes/{programme}/{what}/{item_id}", "denied", form=True,
         body=lambda w: {"approve": "yes"}),
    Case("GET", "/api/experts", "public"),
    Case("POST", "/api/experts", "denied", body=lambda w: {
        "org_id": w.a_org, "name": "冒名", "fields": ["x"]}),
    Case("POST", "/api/experts/{a_expert}/consultations", "denied", body=lambda w: {
        "org_id": w.a_org, "topic": "x"}),
    Case("GET", "/api/consultations/{a_consultation}", "denied"),
    Case("POST", "/api/consultations/{a_consultation}/steps", "denied", body=lambda w: {
        "action": "cancel"}),
    Case("GET", "/market/experts", "public"),
    Case("POST", "/market/experts", "denied", form=True, body=lambda w: {
        "org_id": w.a_org, "name": "冒名", "fields": "x"}),
    Case("POST", "/market/experts/{a_expert}/consultations", "denied", form=True,
         body=lambda w: {"org_id": w.a_org, "topic": "x"}),
    Case("GET", "/market/consultations/{a_consultation}", "denied"),
    Case("POST", "/market/consultations/{a_consultation}/steps", "denied", form=True,
         body=lambda w: {"action": "decline"}),
    Case("GET", "/api/carbon/factors", "public"),
    Case("GET", "/api/carbon/factors/{a_factor}", "denied"),
    Case("POST", "/api/carbon/factors", "denied", body=lambda w: [{
        "key": "a.secret.factor", "unit": "kg", "gases": [{"gas": "CO2", "amount": 9}],
        "source": "冒名"}]),
    Case("POST", "/api/carbon/factors/import", "denied", files=True, form=True,
         body=lambda w: {"org_id": w.a_org}),
    Case("POST", "/api/carbon/models", "denied", body=lambda w: {
        "org_id": w.a_org, "name": "冒名"}),
    Case("GET", "/api/carbon/models?org_id={a_org}", "denied"),
    Case("GET", "/api/carbon/models/{a_model}", "denied"),
    Case("PUT", "/api/carbon/models/{a_model}", "denied", body=lambda w: {
        "org_id": w.a_org, "name": "冒名"}),
    Case("POST", "/api/carbon/models/{a_model}/studies", "denied", body=lambda w: {}),
    Case("GET", "/api/carbon/studies?org_id={a_org}", "denied"),
    Case("GET", "/api/carbon/studies/{a_study}", "denied"),
    Case("GET", "/carbon", "public"),
    Case("GET", "/carbon/models/new", "public"),
    Case("POST", "/carbon/models", "denied", body=lambda w: {
        "org_id": w.a_org, "name": "冒名电机"}, form=True),
    Case("GET", "/carbon/models/{a_model}", "denied"),
    Case("POST", "/carbon/models/{a_model}/details", "denied",
         body=lambda w: {"name": "改名"}, form=True),
    Case("POST", "/carbon/models/{a_model}/processes", "denied", body=lambda w: {
        "key": "q", "name": "q", "stage": "production"}, form=True),
    Case("POST", "/carbon/models/{a_model}/processes/p/delete", "denied", form=True),
    Case("POST", "/carbon/models/{a_model}/processes/p/inputs", "denied", body=lambda w: {
        "name": "x", "amount": "1", "unit": "kg", "source": "factor",
        "factor": "a.secret.factor"}, form=True),
    Case("POST", "/carbon/models/{a_model}/processes/p/inputs/0/delete", "denied", form=True),
    Case("POST", "/carbon/models/{a_model}/studies", "denied", form=True),
    Case("GET", "/carbon/studies/{a_study}", "denied"),
    Case("GET", "/carbon/studies/{a_study}/contributions.csv", "denied"),
    Case("POST", "/carbon/studies/{a_study}/submit", "denied",
         body=lambda w: {"institution_id": w.a_inst}, form=True),
    Case("POST", "/carbon/studies/{a_study}/withdraw", "denied", form=True),
    Case("POST", "/carbon/studies/{a_study}/checklist", "denied",
         body=lambda w: {"boundary_verdict": "conforms"}, form=True),
    Case("POST", "/carbon/studies/{a_study}/messages", "denied",
         body=lambda w: {"text": "?"}, form=True),
    Case("POST", "/carbon/studies/{a_study}/decision", "denied",
         body=lambda w: {"decision": "reject", "note": "no"}, form=True),
    Case("GET", "/carbon/reviews", "public"),
    Case("GET", "/api/carbon/models/{a_model}/olca", "denied"),
    Case("POST", "/api/carbon/models/olca", "denied", files=True, form=True,
         body=lambda w: {"org_id": w.a_org}),
    Case("POST", "/api/carbon/studies/{a_study}/submit", "denied",
         body=lambda w: {"institution_id": w.a_inst}),
    Case("POST", "/api/carbon/studies/{a_study}/withdraw", "denied"),
    Case("GET", "/api/carbon/reviews?org_id={a_org}", "denied"),
    Case("PUT", "/api/carbon/studies/{a_study}/checklist", "denied",
         body=lambda w: {"items": {"boundary": {"verdict": "conforms"}}}),
    Case("GET", "/api/carbon/studies/{a_study}/messages", "denied"),
    Case("POST", "/api/carbon/studies/{a_study}/messages", "denied",
         body=lambda w: {"text": "a question"}),
    Case("POST", "/api/carbon/studies/{a_study}/decision", "denied",
         body=lambda w: {"decision": "reject", "note": "no"}),
    # A's study is not certified: it has no public label.
    Case("GET", "/api/carbon/labels/CFP-2026-0001-00001.svg", "denied"),
    Case("GET", "/api/carbon/labels/CFP-2026-0001-00001.png", "denied"),
    Case("POST", "/api/carbon/cbam/installations", "denied", body=lambda w: _cbam(w.a_org)),
    Case("GET", "/api/carbon/cbam/installations?org_id={a_org}", "denied"),
    Case("GET", "/api/carbon/cbam/installations/{a_installation}", "denied"),
    Case("PUT", "/api/carbon/cbam/installations/{a_installation}", "denied",
         body=lambda w: _cbam(w.a_org)),
    Case("GET", "/api/carbon/cbam/installations/{a_installation}/results", "denied"),
    Case("GET", "/api/carbon/cbam/installations/{a_installation}/communication.xlsx",
         "denied"),
    # Reads the caller's own upload and stores nothing.
    Case("POST", "/api/carbon/cbam/communications/read", "own", files=True, form=True),
    Case("GET", "/api/carbon/cbam/defaults?cn=7208&country=CN", "public"),
    Case("GET", "/carbon/cbam", "public"),
    Case("GET", "/carbon/cbam/defaults?cn=7208&country=CN", "public"),
    Case("GET", "/carbon/cbam/new", "own"),
    Case("POST", "/carbon/cbam/installations", "denied", form=True,
         body=lambda w: _cbam_form(w.a_org)),
    Case("GET", "/carbon/cbam/installations/{a_installation}", "denied"),
    Case("GET", "/carbon/cbam/installations/{a_installation}/edit", "denied"),
    Case("POST", "/carbon/cbam/installations/{a_installation}", "denied", form=True,
         body=lambda w: _cbam_form(w.a_org)),
    Case("GET", "/carbon/cbam/installations/{a_installation}/results.{fmt}", "denied"),
    Case("GET", "/carbon/cbam/communications", "own"),
    Case("POST", "/carbon/cbam/communications", "own", files=True, form=True),
    # PACT: other companies' systems with PACT tokens; B has none for A.
    Case("POST", "/pact/auth/token", "denied", form=True,
         body=lambda w: {"grant_type": "client_credentials"}),
    Case("GET", "/pact/.well-known/openid-configuration", "public"),
    Case("GET", "/pact/2/footprints", "denied"),
    Case("GET", "/pact/2/footprints/{pf_id}", "denied"),
    Case("POST", "/pact/2/events", "denied", body=lambda w: {
        "type": "org.wbcsd.pathfinder.ProductFootprint.Published.v1", "specversion": "1.0",
        "id": "b-1", "source": "//b.example/2/events", "data": {"pfIds": [w.pf_id]}}),
    Case("GET", "/pact/3/footprints", "denied"),
    Case("GET", "/pact/3/footprints/{pf_id}", "denied"),
    Case("POST", "/pact/3/events", "denied", body=lambda w: {
        "type": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3", "specversion": "1.0",
        "id": "b-1", "source": "//b.example/3/events", "time": "2026-01-01T00:00:00Z",
        "data": {"pfIds": [w.pf_id]}}),
    Case("POST", "/api/carbon/pact/clients", "denied", body=lambda w: {
        "org_id": w.a_org, "name": "冒名"}),
    Case("GET", "/api/carbon/pact/clients?org_id={a_org}", "denied"),
    Case("POST", "/api/carbon/pact/clients/{client_id}/revoke", "denied"),
    Case("PUT", "/api/carbon/pact/clients/{client_id}/credentials", "denied",
         body=lambda w: {"callback_client_id": "b", "callback_secret": "b"}),
    Case("POST", "/api/carbon/pact/requests/{pact_request}/fulfil", "denied",
         body=lambda w: {"study_id": w.a_study}),
    Case("POST", "/api/carbon/pact/requests/{pact_request}/reject", "denied",
         body=lambda w: {"reason": "b"}),
    Case("PUT", "/api/carbon/studies/{a_study}/share", "denied", body=lambda w: {
        "shared": False}),
    Case("GET", "/api/carbon/studies/{a_study}/pact", "denied"),
    Case("POST", "/api/carbon/pact/import", "denied", files=True, form=True,
         body=lambda w: {"org_id": w.a_org}),
    Case("GET", "/carbon/pact", "own"),
    Case("GET", "/carbon/pact?org_id={a_org}", "denied"),
    Case("POST", "/carbon/pact/clients", "denied", form=True, body=lambda w: {
        "org_id": w.a_org, "name": "冒名"}),
    Case("POST", "/carbon/pact/clients/{client_id}/revoke", "denied", form=True),
    Case("POST", "/carbon/pact/clients/{client_id}/credentials", "denied", form=True,
         body=lambda w: {"callback_client_id": "b", "callback_secret": "b"}),
    Case("POST", "/carbon/pact/requests/{pact_request}/fulfil", "denied", form=True,
         body=lambda w: {"study_id": w.a_study}),
    Case("POST", "/carbon/pact/requests/{pact_request}/reject", "denied", form=True,
         body=lambda w: {"reason": "b"}),
    Case("POST", "/carbon/pact/import", "denied", files=True, form=True,
         body=lambda w: {"org_id": w.a_org}),
    Case("POST", "/carbon/studies/{a_study}/share", "denied", form=True,
         body=lambda w: {"shared": "0"}),
    # Supervision: credit tiers, complaints, the dashboard (B is a lab, not a supervisor).
    Case("GET", "/api/supervision/credit/rules", "public"),
    Case("GET", "/api/supervision/credit/rules/{version}", "public"),
    Case("POST", "/api/supervision/credit/recompute", "denied",
         body=lambda w: {"institution_id": w.a_inst}),
    Case("GET", "/api/supervision/credit/tiers", "denied"),
    Case("GET", "/api/supervision/credit/institutions/{a_inst}", "denied"),
    Case("GET", "/api/supervision/credit/scores/{score_id}", "denied"),
    Case("GET", "/api/supervision/credit/scores/{score_id}/verify", "denied"),
    Case("POST", "/api/supervision/credit/appeals", "denied",
         body=lambda w: {"score_id": w.score_id, "text": "b"}),
    Case("GET", "/api/supervision/credit/appeals", "own"),
    Case("POST", "/api/supervision/credit/appeals/{appeal_id}/decision", "denied",
         body=lambda w: {"upheld": True, "answer": "b"}),
    Case("POST", "/api/supervision/complaints", "own",
         body=lambda w: {"institution_id": w.a_inst, "text": "a complaint of B's own",
                         "contact": "b@example.com"}),
    Case("GET", "/api/supervision/complaints/track/{code}", "public"),
    Case("GET", "/api/supervision/complaints", "denied"),
    Case("GET", "/api/supervision/complaints/{complaint_id}", "denied"),
    Case("POST", "/api/supervision/complaints/{complaint_id}/status", "denied",
         body=lambda w: {"status": "rejected", "outcome": "b"}),
    Case("GET", "/api/supervision/dashboard", "denied"),
    Case("GET", "/supervision/credit/rules", "public"),
    Case("GET", "/supervision/mine", "own"),
    Case("POST", "/supervision/mine/appeals", "denied", form=True,
         body=lambda w: {"score_id": w.score_id, "text": "b"}),
    Case("GET", "/supervision/institutions/{a_inst}", "denied"),
    Case("POST", "/supervision/institutions/{a_inst}/recompute", "denied", form=True),
    Case("GET", "/supervision/appeals", "denied"),
    Case("POST", "/supervision/appeals/{appeal_id}", "denied", form=True,
         body=lambda w: {"status": "upheld", "answer": "b"}),
    Case("GET", "/supervision/appeals/{appeal_id}/files/{file_id}", "denied"),
    Case("GET", "/supervision/complaints/new", "public"),
    Case("POST", "/supervision/complaints/new", "own", form=True,
         body=lambda w: {"institution_id": w.a_inst, "text": "a complaint of B's own",
                         "contact": "b@example.com"}),
    Case("GET", "/supervision/complaints/track?code={code}", "public"),
    Case("GET", "/supervision/complaints", "denied"),
    Case("GET", "/supervision/complaints/{complaint_id}", "denied"),
    Case("POST", "/supervision/complaints/{complaint_id}", "denied", form=True,
         body=lambda w: {"status": "rejected", "outcome": "b"}),
    Case("GET", "/supervision/dashboard", "denied"),
    Case("GET", "/supervision/dashboard/export?table=institutions", "denied"),
    Case("GET", "/", "public"),
    Case("GET", "/login", "public"),
    Case("POST", "/login", "own"),
    Case("POST", "/logout", "own"),
    Case("GET", "/account", "own"),
    Case("POST", "/account/password", "own", form=True,
         body=lambda w: {"current_password": "x", "new_password": "y",
                         "new_password_again": "y"}),
    Case("GET", "/notifications", "own"),
    Case("POST", "/notifications/read-all", "own", form=True),
    Case("POST", "/notifications/{a_notice}/read", "denied", form=True),
    Case("GET", "/favicon.ico", "public"),
    Case("GET", "/institutions", "public"),
    Case("GET", "/institutions/{a_inst}", "public"),
    Case("GET", "/verify?number={a_number}", "public"),
    Case("POST", "/verify", "public", files=True),
    Case("GET", "/verify/qr/{a_record}.svg", "public"),
    Case("GET", "/verify/qr/{a_record}.png", "public"),
    # supervision: double-random inspections and sanctions (a lab is no supervisor)
    Case("GET", "/api/supervision/inspectors", "denied"),
    Case("POST", "/api/supervision/inspectors", "denied", body=lambda w: {"name": "冒名"}),
    Case("PUT", "/api/supervision/inspectors/{inspector_id}/conflicts", "denied",
         body=lambda w: {"conflicts": []}),
    Case("GET", "/api/supervision/plans", "denied"),
    Case("POST", "/api/supervision/plans", "denied", body=lambda w: {
        "title": "冒名", "items": [{"code": "1"}]}),
    Case("PUT", "/api/supervision/plans/{plan_id}", "denied", body=lambda w: {
        "title": "冒名", "items": [{"code": "1"}]}),
    Case("GET", "/api/supervision/plans/{plan_id}", "denied"),
    Case("POST", "/api/supervision/plans/{plan_id}/freeze", "denied"),
    Case("POST", "/api/supervision/plans/{plan_id}/draw", "denied"),
    Case("POST", "/api/supervision/plans/{plan_id}/publish", "denied"),
    Case("GET", "/api/supervision/inspections/{inspection_id}", "denied"),
    Case("POST", "/api/supervision/inspections/{inspection_id}/files", "denied",
         files=True),
    Case("GET", "/api/supervision/inspections/{inspection_id}/files/{file_id}", "denied"),
    Case("POST", "/api/supervision/inspections/{inspection_id}/findings", "denied",
         body=lambda w: {"item": "1", "outcome": "serious"}),
    Case("POST", "/api/supervision/inspections/{inspection_id}/done", "denied",
         body=lambda w: {}),
    Case("POST", "/api/supervision/sanctions", "denied", body=lambda w: {
        "institution_id": w.a_inst, "kind": "revocation", "decision_no": "冒名",
        "decided_on": "2026-01-01"}),
    Case("GET", "/api/supervision/sanctions", "denied"),
    Case("GET", "/api/supervision/sanctions/{sanction_id}", "denied"),
    Case("POST", "/api/supervision/sanctions/{sanction_id}/lift", "denied",
         body=lambda w: {}),
    Case("POST", "/api/supervision/sanctions/{sanction_id}/corrected", "denied",
         body=lambda w: {}),
    Case("GET", "/api/supervision/institutions/{a_inst}/thresholds", "denied"),
    Case("GET", "/supervision", "public"),
    Case("GET", "/supervision/export?format=csv", "public"),
    Case("GET", "/supervision/plans", "denied"),
    Case("POST", "/supervision/plans", "denied", form=True, body=lambda w: {
        "title": "冒名", "items": "1, x"}),
    Case("GET", "/supervision/plans/{plan_id}", "denied"),
    Case("GET", "/supervision/plans/{plan_id}/edit", "denied"),
    Case("POST", "/supervision/plans/{plan_id}/edit", "denied", form=True, body=lambda w: {
        "title": "冒名", "items": "1, x"}),
    Case("POST", "/supervision/plans/{plan_id}/{action}", "denied", form=True,
         body=lambda w: {}),
    Case("POST", "/supervision/inspectors", "denied", form=True, body=lambda w: {
        "name": "冒名"}),
    Case("GET", "/supervision/inspections/{inspection_id}", "denied"),
    Case("POST", "/supervision/inspections/{inspection_id}/findings", "denied", form=True,
         body=lambda w: {"item": "1", "outcome": "serious"}),
    Case("POST", "/supervision/inspections/{inspection_id}/done", "denied", form=True,
         body=lambda w: {}),
    Case("GET", "/supervision/sanctions/new?institution={a_inst}", "denied"),
    Case("POST", "/supervision/sanctions", "denied", form=True, body=lambda w: {
        "institution_id": w.a_inst, "kind": "revocation", "decision_no": "冒名",
        "decided_on": "2026-01-01"}),
    Case("GET", "/supervision/sanctions/{sanction_id}", "denied"),
    Case("POST", "/supervision/sanctions/{sanction_id}/{action}", "denied", form=True,
         body=lambda w: {}),
    # Signals: B (a lab) is no supervisor, and the signal about A is not B's.
    Case("GET", "/api/supervision/signals", "denied"),
    Case("GET", "/api/supervision/signals/rules", "denied"),
    Case("GET", "/api/supervision/signals/runs", "denied"),
    Case("GET", "/api/supervision/signals/{a_signal}", "denied"),
    Case("POST", "/api/supervision/signals/{a_signal}/decision", "denied",
         body=lambda w: {"status": "dismissed", "reason": "x"}),
    Case("POST", "/api/supervision/signals/{a_signal}/question", "denied",
         body=lambda w: {"question": "x"}),
    Case("GET", "/api/supervision/signals/{a_signal}/files/{a_file}", "denied"),
    Case("POST", "/api/supervision/mine/signals/{a_signal}/answer", "denied",
         body=lambda w: {"answer": "x"}, form=True),
    Case("GET", "/supervision/signals", "denied"),
    Case("GET", "/api/supervision/mine/signals", "own"),  # B's own: none
    Case("GET", "/supervision/mine/signals", "own"),
    Case("GET", "/supervision/signals/{a_signal}", "denied"),
    Case("GET", "/supervision/mine/signals/{a_signal}", "denied"),
    Case("POST", "/supervision/signals/{a_signal}/decision", "denied",
         body=lambda w: {"status": "dismissed", "reason": "x"}, form=True),
    Case("POST", "/supervision/signals/{a_signal}/question", "denied",
         body=lambda w: {"question": "x"}, form=True),
    Case("POST", "/supervision/mine/signals/{a_signal}/answer", "denied",
         body=lambda w: {"answer": "x"}, form=True),
]


def _cbam(org_id: str) -> dict[str, Any]:
    """A valid installation document in A's name: refused for who B is, not for its form."""
    return {"org_id": org_id, "name": "冒名", "country": "CN", "period_start": "2026-01-01",
            "period_end": "2026-12-31", "processes": [{"key": "P1", "name": "冒名",
                                                       "cn": "7208", "activity_level": 1,
                                                       "direct": 1}]}


def _cbam_form(org_id: str) -> dict[str, Any]:
    return {"org_id": org_id, "name": "冒名", "country": "CN", "period_start": "2026-01-01",
            "period_end": "2026-12-31", "processes-0-key": "P1", "processes-0-name": "冒名",
            "processes-0-cn": "7208", "processes-0-activity_level": "1",
            "processes-0-direct": "1"}


def _build(db, app) -> World:  # type: ignore[no-untyped-def]
    a = make_account(db, "a-owner@example.com")
    inst, qual = make_institution(db, a, name="公开实验室", serial=1, revenue_tier="over_1b",
                                  scope=[("GB 31241-2022", "锂离子电池", "过充电")])
    hidden, _ = make_institution(db, a, name="秘密实验室", serial=2)
    registry.update_institution(db, a.principal(db), hidden, InstitutionPatch(published=False))
    from tichub.core import service

    token, _ = service.create_token(db, principal=a.principal(db), org_id=a.org.id,
                                    name="a-secret-token", scopes=["registry:read"])
    b = make_account(db, "b-admin@example.com", kind=OrgKind.certification_body)
    signatory = registry.add_signatory(db, a.principal(db), inst, SignatoryIn(
        name="张工", authorised_from=date(2020, 1, 1)))
    [receipt] = reports.register(db, a.principal(db), app.state.log, [RecordIn(
        number="A-2026-0001", kind="test_report", institution_id=inst, client="秘密客户",
        issued_on=date(2026, 1, 5), standards=["GB 31241-2022"], marks=["CNAS"])])
    reports.integrate(db, app.state.log)
    # A holds a CMA qualification on commitment; its stated site is private.
    from tichub.registry.schemas import ScopeLineIn
    from tichub.supervision.approval import service as approval
    from tichub.supervision.approval.schemas import ApplicationIn, Conditions

    qapp = approval.apply(db, a.principal(db), ApplicationIn(
        institution_id=inst, route="commitment", kind="first",
        conditions=Conditions(site_address="秘密场所", staff_count=3, scope=[ScopeLineIn(
            standard="GB 31241-2022", product="锂离子电池", parameter="过放电")]),
        commitment=approval.commitment_text("公开实验室", approval.ApplicationKind.first, "zh")))
    reports.add_witness(db, a.principal(db), a.org.id, Signer.generate(
        "a-witness.example", COSIGNATURE).verifier().encode())
    # A runs a PT round; C takes part and has sent a result nobody else may see.
    from tichub.pt import service as pt
    from tichub.pt.schemas import ResultIn, RoundIn, SchemeIn

    c = make_account(db, "c-participant@example.com")
    c.org.name = "秘密参加者"
    db.commit()
    scheme = pt.create_scheme(db, a.principal(db), SchemeIn.model_validate({
        "org_id": a.org.id, "code": "A-PT", "name_zh": "公开计划",
        "measurands": [{"name": "lead", "unit": "mg/kg"}]}))
    rnd = pt.create_round(db, a.principal(db), scheme.id, RoundIn.model_validate({
        "code": "1", "deadline": "2099-01-01T00:00:00+08:00"}))
    part = pt.invite(db, a.principal(db), rnd.id, c.org.id)
    pt.answer(db, c.principal(db), part.id, accept=True)
    pt.transition(db, a.principal(db), rnd.id, "open")
    pt.submit_results(db, c.principal(db), rnd.id, c.org.id,
                      [ResultIn(measurand="lead", value=0.3141592)])
    c_result = db.scalar(select(PtResult.id).where(PtResult.round_id == rnd.id))
    # A shares an instrument and has booked it; an operator runs a voucher programme in
    # which A is listed and an enterprise holds a voucher.
    from datetime import UTC, datetime, timedelta

    from tichub.market import service as market
    from tichub.market.schemas import BookingIn, InstrumentIn, ProgrammeIn, VoucherIn

    instrument = market.add_instrument(db, a.principal(db), InstrumentIn(
        org_id=a.org.id, name="公开仪器", kind="ICP-MS", hourly_rate_fen=100))
    start = (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0)
    booked = market.book(db, a.principal(db), instrument.id, BookingIn(
        org_id=a.org.id, starts_at=start, ends_at=start + timedelta(hours=2),
        purpose="秘密用途"))
    ops = make_account(db, "ops@example.com", kind=OrgKind.operator)
    firm = make_account(db, "firm@example.com", kind=OrgKind.enterprise)
    prog = market.create_programme(db, ops.principal(db), ProgrammeIn(
        org_id=ops.org.id, code="P-1", name="创新券", budget_fen=100_000,
        valid_from=date(2026, 1, 1), valid_until=date(2030, 12, 31)))
    listing = market.apply_as_provider(db, a.principal(db), prog.id, a.org.id)
    voucher = market.issue_voucher(db, ops.principal(db), prog.id, VoucherIn(
        holder_org_id=firm.org.id, face_fen=10_000, valid_until=date(2030, 12, 31)))
    from tichub.market import orders as market_orders
    from tichub.market.schemas import ListingIn, OrderIn

    service_listing = market_orders.add_listing(db, a.principal(db), ListingIn(
        org_id=a.org.id, institution_id=inst, title="公开服务", standards=["GB 31241-2022"],
        price_fen=100_000))
    order = market_orders.order_listing(db, firm.principal(db), service_listing.id, OrderIn(
        org_id=firm.org.id, product="秘密新品"))
    from tichub.core.models import Notification
    from tichub.market.schemas import ApplicationIn

    other_firm = make_account(db, "firm2@example.com", kind=OrgKind.enterprise)
    application = market.apply_for_voucher(db, other_firm.principal(db), prog.id, ApplicationIn(
        org_id=other_firm.org.id, requested_fen=5_000, district="pudong", sector="新能源"))

    notice = db.scalars(select(Notification).where(Notification.org_id == a.org.id)).first()
    assert notice is not None
    from tichub.market import consulting
    from tichub.market.schemas import ConsultationIn, ExpertIn

    expert = consulting.add_expert(db, a.principal(db), ExpertIn(
        org_id=a.org.id, name="公开专家", fields=["电池"]))
    consultation = consulting.request(db, firm.principal(db), expert.id, ConsultationIn(
        org_id=firm.org.id, topic="秘密新品"))
    zulu = "%Y-%m-%dT%H:%M:%SZ"
    from tichub.carbon import service as carbon
    from tichub.carbon.schemas import ComputeIn, FactorIn, ModelIn

    carbon.save_factors(db, a.principal(db), [(None, FactorIn(
        key="a.secret.factor", unit="kg", gases=[{"gas": "CO2", "amount": 0.3141592}],
        source="秘密用途"))], a.org.id)
    model = carbon.create_model(db, a.principal(db), ModelIn(
        org_id=a.org.id, name="秘密电机", declared_unit="kg", reference="p", processes=[{
            "key": "p", "name": "秘密电机", "stage": "production", "output_amount": 1,
            "output_unit": "kg", "inputs": [{"name": "秘密电机", "amount": 1, "unit": "kg",
                                            "factor": "a.secret.factor"}]}]))
    study = carbon.compute_study(db, a.principal(db), model.id, ComputeIn(iterations=0))
    from tichub.carbon import cbam_service
    from tichub.carbon.cbam_schemas import InstallationIn

    installation = cbam_service.create_installation(db, a.principal(db), InstallationIn(
        **{**_cbam(a.org.id), "name": "秘密电机厂", "address": "秘密用途", "processes": [{
            "key": "P1", "name": "秘密电机", "cn": "7208", "activity_level": 1,
            "direct": 0.3141592}]}))
    # A shares its study over PACT (set here directly: the model has no reference period,
    # which sharing through the use case asks for) and has a client for a customer.
    from tichub.carbon import pact_service

    study.pact_id, study.shared = "7d1c0f6e-3a5b-4c2d-9e8f-1a2b3c4d5e6f", True
    db.commit()
    pact_client, _ = pact_service.create_client(db, a.principal(db), a.org.id, "秘密客户")
    from tichub.carbon.models import PactEvent

    # ... and a request from that customer, waiting for A's answer.
    request = PactEvent(client_id=pact_client.id, spec="3", event_id="a-1",
                        type="org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
                        source="https://customer.example/pact", data={}, answer="pending")
    db.add(request)
    db.commit()
    # A's registers: an instrument it does not share, out of service, and a person.
    from tichub.market.equipment import service as equipment
    from tichub.market.equipment.schemas import EquipmentIn, EventIn
    from tichub.registry.staff import service as staff
    from tichub.registry.staff.schemas import StaffIn

    kept = equipment.add_equipment(db, a.principal(db), EquipmentIn(
        institution_id=inst, asset_no="EQ-001", name="秘密用途分析仪", kind="ICP-MS"))
    outage = equipment.add_event(db, a.principal(db), kept.id, EventIn(
        kind="out_of_service", valid_from=date(2026, 1, 1), note="秘密用途"))
    person = staff.add_staff(db, a.principal(db), StaffIn(
        institution_id=inst, staff_no="ST-001", name="秘密参加者", employed_from=date(2020, 1, 1)))
    _PACT_IDS.update(pf_id=str(study.pact_id), client_id=pact_client.id,
                     pact_request=request.id)
    _credit_world(db, a.org.id, inst)
    # A signal about A that A was asked about and answered with a file.
    from tichub.core.ids import utcnow as _now
    from tichub.supervision.models import Signal, StoredFile

    secret_file = StoredFile(org_id=a.org.id, institution_id=inst, name="秘密实验室.pdf",
                             content_type="application/pdf", size=3, sha256="0" * 64,
                             data=b"pdf")
    db.add(secret_file)
    db.flush()
    signal = Signal(code="INSTRUMENT_UNCALIBRATED", subject=receipt.record_id,
                    severity="high", institution_id=inst, org_id=a.org.id,
                    district="pudong", record_id=receipt.record_id, params={},
                    evidence=[], question="秘密实验室?", asked_at=_now(),
                    answer="秘密用途", answer_files=[secret_file.id], answered_at=_now())
    db.add(signal)
    db.commit()
    return World(a.org.id, inst, hidden, qual, token.id, b.org.id, receipt.record_id,
                 signatory.id, scheme.id, rnd.id, part.id, c.org.id,
                 a_instrument=instrument.id, a_booking=booked.id, programme=prog.id,
                 a_listing=listing.id, voucher=voucher.id,
                 a_equipment=kept.id, a_event=outage.id, a_staff=person.id,
                 a_listing_service=service_listing.id, a_order=order.id, a_notice=notice.id,
                 application=application.id, item_id=listing.id, a_expert=expert.id,
                 a_consultation=consultation.id, a_model=model.id, a_study=study.id,
                 a_installation=installation.id, a_qapp=qapp.id,
                 a_signal=signal.id, a_file=secret_file.id, c_result=c_result,
                 cal_start=(start - timedelta(days=1)).strftime(zulu),
                 cal_end=(start + timedelta(days=1)).strftime(zulu))


def _snapshot(db, world: World) -> str:  # type: ignore[no-untyped-def]
    """Every stored column of A's rows, as text."""
    db.expire_all()
    out = []
    for model in (Institution, ApiToken, Qualification, ScopeLine, ReportRecord, LogTile,
                  PtScheme, PtRound, PtParticipant, PtResult, PtCorrectiveAction, Instrument,
                  Booking, Programme, ProgrammeProvider, Voucher, LedgerEntry, ServiceListing,
                  Order, OrderEvent,
                  EmissionFactor, ProductModel, Study, CbamInstallation,
                  QualificationApplication):
        cols = model.__table__.columns
        query = select(*cols)
        if model is ApiToken:
            query = query.where(ApiToken.org_id == world.a_org)
        for row in db.execute(query):
            out.append(repr(tuple(row)))
    for model in (InstrumentEvent, Staff, StandardEdition):  # the evidence registers
        out.extend(repr(tuple(row)) for row in db.execute(select(*model.__table__.columns)))
    return json.dumps(sorted(out))


def _call(client: TestClient, case: Case, world: World, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    path = case.path.format(**vars(world))
    kwargs: dict[str, Any] = {"headers": {**headers, "accept": "application/json"}}
    if case.body:
        kwargs["data" if case.form else "json"] = case.body(world)
    if case.files:
        kwargs["files"] = {"file": ("scope.csv",
                                    b"qualification,standard,product,parameter\n"
                                    b"CNAS L0001,GB 1-2000,x,y\n", "text/csv")}
    if path.startswith("/pact"):  # PACT is served over HTTPS only
        path = "https://testserver" + path
    return client.request(case.method, path, **kwargs)


def test_every_route_is_covered(app) -> None:  # type: ignore[no-untyped-def]
    routes = {(m, r.path) for r in api_routes(app) for m in r.methods}
    assert len(routes) >= 20
    covered = {(c.method, c.path.replace("{a_org}", "{org_id}").replace("{a_inst}",
               "{institution_id}").replace("{a_hidden}", "{institution_id}")
               .replace("{a_qual}", "{qualification_id}").replace("{a_token}", "{token_id}")
               .replace("{a_record}", "{record_id}").replace("{a_tile}", "{path:path}")
               .replace("{a_signatory}", "{signatory_id}")
               .replace("{a_scheme}", "{scheme_id}").replace("{a_round}", "{round_id}")
               .replace("{a_participant}", "{participant_id}")
               .replace("{c_org}", "{org_id}").replace("{c_result}", "{result_id}")
               .replace("{a_instrument}", "{instrument_id}")
               .replace("{a_booking}", "{booking_id}").replace("{programme}", "{programme_id}")
               .replace("{a_listing}", "{provider_id}").replace("{voucher}", "{voucher_id}")
               .replace("{a_listing_service}", "{listing_id}").replace("{a_order}", "{order_id}")
               .replace("{a_notice}", "{notification_id}")
               .replace("{application}", "{application_id}")
               .replace("{a_expert}", "{expert_id}")
               .replace("{a_consultation}", "{consultation_id}")
               .replace("{a_factor}", "{key}").replace("{a_model}", "{model_id}")
               .replace("{a_study}", "{study_id}")
               .replace("{a_installation}", "{installation_id}")
               .replace("{a_qapp}", "{application_id}")
               .replace("{a_equipment}", "{instrument_id}").replace("{a_event}", "{event_id}")
               .replace("{a_staff}", "{staff_id}")
               .replace("{a_signal}", "{signal_id}").replace("{a_file}", "{file_id}")
               .replace("{pact_request}", "{request_id}")
               .replace("CFP-2026-0001-00001", "{number}")
               .replace("/processes/p/", "/processes/{key}/")
               .replace("/inputs/0/", "/inputs/{index}/")
               .replace("contributions.csv", "contributions.{fmt}")
               .replace("/checkpoints/1", "/checkpoints/{size}").split("?")[0])
               for c in CASES}
    assert routes - covered == set(), "routes without an isolation case"


@pytest.mark.parametrize("via", ["session", "token"])
def test_another_organisation_sees_and_changes_nothing_private(client, db, via: str) -> None:  # type: ignore[no-untyped-def]
    world = _build(db, client.app)
    before = _snapshot(db, world)
    headers: dict[str, str] = {}
    if via == "session":
        headers["X-CSRF-Token"] = sign_in(client, "b-admin@example.com")
    else:
        b = make_account(db, "b-robot@example.com", kind=OrgKind.lab)
        headers["Authorization"] = "Bearer " + api_token(
            db, b, ["registry:read", "registry:write", "accounts:read", "accounts:admin"])
    audit_before = len(list(db.scalars(select(AuditEvent.id))))

    for case in CASES:
        if case.expect == "own" and (case.method == "POST" or via == "token"):
            continue  # sign-in and sign-out act on the caller alone; covered elsewhere
        r = _call(client, case, world, headers)
        label = f"{case.method} {case.path} via {via}"
        if case.expect == "denied":
            assert r.status_code in (401, 403, 404), f"{label}: {r.status_code} {r.text[:200]}"
        else:
            assert r.status_code == 200, f"{label}: {r.status_code} {r.text[:200]}"
            secrets = [s for s in SECRETS if case.expect != "schema" or s not in SCHEMA_WORDS]
            leaked = [s for s in secrets if s in r.text]
            assert not leaked, f"{label} leaks {leaked}"

    assert _snapshot(db, world) == before
    audit_actions = list(db.scalars(select(AuditEvent.action)))[audit_before:]
    assert not [a for a in audit_actions if not a.startswith(("session.", "token.created"))]


def test_every_route_declares_who_may_call_it(app) -> None:  # type: ignore[no-untyped-def]
    from tichub.core.auth import policy_of

    routes = api_routes(app)
    assert routes
    missing = [f"{sorted(r.methods)} {r.path}" for r in routes
               if not any(policy_of(d.call) for d in r.dependant.dependencies)]
    assert missing == []
    spec = app.openapi()
    ops = [op for item in spec["paths"].values() for op in item.values()]
    assert ops and all("x-access" in op for op in ops)
