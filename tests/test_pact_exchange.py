"""PACT's asynchronous exchange: a customer's system asks for a footprint (RequestCreated),
our host answers 200 at once, and later sends RequestFulfilled (holding the footprint) or
RequestRejected to the customer's events endpoint, authenticated with the credentials the
customer gave. Also: HTTPS only for /pact, the customer's credentials kept encrypted,
answers that survive a restart and are retried with back-off, answering by hand."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from conftest import LOG_KEY
from helpers import sign_in
from server import served
from test_pact_api import (  # noqa: F401  (client and world are fixtures)
    V3_TYPES,
    auth,
    client,
    new_client,
    share,
    study_of,
    token_for,
    world,
)
from tichub.app import create_app
from tichub.carbon import pact_events
from tichub.carbon.models import PactClient, PactDelivery, PactEvent
from tichub.core.audit import AuditEvent
from tichub.core.ids import utcnow

THEIR_ID, THEIR_SECRET, THEIR_TOKEN = "tichub-at-buyer", "buyer's own secret", "tok-buyer-1"
V2_TYPES = "org.wbcsd.pathfinder.ProductFootprintRequest."


# --- the customer's system: a real HTTP server --------------------------------------------------

class Customer:
    """The customer's host: a token endpoint taking the credentials it gave the supplier,
    and events endpoints that keep what they receive (with a bearer token it issued)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.refused = 0
        self.fail_next = 0
        self.arrived = threading.Condition()
        customer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _reply(self, status: int, body: dict[str, Any] | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # no discovery document: PACT's fallback applies
                self._reply(404, {"code": "NotFound", "message": "no such thing"})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/auth/token":
                    expected = base64.b64encode(f"{THEIR_ID}:{THEIR_SECRET}".encode()).decode()
                    if self.headers.get("Authorization") != f"Basic {expected}" or \
                            b"grant_type=client_credentials" not in raw:
                        customer.refused += 1
                        self._reply(401, {"error": "invalid_client"})
                        return
                    self._reply(200, {"access_token": THEIR_TOKEN, "token_type": "Bearer"})
                elif self.path in ("/2/events", "/3/events"):
                    if self.headers.get("Authorization") != f"Bearer {THEIR_TOKEN}":
                        customer.refused += 1
                        self._reply(401, {"code": "BadRequest", "message": "token"})
                        return
                    if customer.fail_next:
                        customer.fail_next -= 1
                        self._reply(503, {"code": "InternalError", "message": "busy"})
                        return
                    with customer.arrived:
                        customer.received.append((self.path, json.loads(raw)))
                        customer.arrived.notify_all()
                    self._reply(200)
                else:
                    self._reply(404, {"code": "NotFound", "message": self.path})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, count: int, seconds: float = 30) -> list[tuple[str, dict[str, Any]]]:
        deadline = time.monotonic() + seconds
        with self.arrived:
            while len(self.received) < count and time.monotonic() < deadline:
                self.arrived.wait(0.2)
        return list(self.received)


@pytest.fixture
def customer() -> Iterator[Customer]:
    c = Customer()
    c.thread.start()
    yield c
    c.server.shutdown()
    c.server.server_close()


# --- our host over TLS: uvicorn with a self-signed certificate ----------------------------------

