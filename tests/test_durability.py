"""A registration acknowledged to a client survives `kill -9` of the server: the server runs
as a real process, clients register under load, the server is killed and restarted, and
every acknowledged record must then verify, with the log consistent with every checkpoint
published before the crash. On SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from conftest import LOG_KEY, LOG_ORIGIN
from helpers import api_token, make_account, make_institution
from tichub.reports import audit
from tichub.reports.bundle import check
from tichub.reports.checkpoint import open_checkpoint
from tichub.reports.note import Signer

CLIENTS = 4
LOAD_SECONDS = 2.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, database_url: str, tmp: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "TICHUB_DATABASE_URL": database_url,
                    "TICHUB_LOG_KEY": LOG_KEY, "TICHUB_LOG_ORIGIN": LOG_ORIGIN,
                    "TICHUB_LOG_INTEGRATE_EVERY": "0.05", "TICHUB_SECRET_KEY": "durability",
                    "TICHUB_COOKIE_SECURE": "false"}
        self.log = (tmp / "server.log").open("ab")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tichub.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/log/checkpoint", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)  # no shutdown, no flush: a crash
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture
def server(sessionmaker_, database_url: str, tmp_path: Path) -> Iterator[tuple[Server, dict]]:  # type: ignore[type-arg]
    with sessionmaker_() as db:
        acc = make_account(db, "lab@example.com")
        inst, _ = make_institution(db, acc, name="甲检测", serial=1,
                                   scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
        token = api_token(db, acc, ["reports:write"])
    srv = Server(database_url, tmp_path)
    srv.start()
    yield srv, {"inst": inst, "auth": {"Authorization": f"Bearer {token}"}}
    srv.stop()


def _record(inst: str, number: str) -> dict[str, object]:
    return {"number": number, "kind": "test_report", "institution_id": inst,
            "issued_on": date(2026, 1, 5).isoformat(), "client": "客户",
            "standards": ["GB 31241-2022"], "marks": ["CNAS"]}


def test_acknowledged_records_survive_kill_9(server) -> None:  # type: ignore[no-untyped-def]
    srv, lab = server
    acknowledged: list[dict[str, str]] = []
    checkpoints: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def register(worker: int) -> None:
        with httpx.Client(base_url=srv.url, timeout=10, headers=lab["auth"]) as client:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    if n % 3:
                        r = client.post("/api/reports", json=_record(lab["inst"],
                                                                     f"D-{worker}-{n}"))
                        receipts = [r.json()] if r.status_code == 201 else []
                    else:
                        r = client.post("/api/reports/batch", json={"records": [
                            _record(lab["inst"], f"D-{worker}-{n}-{i}") for i in range(10)]})
                        receipts = r.json() if r.status_code == 201 else []
                except httpx.HTTPError:
                    return  # the server is gone: what was not acknowledged may be lost
                assert r.status_code == 201, r.text
                with lock:
                    acknowledged.extend(receipts)

    def watch() -> None:
        with httpx.Client(base_url=srv.url, timeout=5) as client:
            while not stop.is_set():
                try:
                    r = client.get("/log/checkpoint")
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    with lock:
                        checkpoints.append(r.text)
                time.sleep(0.05)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(CLIENTS)]
    threads.append(threading.Thread(target=watch))
    for t in threads:
        t.start()
    time.sleep(LOAD_SECONDS)
    srv.kill()  # in the middle of registrations and integrations
    stop.set()
    for t in threads:
        t.join(timeout=20)
    assert len(acknowledged) > 20 and checkpoints, (len(acknowledged), len(checkpoints))

    srv.start()
    key = Signer.parse(LOG_KEY).verifier()
    with httpx.Client(base_url=srv.url, timeout=10) as client:
        # Every acknowledged record reaches the log after the restart and verifies offline.
        deadline = time.monotonic() + 60
        for receipt in acknowledged:
            while True:
                r = client.get(f"/api/reports/records/{receipt['record_id']}/bundle")
                if r.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert r.status_code == 200, (receipt["number"], r.text)
            checked = check(r.json(), key.encode())
            assert checked.number == receipt["number"]
        # The log after the crash extends every checkpoint published before it.
        reader = audit.HttpReader(client)
        for note in {*checkpoints}:
            cp = open_checkpoint(note, key).checkpoint
            report = audit.audit(reader, key, audit.State(cp.size, cp.root_hash))
            assert report.ok, report.findings
        full = audit.audit(reader, key, full=True)
        assert full.ok, full.findings
        assert full.size >= len(acknowledged)
