"""What one request may cost: request body limits on every route (413 before the body is read,
or as soon as a streamed body passes the limit), and a bound on requests at once (503 with
Retry-After instead of an unbounded queue)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from helpers import api_token, live_server, make_account, make_institution
from tichub.app import create_app
from tichub.core import limits
from tichub.core.config import Settings
from tichub.core.limits import InFlight
from tichub.reports.models import ReportRecord

BATTERY = ("GB 31241-2022", "锂离子电池", "过充电保护")
CHUNK = 64 * 1024


class Sent:
    """What the application pulled from the request, through ASGI's receive."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.calls = 0
        self.bytes = 0

    async def receive(self) -> dict[str, Any]:
        self.calls += 1
        chunk = next(self.chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        self.bytes += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}


def endless() -> Iterator[bytes]:
    yield b'{"records": ['
    while True:
        yield b" " * CHUNK


def call(app: Any, method: str, path: str, sent: Sent,
         headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """One request to the application as a server would make it, body pulled on demand."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "https" if path.startswith("/pact") else "http",
             "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000),
             "server": ("127.0.0.1", 8000),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    out: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        out.append(message)

    asyncio.run(app(scope, sent.receive, send))
    start = next(m for m in out if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in out if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


def _too_large(status: int, headers: dict[str, str], body: bytes, limit: int) -> None:
    assert status == 413, body
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["errors"] == [{"field": "body", "message": f"is larger than {limit} bytes"}]
    assert str(limit) in problem["detail"]


@pytest.mark.parametrize("size", [2 * limits.MiB, 100 * 1000 * 1000])
def test_an_anonymous_json_body_over_the_limit_is_refused_unread(app, size: int) -> None:  # type: ignore[no-untyped-def]
    # The probe: 100 MB of JSON, no credentials. Refused from its Content-Length, with not
    # one byte read (before: read whole, then 401).
    sent = Sent(endless())
    status, headers, body = call(app, "POST", "/api/reports", sent, {
        "content-type": "application/json", "content-length": str(size)})
    limit = limits.DEFAULT_BODY if size < limits.TABLE_IMPORT else limits.TABLE_IMPORT
    _too_large(status, headers, body, limit)
    assert sent.calls == 0


def test_a_chunked_body_is_counted_and_stopped_at_the_limit(app) -> None:  # type: ignore[no-untyped-def]
    sent = Sent(endless())
    status, headers, body = call(app, "POST", "/api/reports", sent,
                                 {"content-type": "application/json",
                                  "transfer-encoding": "chunked"})
    _too_large(status, headers, body, limits.DEFAULT_BODY)
    assert limits.DEFAULT_BODY < sent.bytes <= limits.DEFAULT_BODY + CHUNK


def test_a_real_server_stops_a_chunked_body_at_the_limit(app) -> None:  # type: ignore[no-untyped-def]
    total = 100 * limits.MiB
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        while sent < total:
            sent += CHUNK
            yield b" " * CHUNK

    with live_server(app) as url:
        r = httpx.post(f"{url}/api/reports", content=body(), timeout=60,
                       headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["errors"][0]["field"] == "body"
    # The server closes the connection rather than drain the rest: the client stopped early.
    assert sent < total // 2


@pytest.fixture
def lab(client, db):  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1, scope=[BATTERY])
    token = api_token(db, acc, ["reports:write", "registry:read", "registry:write"])
    auth = {"Authorization": f"Bearer {token}"}
    r = client.post(f"/api/registry/institutions/{inst}/signatories", headers=auth,
                    json={"name": "张工", "title": "授权签字人", "authorised_from": "2020-01-01"})
    assert r.status_code == 201, r.text
    return {"inst": inst, "auth": auth}


def _record(inst: str, i: int) -> dict[str, Any]:
    # A report as labs send them: names and a conclusion in Chinese.
    return {"number": f"SHJC-2026-{i:06d}", "kind": "test_report", "institution_id": inst,
            "client": "上海临港新能源汽车零部件有限公司",
            "product": "锂离子电池组 型号 LP-48V-100Ah",
            "sample": f"样品 S-2026-{i:06d}", "standards": ["GB 31241-2022"],
            "sample_received_on": "2026-01-02", "tested_from": "2026-01-03",
            "tested_to": "2026-01-04", "issued_on": "2026-01-05", "signatories": ["张工"],
            "conclusion": "所检项目符合 GB 31241-2022 的要求，判定合格。" * 4, "marks": ["CNAS"],
            "pdf_sha256": f"{i:064x}"}


def _count(db) -> int:  # type: ignore[no-untyped-def]
    db.rollback()
    return db.scalar(select(func.count()).select_from(ReportRecord))


def test_a_full_batch_fits_its_limit_and_a_refused_one_stores_nothing(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    # 1,000 records, every non-ASCII character escaped (as Python's json does): over the
    # default, under the batch route's own limit.
    full = json.dumps({"records": [_record(lab["inst"], i) for i in range(1000)]}).encode()
    assert limits.DEFAULT_BODY < len(full) < limits.BATCH_BODY
    headers = {**lab["auth"], "content-type": "application/json"}
    r = client.post("/api/reports/batch", content=full, headers=headers)
    assert r.status_code == 201, r.text[:500]
    assert _count(db) == 1000
    # Over the limit (the probe sent 20 MB), well-formed up to where it stops: nothing of it
    # is stored, nothing stored before is lost.
    records = [_record(lab["inst"], 1000 + i) for i in range(1000)]
    for r_ in records:
        r_["conclusion"] = "合格" * 1000
    big = json.dumps({"records": records}).encode()
    assert len(big) > limits.BATCH_BODY
    r = client.post("/api/reports/batch", content=big, headers=headers)
    assert r.status_code == 413 and r.json()["errors"][0]["field"] == "body"
    assert _count(db) == 1000
    r = client.post("/api/reports", json=_record(lab["inst"], 5000), headers=lab["auth"])
    assert r.status_code == 201, r.text
    assert _count(db) == 1001


# Every route taking a file (and the other large ones), with the largest body it takes.
FILE = limits.upload(5 * limits.MiB)
LARGE = [
    ("POST", "/api/registry/institutions/import", limits.TABLE_IMPORT),
    ("POST", "/api/registry/institutions/{institution_id}/scope/import", limits.TABLE_IMPORT),
    ("PUT", "/api/registry/qualifications/{qualification_id}/scope", limits.TABLE_IMPORT),
    ("PUT", "/api/reports/records/{record_id}/pdf", 20 * limits.MiB),
    ("POST", "/verify", limits.upload(50 * limits.MiB)),
    ("POST", "/api/pt/rounds/{round_id}/homogeneity", FILE),
    ("POST", "/api/pt/rounds/{round_id}/results/upload", FILE),
    ("POST", "/pt/rounds/{round_id}/homogeneity", FILE),
    ("POST", "/pt/rounds/{round_id}/results", FILE),
    ("POST", "/api/carbon/factors/import", FILE),
    ("POST", "/api/carbon/models/olca", FILE),
    ("POST", "/api/carbon/cbam/communications/read", FILE),
    ("POST", "/carbon/cbam/communications", FILE),
    ("POST", "/carbon/cbam/installations", FILE),
    ("POST", "/carbon/cbam/installations/{installation_id}", FILE),
    ("POST", "/api/carbon/pact/import", FILE),
    ("POST", "/carbon/pact/import", FILE),
    ("POST", "/api/carbon/models", limits.MODEL_BODY),
    ("PUT", "/api/carbon/models/{model_id}", limits.MODEL_BODY),
    ("POST", "/api/reports/batch", limits.BATCH_BODY),
    # and a few of those that take the default
    ("POST", "/api/reports", limits.DEFAULT_BODY),
    ("POST", "/login", limits.DEFAULT_BODY),
    ("POST", "/pact/2/events", limits.DEFAULT_BODY),
    ("POST", "/market/requests", limits.DEFAULT_BODY),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_upload_route_states_its_limit_and_keeps_to_it(app) -> None:  # type: ignore[no-untyped-def]
    documented = app.openapi()["paths"]
    for method, template, limit in LARGE:
        path = re.sub(r"\{[^}]+\}", "x", template)
        kind = "multipart/form-data; boundary=b" if limit == FILE else "application/json"
        for size, expected in ((limit + 1, limit), (limits.TABLE_IMPORT + 1,
                                                    limits.TABLE_IMPORT)):
            sent = Sent(endless())
            status, headers, body = call(app, method, path, sent, {
                "content-type": kind, "content-length": str(size)})
            _too_large(status, headers, body, expected)
            assert sent.calls == 0, (method, path)
        if template.startswith("/api/"):
            assert documented[template][method.lower()]["x-body-limit"] == limit


def test_the_openapi_document_states_a_limit_on_every_write(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/api/openapi.json").json()["paths"]
    writes = [(p, m, op) for p, item in paths.items() for m, op in item.items()
              if m in ("post", "put", "patch", "delete")]
    assert writes and all(isinstance(op.get("x-body-limit"), int) for _, _, op in writes)
    limit = {(p, m): op["x-body-limit"] for p, m, op in writes}
    assert limit[("/api/reports/batch", "post")] == limits.BATCH_BODY
    assert limit[("/api/reports", "post")] == limits.DEFAULT_BODY
    assert limit[("/api/carbon/factors/import", "post")] == limits.upload(5 * limits.MiB)
    assert limit[("/api/registry/institutions/import", "post")] == limits.TABLE_IMPORT


def test_a_crafted_form_is_refused_not_parsed_whole(client) -> None:  # type: ignore[no-untyped-def]
    # Field and file counts and a text part's size are Starlette's form limits (1,000 fields,
    # 1,000 files, 1 MiB a part); the body limit bounds the whole.
    r = client.post("/login", data={f"f{i}": "x" for i in range(1500)})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert "fields" in r.json()["detail"]
    files = [("file", (f"{i}.csv", b"a", "text/csv")) for i in range(1001)]
    r = client.post("/api/carbon/factors/import", files=files)
    assert r.status_code == 400 and "files" in r.json()["detail"]
    r = client.post("/login", data={"email": "x" * (limits.DEFAULT_BODY + 1)})
    assert r.status_code == 413


# --- requests at once --------------------------------------------------------------------

def _gate(app: Any) -> InFlight:
    layer = app.middleware_stack
    while not isinstance(layer, InFlight):
        layer = layer.app
    return layer


def _held_request(url: str, release: threading.Event, started: threading.Event,
                  result: list[int]) -> threading.Thread:
    """A request that stays in flight until ``release``: its body arrives slowly."""

    def body() -> Iterator[bytes]:
        yield b"{"
        started.set()
        release.wait(30)
        yield b"}"

    def run() -> None:
        r = httpx.post(f"{url}/api/reports", content=body(), timeout=60,
                       headers={"content-type": "application/json"})
        result.append(r.status_code)

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(10)
    return thread


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_beyond_the_bound_a_request_gets_503_with_retry_after(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"max_in_flight": 1, "max_queued": 0,
                                                 "queue_wait": 0}))
    with live_server(app) as url:
        release, started, held = threading.Event(), threading.Event(), []
        thread = _held_request(url, release, started, held)
        try:
            r = httpx.get(f"{url}/api/registry/search", timeout=10)
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"].isdigit()
            assert r.headers["content-type"] == "application/problem+json"
            # Public verification has its own places.
            r = httpx.get(f"{url}/api/reports/verify", params={"number": "X-1"}, timeout=10)
            assert r.status_code != 503
        finally:
            release.set()
            thread.join(30)
        assert held == [401]
        assert httpx.get(f"{url}/api/registry/search", timeout=10).status_code == 200
    app.state.engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_short_queue_serves_a_request_when_a_place_frees(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"max_in_flight": 1, "max_queued": 1,
                                                 "queue_wait": 20}))
    with live_server(app) as url:
        release, started, held = threading.Event(), threading.Event(), []
        thread = _held_request(url, release, started, held)
        queued: list[int] = []
        waiter = threading.Thread(target=lambda: queued.append(
            httpx.get(f"{url}/api/registry/search", timeout=30).status_code))
        try:
            waiter.start()
            lane = _gate(app).lanes["general"]
            for _ in range(400):  # until the waiter is in line
                if lane.waiting:
                    break
                time.sleep(0.05)
            # The line holds one: the next is refused at once.
            r = httpx.get(f"{url}/api/registry/search", timeout=10)
            assert r.status_code == 503
            assert not queued
        finally:
            release.set()
            thread.join(30)
            waiter.join(30)
        assert queued == [200]
    app.state.engine.dispose()