def self_signed(workdir: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = workdir / "cert.pem", workdir / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


@contextmanager
def served_over_tls(database_url: str, workdir: Path) -> Iterator[tuple[str, Path]]:
    """Our application in uvicorn, over HTTPS; yields its address and its certificate."""
    cert, key = self_signed(workdir)
    with served(database_url, LOG_KEY, workdir, tls=(cert, key),
                ready_path="/pact/.well-known/openid-configuration",
                TICHUB_LOG_INTEGRATE_EVERY="0") as (url, _):
        yield url, cert


def store_credentials(client: TestClient, w: dict[str, Any], client_row_id: str,  # type: ignore[no-untyped-def]  # noqa: F811
                      secret: str = THEIR_SECRET):
    return client.put(f"/api/carbon/pact/clients/{client_row_id}/credentials",
                      json={"callback_client_id": THEIR_ID, "callback_secret": secret},
                      headers=auth(w["supplier_token"]))


def request_created(version: str, event_id: str, source: str, product_ids: list[str]
                    ) -> dict[str, Any]:
    if version == "2":
        return {"type": V2_TYPES + "Created.v1", "specversion": "1.0", "id": event_id,
                "source": source, "time": "2026-03-01T10:00:00Z",
                "data": {"pf": {"productIds": product_ids}, "comment": "2025 please"}}
    return {"type": V3_TYPES + "RequestCreatedEvent.3", "specversion": "1.0", "id": event_id,
            "source": source, "time": "2026-03-01T10:00:00Z",
            "data": {"productId": product_ids, "comment": "2025 please"}}


CLOUDEVENTS = {"content-type": "application/cloudevents+json; charset=UTF-8"}


def test_a_request_is_answered_200_then_fulfilled_or_rejected_end_to_end(client, db, world, customer, database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811, E501
    study = study_of(client, world)
    pf_id = share(client, world, study["id"]).json()["pact_id"]
    creds = new_client(client, world)
    assert store_credentials(client, world, creds["id"]).status_code == 200
    with served_over_tls(database_url, tmp_path) as (url, cert), \
            httpx.Client(base_url=f"{url}/pact", verify=trusting(cert), timeout=30) as ours:
        token = ours.post("/auth/token", data={"grant_type": "client_credentials"},
                          auth=(creds["client_id"], creds["client_secret"])).json()
        bearer = auth(token["access_token"])
        product_ids = ours.get("/3/footprints", headers=bearer).json()["data"][0]["productIds"]
        asked = {"3": product_ids, "2": ["urn:pact:null"]}
        for version, wanted in asked.items():
            started = time.monotonic()
            r = ours.post(f"/{version}/events", headers={**bearer, **CLOUDEVENTS},
                          content=json.dumps(request_created(
                              version, f"run-1/{version}", customer.url, wanted)))
            # Answered at once, before the answer to the request is sent.
            assert r.status_code == 200 and r.content == b"", r.text
            assert time.monotonic() - started < 5
        got = customer.wait_for(2)
    assert len(got) == 2, f"the customer's system received {got}"
    by_path = dict(got)
    fulfilled, rejected = by_path["/3/events"], by_path["/2/events"]
    assert fulfilled["type"] == V3_TYPES + "RequestFulfilledEvent.3"
    assert fulfilled["specversion"] == "1.0" and fulfilled["source"] == f"{url}/pact"
    assert fulfilled["data"]["requestEventId"] == "run-1/3"
    assert [pf["id"] for pf in fulfilled["data"]["pfs"]] == [pf_id]
    assert fulfilled["data"]["pfs"][0]["productIds"] == product_ids
    assert rejected["type"] == V2_TYPES + "Rejected.v1"
    assert rejected["data"]["requestEventId"] == "run-1/2"
    assert rejected["data"]["error"]["code"] == "NoSuchFootprint"
    assert "urn:pact:null" in rejected["data"]["error"]["message"]
    assert customer.refused == 0
    db.expire_all()
    assert sorted(db.scalars(select(PactEvent.answer))) == ["fulfilled", "rejected"]
    assert set(db.scalars(select(PactDelivery.status))) == {"delivered"}
    attempts = db.scalars(select(AuditEvent).where(
        AuditEvent.action == "carbon.pact.delivery.attempt")).all()
    assert len(attempts) == 2 and {a.data["outcome"] for a in attempts} == {"delivered"}


def test_plain_http_is_refused_unless_a_trusted_proxy_says_https(settings) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    with TestClient(app, base_url="http://testserver") as plain:
        r = plain.get("/pact/3/footprints")
        assert r.status_code == 400 and r.json()["code"] == "BadRequest"
        assert "HTTPS" in r.json()["message"]
        r = plain.post("/pact/auth/token", data={"grant_type": "client_credentials"})
        assert r.status_code == 400 and r.json()["error"] == "invalid_request"
        # A forwarded scheme from anyone but a trusted proxy is ignored.
        r = plain.get("/pact/3/footprints", headers={"X-Forwarded-Proto": "https"})
        assert r.status_code == 400
        # Pages are not PACT: they answer over HTTP as before.
        assert plain.get("/carbon/pact").status_code != 400
    app.state.engine.dispose()
    proxied = create_app(settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]}))
    with TestClient(proxied, base_url="http://testserver", client=("10.1.2.3", 40000)) as c:
        r = c.get("/pact/3/footprints", headers={"X-Forwarded-Proto": "https"})
        # Past the HTTPS rule: now it is the missing token that is refused.
        assert r.status_code == 401 and r.json()["code"] == "BadRequest"
        assert c.get("/pact/3/footprints").status_code == 400  # the proxy said nothing
        assert c.get("/pact/3/footprints",
                     headers={"X-Forwarded-Proto": "http"}).status_code == 400
    with TestClient(proxied, base_url="http://testserver", client=("192.0.2.7", 40000)) as c:
        assert c.get("/pact/3/footprints",
                     headers={"X-Forwarded-Proto": "https"}).status_code == 400
    proxied.state.engine.dispose()


