"""Schemathesis over every operation of the OpenAPI document: no input gives a 5xx.

The application runs in-process (ASGI) on a database seeded with the isolation test's world,
called once with an operator's API token and once with a laboratory's, each holding every
scope (and PACT's operations with a PACT client's token). Path parameters are either
generated or, half the time, the id of a seeded row, so that generated queries and bodies
reach the code behind the look-up. Every phase but the stateful one runs: the schema's
examples, the coverage phase (boundary values, values just out of range, wrong types,
missing fields) and fuzzing, with a fixed seed.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from schemathesis.engine import events, from_schema
from schemathesis.python import asgi
from sqlalchemy import select

from helpers import Account, api_token, make_account
from test_isolation import World, _build  # the same seeded world, one owner per row
from tichub.carbon import pact_service
from tichub.core.auth import SCOPES
from tichub.core.models import Membership, OrgKind

# The stored PDF's body is bytes; Schemathesis sends bytes for octet-stream.
schemathesis.serializer.alias("application/pdf", "application/octet-stream")

# Bounded so the module runs in a few minutes on two cores: Schemathesis' coverage phase
# (boundary and out-of-range values, missing and wrong-typed fields) is exhaustive on its
# own; fuzzing adds this many random cases per operation.
MAX_EXAMPLES = 10
SEED = 20261203  # deterministic in CI; change it to explore


@pytest.fixture(params=["operator", "lab"])
def caller(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Seeded:
    world: World
    token: str  # the caller's API token, with every scope
    org_id: str  # the caller's organisation
    pact_token: str  # a PACT client's bearer token, for the /pact data exchange


def _seed(app, db, caller: str) -> Seeded:  # type: ignore[no-untyped-def]
    world = _build(db, app)
    if caller == "operator":
        account = make_account(db, "fuzz-operator@example.com", kind=OrgKind.operator)
    else:
        # The laboratory that owns the seeded rows: its token reaches every use case.
        m = db.scalars(select(Membership).where(Membership.org_id == world.a_org)).first()
        assert m is not None
        account = Account(m.org, m.user)
    # A's customer's system, signed in to PACT with its client credentials.
    owner = db.scalars(select(Membership).where(Membership.org_id == world.a_org)).first()
    client, secret = pact_service.create_client(
        db, Account(owner.org, owner.user).principal(db), world.a_org, "fuzzer")
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    granted = pact_service.issue_token(db, f"Basic {basic}",
                                       {"grant_type": "client_credentials"})
    return Seeded(world, api_token(db, account, sorted(SCOPES)), account.org.id,
                  granted["access_token"])


def _known_ids(world: World, own_org: str) -> dict[str, list[str]]:
    """Seeded ids by the name of the parameter that takes them."""
    return {
        "org_id": [own_org, world.a_org, world.b_org],
        "institution_id": [world.a_inst, world.a_hidden],
        "qualification_id": [world.a_qual],
        "token_id": [world.a_token],
        "record_id": [world.a_record],
        "signatory_id": [world.a_signatory],
        "scheme_id": [world.a_scheme],
        "round_id": [world.a_round],
        "participant_id": [world.a_participant],
        "instrument_id": [world.a_instrument, world.a_equipment],
        "event_id": [world.a_event],
        "staff_id": [world.a_staff],
        "booking_id": [world.a_booking],
        "programme_id": [world.programme],
        "provider_id": [world.a_listing],
        "voucher_id": [world.voucher],
        "listing_id": [world.a_listing_service],
        "order_id": [world.a_order],
        "notification_id": [world.a_notice],
        "application_id": [world.application, world.a_qapp],
        "expert_id": [world.a_expert],
        "consultation_id": [world.a_consultation],
        "model_id": [world.a_model],
        "study_id": [world.a_study],
        "installation_id": [world.a_installation],
        "key": [world.a_factor],
        "pf_id": [world.pf_id],
        "client_id": [world.client_id],
        "score_id": [world.score_id],
        "appeal_id": [world.appeal_id],
        "complaint_id": [world.complaint_id],
        "code": [world.code],
        "version": [world.version],
        "path": [world.a_tile, "0/000.p/1"],
        "size": ["1"],
    }


def _with_known(known: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def mix(values: dict[str, Any] | None) -> st.SearchStrategy[dict[str, Any] | None]:
        if not values:
            return st.just(values)
        names = [n for n in values if n in known]
        if not names:
            return st.just(values)
        return st.one_of(st.just(values), st.fixed_dictionaries(
            {n: st.sampled_from(known[n]) for n in names}).map(lambda ids: {**values, **ids}))

    return mix


def _run(app, seeded: Seeded, failures: list[str]) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Runs every phase over every operation, adding each failure to ``failures`` (one line,
    with the request); returns the number of operations and of requests."""
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "headers": {"Authorization": f"Bearer {seeded.token}"},
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True,
                       "database": "none"},
        "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
        "phases": {"stateful": {"enabled": False}},
        # PACT's data exchange takes its own OAuth tokens (from its token endpoint).
        "operations": [{"include-path-regex": "^/pact/[23]/",
                        "headers": {"Authorization": f"Bearer {seeded.pact_token}"}}],
    })

    async def served(scope, receive, send):  # type: ignore[no-untyped-def]
        # Starlette answers 500 and then re-raises for the server to log; the transport
        # would turn that into an engine error without the request, so note it here.
        if scope["type"] == "http" and scope["path"].startswith("/pact"):
            scope = {**scope, "scheme": "https"}  # PACT is served over HTTPS only
        try:
            await app(scope, receive, send)
        except Exception as exc:
            if scope["type"] != "http":
                raise
            query = scope["query_string"].decode("latin-1")[:200]
            failures.append(f"{scope['method']} {scope['path']}?{query}: {exc!r}"[:500])

    schema = schemathesis.openapi.from_asgi("/api/openapi.json", served, config=config)
    mix = _with_known(_known_ids(seeded.world, seeded.org_id))

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):  # type: ignore[no-untyped-def]
        return mix(path_parameters)

    @schema.hook
    def flatmap_query(context, query):  # type: ignore[no-untyped-def]
        return mix(query)

    operations: set[str] = set()
    requests = 0
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                recorder = event.recorder
                operations.add(recorder.label)
                requests += len(recorder.interactions)
                for case_id, checks in recorder.checks.items():
                    for check in checks:
                        if check.failure_info is None:
                            continue
                        sent = recorder.interactions.get(case_id)
                        where = (f"{sent.request.method} {sent.request.uri} "
                                 f"{(sent.request.body or b'')[:300]!r}") if sent else case_id
                        failures.append(f"{check.name}: {where}")
            elif isinstance(event, events.NonFatalError | events.FatalError):
                failures.append(f"engine error in {getattr(event, 'label', '?')}: "
                                f"{getattr(event, 'value', None) or event!r}")
    finally:
        asgi.shutdown_lifespans()
    return len(operations), requests


@pytest.fixture
def seeded(app, db, database_url: str, caller: str) -> Seeded:  # type: ignore[no-untyped-def]
    if database_url.startswith("postgresql") and caller == "operator":
        # About five minutes a run on two cores: PostgreSQL gets the laboratory's, whose
        # token reaches the most use cases; SQLite gets both.
        pytest.skip("the operator's run is on SQLite only, to keep the suite's time")
    return _seed(app, db, caller)


def test_no_input_gives_a_server_error(app, seeded: Seeded) -> None:  # type: ignore[no-untyped-def]
    failures: list[str] = []
    operations, requests = _run(app, seeded, failures)
    print(f"{operations} operations, {requests} requests")
    assert operations == len([1 for ops in app.openapi()["paths"].values() for _ in ops])
    assert failures == [], "\n".join(sorted(set(failures)))  # each is a 500 and its cause
