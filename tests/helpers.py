"""Test helpers: accounts and signing in, through the platform's own use cases and pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tichub.core import service
from tichub.core.auth import Principal, _principal_for_user
from tichub.core.models import Organisation, OrgKind, Role, User
from tichub.registry import service as registry
from tichub.registry.models import QualificationKind, QualificationStatus
from tichub.registry.schemas import InstitutionIn, QualificationIn, ScopeLineIn

PASSWORD = "correct horse battery"


@dataclass
class Account:
    org: Organisation
    user: User
    password: str = PASSWORD

    def principal(self, db: Session) -> Principal:
        db.refresh(self.user)
        return Principal(**_principal_for_user(self.user))


def make_account(db: Session, email: str, kind: OrgKind = OrgKind.lab,
                 role: Role = Role.admin, org: Organisation | None = None) -> Account:
    org = org or service.create_organisation(db, name=f"Org of {email}", kind=kind)
    user = service.create_user(db, email=email, password=PASSWORD, org=org, role=role)
    db.commit()
    return Account(org, user)


def csrf_from(html: str) -> str:
    m = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)"', html)
    assert m, "page has no CSRF token"
    return m.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Signs in through the login form; returns the CSRF token for later writes."""
    page = client.get("/login")
    token = csrf_from(page.text)
    r = client.post("/login", data={"email": email, "password": password,
                                    "csrf_token": token, "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_from(client.get("/").text)


def api_token(db: Session, account: Account, scopes: list[str]) -> str:
    _, plain = service.create_token(db, principal=account.principal(db), org_id=account.org.id,
                                    name="test", scopes=scopes)
    return plain


# A valid credit code (check character per GB 32100-2015) for tests to vary.
def credit_code(serial: int) -> str:
    from tichub.registry.credit_code import check_character

    first17 = "91310115" + f"{serial:09d}"
    return first17 + check_character(first17)


def make_institution(
    db: Session, account: Account, *, name: str, serial: int, district: str = "pudong",
    scope: list[tuple[str, str, str]] = (), qual_kind: QualificationKind = QualificationKind.cnas,
    number: str | None = None, status: QualificationStatus = QualificationStatus.valid,
    valid_until: date = date(2030, 1, 1), revenue_tier: str | None = None,
) -> tuple[str, str]:
    """Creates an institution with one qualification and its scope; returns their ids."""
    p = account.principal(db)
    inst = registry.create_institution(db, p, account.org.id, InstitutionIn(
        name_zh=name, credit_code=credit_code(serial), district=district,
        revenue_tier=revenue_tier))
    q = registry.add_qualification(db, p, inst.id, QualificationIn(
        kind=qual_kind, number=number or f"CNAS L{serial:04d}", valid_until=valid_until,
        status=status))
    if scope:
        registry.replace_scope(db, p, q.id, [ScopeLineIn(standard=s, product=prod, parameter=par)
                                             for s, prod, par in scope])
    return inst.id, q.id


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """The application served by uvicorn on a free local port, in a thread: for commands
    that talk to a platform over real HTTP. Yields its address."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