def test_the_customer_s_secret_is_encrypted_never_shown_and_rotatable(client, db, world) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    creds = new_client(client, world)
    r = store_credentials(client, world, creds["id"])
    assert r.status_code == 200 and THEIR_SECRET not in r.text
    assert r.json()["callback_client_id"] == THEIR_ID
    stored = db.scalar(select(PactClient.callback_secret).where(PactClient.id == creds["id"]))
    assert stored and THEIR_SECRET not in stored
    assert pact_events.unseal("test-secret-key", stored) == THEIR_SECRET
    assert pact_events.unseal("another key", stored) is None
    listed = client.get(f"/api/carbon/pact/clients?org_id={world['supplier_org']}",
                        headers=auth(world["supplier_token"]))
    assert "callback" not in listed.text and THEIR_SECRET not in listed.text
    assert store_credentials(client, world, creds["id"], "rotated secret").status_code == 200
    db.expire_all()
    again = db.scalar(select(PactClient.callback_secret).where(PactClient.id == creds["id"]))
    assert pact_events.unseal("test-secret-key", again or "") == "rotated secret"
    actions = list(db.scalars(select(AuditEvent.action).where(
        AuditEvent.object_id == creds["id"]).order_by(AuditEvent.id)))
    assert actions[-2:] == ["carbon.pact.client.credentials.set",
                            "carbon.pact.client.credentials.rotated"]
    # Another organisation may not set them; an empty secret is refused by field.
    assert client.put(f"/api/carbon/pact/clients/{creds['id']}/credentials",
                      json={"callback_client_id": "x", "callback_secret": "y"},
                      headers=auth(world["rival_token"])).status_code in (403, 404)
    r = client.put(f"/api/carbon/pact/clients/{creds['id']}/credentials",
                   json={"callback_client_id": "x", "callback_secret": " "},
                   headers=auth(world["supplier_token"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "callback_secret"
    sign_in(client, "maker@motors.cn")
    page = client.get("/carbon/pact")
    assert page.status_code == 200 and THEIR_ID in page.text
    assert THEIR_SECRET not in page.text and "rotated secret" not in page.text


def _post_request(client, world, source: str, product_ids: list[str], event_id: str,  # type: ignore[no-untyped-def]  # noqa: F811
                  version: str = "3") -> None:
    creds = new_client(client, world)
    bearer = auth(token_for(client, creds))
    r = client.post(f"/pact/{version}/events", headers={**bearer, **CLOUDEVENTS},
                    content=json.dumps(request_created(version, event_id, source, product_ids)))
    assert r.status_code == 200, r.text


def test_answers_survive_a_restart_and_are_retried_with_back_off(app, world, db) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    # As in a process stopped before it sent: no sender runs.
    app.state.pact_sender.stop()
    plain = TestClient(app, base_url="https://testserver")
    _post_request(plain, world, "https://buyer.example/pact", ["urn:pact:null"], "q-1")
    row = db.scalar(select(PactDelivery))
    assert row is not None and row.status == "pending" and row.attempts == 0
    assert row.target == "https://buyer.example/pact/3/events"
    # No credentials stored: each attempt fails, is audited and waits longer.
    factory = app.state.sessionmaker
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url}")
        if request.url.path == "/pact/auth/token":
            return httpx.Response(200, json={"access_token": "t"})
        if request.url.path == "/pact/3/events":
            return httpx.Response(503 if len(calls) < 6 else 200)
        return httpx.Response(404)

    transport = httpx.MockTransport(answer)
    assert pact_events.deliver_due(factory, "test-secret-key", transport=transport) == 0
    db.expire_all()
    row = db.get(PactDelivery, row.id)
    assert row is not None and row.attempts == 1 and "credentials" in row.last_error
    first_wait = row.next_attempt_at - utcnow()
    assert dt.timedelta(seconds=5) < first_wait <= pact_events.FIRST_WAIT
    assert calls == []  # nothing sent without credentials
    # Not due yet: nothing is tried.
    assert pact_events.deliver_due(factory, "test-secret-key", transport=transport) == 0
    assert db.get(PactDelivery, row.id).attempts == 1  # type: ignore[union-attr]
    client_row = db.get(PactClient, row.client_id)
    assert client_row is not None
    client_row.callback_client_id = THEIR_ID
    client_row.callback_secret = pact_events.seal("test-secret-key", THEIR_SECRET)
    db.commit()
    db.execute(update(PactDelivery).values(next_attempt_at=utcnow()))
    db.commit()
    assert pact_events.deliver_due(factory, "test-secret-key", transport=transport) == 0
    db.expire_all()
    row = db.get(PactDelivery, row.id)
    assert row is not None and row.attempts == 2 and row.last_error.endswith("503")
    assert row.next_attempt_at - utcnow() > pact_events.FIRST_WAIT  # doubled
    db.execute(update(PactDelivery).values(next_attempt_at=utcnow()))
    db.commit()
    assert pact_events.deliver_due(factory, "test-secret-key", transport=transport) == 1
    db.expire_all()
    row = db.get(PactDelivery, row.id)
    assert row is not None and row.status == "delivered" and row.attempts == 3
    outcomes = [a.data["outcome"] for a in db.scalars(select(AuditEvent).where(
        AuditEvent.action == "carbon.pact.delivery.attempt").order_by(AuditEvent.id))]
    assert outcomes == ["retry", "retry", "delivered"]
    assert pact_events.wait_after(30) == pact_events.LONGEST_WAIT


def test_a_delivery_is_given_up_after_its_last_attempt(app, world, db) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    app.state.pact_sender.stop()
    plain = TestClient(app, base_url="https://testserver")
    _post_request(plain, world, "https://buyer.example/pact", ["urn:pact:null"], "q-2", "2")
    db.execute(update(PactDelivery).values(attempts=pact_events.MAX_ATTEMPTS - 1))
    db.commit()
    down = httpx.MockTransport(lambda request: httpx.Response(500))
    assert pact_events.deliver_due(app.state.sessionmaker, "k", transport=down) == 0
    db.expire_all()
    row = db.scalar(select(PactDelivery))
    assert row is not None and row.status == "failed"
    assert row.target == "https://buyer.example/pact/2/events"
    # Revoking a client drops the answers still owed to it.
    _post_request(plain, world, "https://buyer.example/pact", ["urn:pact:null"], "q-3")
    owed = db.scalar(select(PactDelivery).where(PactDelivery.status == "pending"))
    assert owed is not None
    r = plain.post(f"/api/carbon/pact/clients/{owed.client_id}/revoke",
                   headers=auth(world["supplier_token"]))
    assert r.status_code == 200
    db.expire_all()
    assert db.get(PactDelivery, owed.id).status == "failed"  # type: ignore[union-attr]


def test_where_an_answer_may_go() -> None:
    target = pact_events.target_of
    assert target("https://buyer.example/pact/", "3") == "https://buyer.example/pact/3/events"
    assert target("https://buyer.example/2/events", "2") == "https://buyer.example/2/events"
    # The machine itself only when the platform runs there too (development, tests).
    assert target("http://127.0.0.1:8004", "2", local_ok=True) == \
        "http://127.0.0.1:8004/2/events"
    assert target("http://127.0.0.1:8004", "2") is None
    assert target("https://localhost/pact", "2") is None
    for source in ("http://buyer.example", "//buyer.example/3/events", "ftp://x",
                   "https://user:pw@buyer.example", "not a url", "",
                   # inside the platform's own network: never
                   "https://10.0.0.7/pact", "https://169.254.169.254", "https://[fd00::1]/x",
                   "https://192.168.1.1"):
        assert target(source, "3", local_ok=True) is None, source


def test_a_pending_request_is_answered_by_hand(client, db, world) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    study = study_of(client, world)
    pf_id = share(client, world, study["id"]).json()["pact_id"]
    # A request naming the supplier's own product with nothing shared for it waits for a
    # person; so does one naming nothing at all. (The URNs' issuer: the public URL's host.)
    other = study_of(client, world)
    product = f"urn:pact:127.0.0.1:supplier-id:{other['model_id']}"
    _post_request(client, world, "https://buyer.example/pact", [], "p-1")
    pending = db.scalar(select(PactEvent).where(PactEvent.event_id == "p-1"))
    assert pending is not None and pending.answer == "pending"
    assert db.scalar(select(PactDelivery)) is None
    csrf = sign_in(client, "maker@motors.cn")
    page = client.get("/carbon/pact?lang=en")
    assert "Waiting for your answer" in page.text and 'data-testid="pact-fulfil"' in page.text

    def answer(row: PactEvent, how: str, **data: str):  # type: ignore[no-untyped-def]
        return client.post(f"/carbon/pact/requests/{row.id}/{how}",
                           data={**data, "csrf_token": csrf}, headers={"X-TICHub-Form": "1"})

    r = answer(pending, "fulfil", study_id=study["id"])
    assert r.status_code == 200 and r.json()["redirect"].startswith("/carbon/pact")
    db.expire_all()
    delivery = db.scalar(select(PactDelivery))
    assert delivery is not None and delivery.kind == "fulfilled"
    assert [pf["id"] for pf in delivery.body["data"]["pfs"]] == [pf_id]
    # Answered once only.
    again = answer(pending, "reject", reason="no")
    assert again.status_code == 409
    _post_request(client, world, "https://buyer.example/pact", [product], "p-2")
    second = db.scalar(select(PactEvent).where(PactEvent.event_id == "p-2"))
    assert second is not None and second.answer == "pending"
    empty = answer(second, "reject", reason=" ")
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "reason"
    r = answer(second, "reject", reason="该型号 2025 年数据尚未核查")
    assert r.status_code == 200
    db.expire_all()
    rejected = db.scalar(select(PactDelivery).where(PactDelivery.request_id == second.id))
    assert rejected is not None and rejected.kind == "rejected"
    assert rejected.body["data"]["error"] == {"code": "NotFound",
                                              "message": "该型号 2025 年数据尚未核查"}
    page = client.get("/carbon/pact")
    assert page.status_code == 200 and "等待您答复" not in page.text
