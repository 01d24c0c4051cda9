"""Fixtures: a fresh, migrated database per test, on SQLite and (when reachable) PostgreSQL.

``TICHUB_TEST_REQUIRE=postgres,browser`` (set in CI) turns the skips for a missing
PostgreSQL server or Chromium into failures.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlalchemy.orm import Session

from tichub.app import create_app
from tichub.core.config import Settings
from tichub.core.db import make_engine, make_sessionmaker
from tichub.core.ids import new_id
from tichub.core.migrate import upgrade
from tichub.reports.note import Signer

# The tests live where the platform's users do: date.today() in a test is the Beijing date
# that the platform calls today (core.ids.today), also from 16:00 to 24:00 UTC.
os.environ["TZ"] = "Asia/Shanghai"
time.tzset()

REQUIRED = {p.strip() for p in os.environ.get("TICHUB_TEST_REQUIRE", "").split(",") if p.strip()}
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_base_url() -> str:
    url = os.environ.get("TICHUB_TEST_DATABASE_URL", PG_DEFAULT)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@cache
def pg_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        engine = create_engine(pg_base_url(), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        where = make_url(pg_base_url()).render_as_string(hide_password=True)
        return f"PostgreSQL at {where} is not reachable: {exc.__class__.__name__}"
    return None


@cache
def shared_extensions(url: str) -> None:
    """btree_gist (the bookings' no-overlap constraint) once, in public, for every test
    schema. Created by each test's migration instead, it would live in that test's schema and
    go with it, under the feet of another test run using the same database at the time."""
    admin = create_engine(url)
    try:
        for attempt in range(5):
            try:
                with admin.begin() as conn:
                    conn.execute(text(
                        "CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public"))
                return
            except (IntegrityError, ProgrammingError):  # another run creating it meanwhile
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))
    finally:
        admin.dispose()


def skip_or_fail(need: str, reason: str) -> None:
    if need in REQUIRED:
        pytest.fail(f"{reason} (TICHUB_TEST_REQUIRE includes {need})")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "tichub.db"
        shutil.copy(sqlite_template, path)  # a migrated copy: faster than migrating anew
        yield f"sqlite:///{path}"
        return
    reason = pg_unreachable()
    if reason:
        skip_or_fail("postgres", reason)
    schema = f"t_{new_id().lower()}"
    admin = create_engine(pg_base_url())
    shared_extensions(pg_base_url())
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg_base_url() else "?"
    # The test's own schema first (its tables), then public (the shared extensions).
    url = f"{pg_base_url()}{sep}options=-csearch_path%3D{schema},public"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


LOG_ORIGIN = "tichub.test/reports"
LOG_KEY = Signer.generate(LOG_ORIGIN).encode()  # a fresh log key for each test run


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Integration runs when a test asks for it, not on a timer.
    return Settings(database_url=database_url, secret_key="test-secret-key",
                    cookie_secure=False, log_origin=LOG_ORIGIN, log_key=LOG_KEY,
                    log_integrate_every=0)


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


@pytest.fixture
def db(app) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    session = app.state.sessionmaker()
    yield session
    session.close()


@pytest.fixture
def engine(database_url: str):  # type: ignore[no-untyped-def]
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessionmaker_(engine):  # type: ignore[no-untyped-def]
    return make_sessionmaker(engine)
