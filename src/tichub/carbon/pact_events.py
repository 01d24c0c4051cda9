"""The events we send to customers' systems: our answers (RequestFulfilled, RequestRejected)
to the footprint requests (RequestCreated) they send us.

An answer is never sent inside the request that brought the question: the use case that
takes the question stores the answer as a delivery (``carbon_pact_deliveries``) in the
same transaction, answers 200, and a sender thread delivers it. Stored, a delivery survives
a restart; it is tried again with growing waits until the customer's system takes it or we
give up, and every attempt is in the audit log.

Authentication, as PACT asks of a host calling another host's Action Events: OAuth2 client
credentials at the customer's token endpoint (from its OpenID discovery document, else
``<source>/auth/token``), with the client id and secret the customer gave the company,
which we keep encrypted (``seal``) with the connection.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tichub.carbon.models import PactClient, PactDelivery, PactEvent
from tichub.core import audit
from tichub.core.ids import utcnow

log = logging.getLogger(__name__)

FIRST_WAIT = timedelta(seconds=10)
LONGEST_WAIT = timedelta(hours=1)
MAX_ATTEMPTS = 12  # about six hours of trying, then given up (and shown as failed)
LEASE = timedelta(minutes=2)  # one sender's claim on a delivery while it tries it
TIMEOUT = httpx.Timeout(10.0)
EVENT_TYPES = {
    "2": {"fulfilled": "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1",
          "rejected": "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1"},
    "3": {"fulfilled": "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
          "rejected": "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3"},
}


# --- the customer's credentials, encrypted at rest -------------------------------------------

def _fernet(secret_key: str) -> Fernet:
    # A key of its own, derived from the platform's secret: the same secret signs sessions,
    # and one use must not give away the other's key.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"tichub pact customer credentials").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, text: str) -> str:
    return _fernet(secret_key).encrypt(text.encode()).decode()


def unseal(secret_key: str, token: str) -> str | None:
    """The secret, or None when it cannot be read (the platform's key was changed)."""
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


# --- where an answer goes ---------------------------------------------------------------------

def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_local(host: str) -> bool:
    """The machine itself (a platform whose public URL is local runs for development)."""
    addr = _address(host)
    return host == "localhost" or (addr is not None and addr.is_loopback)


def target_of(source: str, version: str, local_ok: bool = False) -> str | None:
    """The customer's events endpoint: the request's ``source`` is its host's base URL
    (one that already ends in ``/<version>/events`` is taken as it is). HTTPS only, as PACT
    asks, and never to a private or local address, which a customer could otherwise make
    the platform call inside its own network; with ``local_ok`` (a platform served on the
    machine itself, for development and tests), plain HTTP to the machine itself too.
    None when the source is no URL we may answer to."""
    try:
        parts = urlsplit(source.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password:
        return None
    local = is_local(host)
    addr = _address(host)
    if local and not local_ok:
        return None
    if not local and addr is not None and not addr.is_global:
        return None
    if not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        return None
    base = source.strip().rstrip("/")
    suffix = f"/{version}/events"
    return base if base.endswith(suffix) else base + suffix


def _host_base(target: str, version: str) -> str:
    return target.removesuffix(f"/{version}/events")


def cloud_event(version: str, kind: str, source: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": EVENT_TYPES[version][kind], "specversion": "1.0", "id": str(uuid.uuid4()),
            "source": source, "time": utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "datacontenttype": "application/json", "data": data}


def enqueue(db: Session, client: PactClient, request: PactEvent, kind: str,
            data: dict[str, Any], our_source: str, actor_user_id: str | None,
            local_ok: bool = False) -> PactDelivery | None:
    """Records the answer to a request and, if its source is a URL we may call, the
    delivery that carries it (in the caller's transaction)."""
    request.answer, request.answered_at = kind, utcnow()
    target = target_of(request.source, request.spec, local_ok)
    audit.record(db, action=f"carbon.pact.request.{kind}", object_type="carbon_pact_event",
                 object_id=request.id, actor_user_id=actor_user_id, org_id=client.org_id,
                 data={"request_event_id": request.event_id, "target": target or "",
                       "undeliverable": target is None})
    if target is None:
        return None
    row = PactDelivery(client_id=client.id, request_id=request.id, kind=kind, target=target,
                       body=cloud_event(request.spec, kind, our_source, data),
                       status="pending", attempts=0, next_attempt_at=utcnow(), last_error="")
    db.add(row)
    return row


# --- delivering ---------------------------------------------------------------------------------

class DeliveryError(Exception):
    pass


def wait_after(attempts: int) -> timedelta:
    """Doubling from ten seconds, at most an hour."""
    return min(FIRST_WAIT * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)


def _token(http: httpx.Client, base: str, client_id: str, secret: str) -> str:
    token_url = f"{base}/auth/token"
    try:
        found = http.get(f"{base}/.well-known/openid-configuration")
        if found.status_code == 200:
            endpoint = found.json().get("token_endpoint")
            if isinstance(endpoint, str) and endpoint.startswith(("https://", "http://")):
                token_url = endpoint
    except (httpx.HTTPError, ValueError, AttributeError):
        pass  # no discovery document: PACT's fallback, <base>/auth/token
    answer = http.post(token_url, data={"grant_type": "client_credentials"},
                       auth=(client_id, secret),
                       headers={"Accept": "application/json"})
    if answer.status_code != 200:
        raise DeliveryError(f"their token endpoint answered {answer.status_code}")
    try:
        token = answer.json()["access_token"]
    except (ValueError, KeyError, TypeError):
        raise DeliveryError("their token endpoint gave no access_token") from None
    if not isinstance(token, str) or not token:
        raise DeliveryError("their token endpoint gave no access_token")
    return token


@dataclass(frozen=True)
class _Job:
    id: str
    org_id: str
    version: str
    target: str
    body: dict[str, Any]
    attempts: int
    client_id: str | None
    secret: str | None


def _send(job: _Job, transport: httpx.BaseTransport | None = None) -> int:
    if not job.client_id or not job.secret:
        raise DeliveryError("no credentials for the customer's system: store the client id "
                            "and secret it gave you on the PACT page")
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False, transport=transport) as http:
        token = _token(http, _host_base(job.target, job.version), job.client_id, job.secret)
        answer = http.post(job.target, json=job.body, headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/cloudevents+json; charset=UTF-8"})
    if not 200 <= answer.status_code < 300:
        raise DeliveryError(f"their events endpoint answered {answer.status_code}")
    return answer.status_code


def _claim(factory: sessionmaker[Session], secret_key: str, now: datetime,
           limit: int) -> list[_Job]:
    jobs = []
    with factory() as db:
        rows = db.execute(select(PactDelivery, PactClient, PactEvent.spec)
                          .join(PactClient, PactClient.id == PactDelivery.client_id)
                          .join(PactEvent, PactEvent.id == PactDelivery.request_id)
                          .where(PactDelivery.status == "pending",
                                 PactDelivery.next_attempt_at <= now)
                          .order_by(PactDelivery.next_attempt_at).limit(limit)).all()
        for row, client, spec in rows:
            # Claimed by moving its next attempt past the lease: two senders (two
            # processes) cannot both claim one delivery.
            done = db.execute(update(PactDelivery).where(
                PactDelivery.id == row.id, PactDelivery.status == "pending",
                PactDelivery.next_attempt_at == row.next_attempt_at)
                .values(next_attempt_at=now + LEASE))
            db.commit()
            if done.rowcount != 1:  # type: ignore[attr-defined]
                continue
            secret = unseal(secret_key, client.callback_secret) \
                if client.callback_secret else None
            jobs.append(_Job(row.id, client.org_id, spec, row.target, dict(row.body),
                             row.attempts, client.callback_client_id, secret))
    return jobs


def _record(factory: sessionmaker[Session], job: _Job, error: str, code: int | None) -> None:
    now = utcnow()
    attempts = job.attempts + 1
    with factory() as db:
        row = db.get(PactDelivery, job.id)
        if row is None:
            return
        row.attempts = attempts
        if not error:
            row.status, row.delivered_at, row.last_error = "delivered", now, ""
        else:
            row.last_error = error[:500]
            if attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            else:
                row.next_attempt_at = now + wait_after(attempts)
        audit.record(db, action="carbon.pact.delivery.attempt",
                     object_type="carbon_pact_delivery", object_id=row.id,
                     actor_user_id=None, org_id=job.org_id,
                     data={"attempt": attempts, "target": job.target, "status_code": code,
                           "outcome": row.status if row.status != "pending" else "retry",
                           "error": error[:500],
                           "next_attempt_at": row.next_attempt_at.isoformat()
                           if row.status == "pending" else None})
        db.commit()


def deliver_due(factory: sessionmaker[Session], secret_key: str, limit: int = 20,
                transport: httpx.BaseTransport | None = None) -> int:
    """Tries the deliveries that are due; returns how many were delivered."""
    delivered = 0
    for job in _claim(factory, secret_key, utcnow(), limit):
        try:
            code: int | None = _send(job, transport)
            error = ""
        except DeliveryError as exc:
            code, error = None, str(exc)
        except httpx.HTTPError as exc:
            code, error = None, f"{exc.__class__.__name__}: {exc}"
        if not error:
            delivered += 1
        else:
            log.warning("PACT delivery %s to %s: %s", job.id, job.target, error)
        _record(factory, job, error, code)
    return delivered


class Sender:
    """Delivers due answers in a thread of its own (HTTP calls never block the event
    loop): at once when woken after a request is answered, and every few seconds for
    retries and for deliveries a restart left behind."""

    def __init__(self, factory: sessionmaker[Session], secret_key: str,
                 every: float = 2.0) -> None:
        self.factory, self.secret_key, self.every = factory, secret_key, every
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pact-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.every)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                deliver_due(self.factory, self.secret_key)
            except Exception:  # the next round tries again; nothing is marked delivered
                log.exception("delivering PACT events failed")
