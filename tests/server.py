"""A real server for overload tests: uvicorn in its own process, on a free loopback port,
on the test's database; and the data those tests book and register against."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

import tichub
from helpers import Account, api_token, make_account, make_institution
from tichub.core.models import OrgKind
from tichub.market import service as market
from tichub.market.schemas import InstrumentIn
from tichub.registry import service as registry
from tichub.registry.schemas import SignatoryIn

SRC = Path(tichub.__file__).resolve().parents[1]  # the code under test, wherever it is


@contextmanager
def served(database_url: str, log_key: str, workdir: Path, *, tls: tuple[Path, Path] | None = None,
           ready_path: str = "/log/checkpoint", **env: str) -> Iterator[tuple[str, Path]]:
    """Yields the server's address and the file its log output goes to. ``tls``: (certificate,
    key) to serve HTTPS with; ``ready_path`` answers once the server is up."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = workdir / "server.log"
    environ = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
               "TICHUB_DATABASE_URL": database_url, "TICHUB_SECRET_KEY": "test-secret-key",
               "TICHUB_COOKIE_SECURE": "false", "TICHUB_LOG_ORIGIN": "tichub.test/reports",
               "TICHUB_LOG_KEY": log_key, "TICHUB_LOG_INTEGRATE_EVERY": "0.5", **env}
    tls_args = ["--ssl-certfile", str(tls[0]), "--ssl-keyfile", str(tls[1])] if tls else []
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(tls[0])) if tls \
        else True
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tichub.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
             "--no-access-log", *tls_args], env=environ, stdout=sink, stderr=subprocess.STDOUT)
        url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{url}{ready_path}", verify=verify, timeout=5)
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the server did not start:\n"
                                           + out.read_text()) from None
                    time.sleep(0.2)
            yield url, out
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@dataclass
class Lab:
    account: Account
    institution_id: str
    qualification_id: str
    auth: dict[str, str]


def make_lab(db: Session, email: str = "lab@example.com") -> Lab:
    acc = make_account(db, email)
    inst, qual = make_institution(db, acc, name="甲检测", serial=1,
                                  scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])
    registry.add_signatory(db, acc.principal(db), inst, SignatoryIn(
        name="张工", title="授权签字人", authorised_from=date(2020, 1, 1)))
    db.commit()
    token = api_token(db, acc, ["reports:write", "registry:read", "registry:write"])
    return Lab(acc, inst, qual, {"Authorization": f"Bearer {token}"})


def report(lab: Lab, number: str) -> dict[str, Any]:
    return {"number": number, "kind": "test_report", "institution_id": lab.institution_id,
            "client": "上海某储能科技有限公司", "product": "锂离子电池组",
            "standards": ["GB 31241-2022"], "marks": ["CNAS"],
            "sample_received_on": "2026-01-02", "tested_from": "2026-01-03",
            "tested_to": "2026-01-04", "issued_on": "2026-01-05",
            "signatories": ["张工"], "conclusion": "合格", "pdf_sha256": "ab" * 32}


@dataclass
class Instrument:
    id: str
    booker: Account
    auths: list[dict[str, str]]  # one API token for each client of a burst


def make_instrument(db: Session, clients: int) -> Instrument:
    owner = make_account(db, "owner@lab.cn")
    firm = make_account(db, "user@firm.cn", kind=OrgKind.enterprise)
    inst = market.add_instrument(db, owner.principal(db), InstrumentIn(
        org_id=owner.org.id, name="电感耦合等离子体质谱仪", kind="ICP-MS", maker="Agilent",
        model="7900", hourly_rate_fen=60_000, daily_rate_fen=1_000_000,
        calibration_due=date.today() + timedelta(days=365)))
    auths = [{"Authorization": "Bearer " + api_token(db, firm, ["market:write"])}
             for _ in range(clients)]
    return Instrument(inst.id, firm, auths)


def month_after_next(now: datetime) -> datetime:
    """The first of the month after next, at midnight in the given zone: a month every
    booking of a burst fits in, within the default 90 days ahead."""
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=62)).replace(day=1)
