"""Database engine, sessions and the column types every domain shares."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import DateTime, MetaData, String, Table, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from tichub.core.errors import overloaded
from tichub.core.ids import new_id, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware UTC datetimes; SQLite drops the zone, so it is put back on load."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; TICHub stores UTC instants only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class IdMixin:
    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)


class CreatedMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    # Only other processes (the CLI, a second server) still meet SQLite's own lock: this
    # process's writers queue at the gate below.
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


# --- the SQLite writer gate ----------------------------------------------------------------
#
# SQLite has one writer. Left to itself, every waiting writer polls the lock with growing
# sleeps while holding a pooled connection and a worker thread, and gives up with "database
# is locked" after busy_timeout; and a transaction that read first can fail on its first
# write (SQLITE_BUSY_SNAPSHOT) whatever the timeout. So in this process writes queue at a
# first-come, first-served gate, taken before a transaction's first write: the driver then
# opens the transaction there (BEGIN IMMEDIATE), so its reads and writes see one state and
# no other writer of this process can get in between. The gate is let go when the
# transaction commits or rolls back. A writer that waits longer than the bound gets 503.

WRITE_WAIT = 10.0  # seconds, unless the engine was given another bound
RETRY_AFTER = 2  # seconds a client told 503 is asked to wait
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|SAVEPOINT)\b",
                    re.IGNORECASE)
_CTE_WRITE = re.compile(r"\s*WITH\b.*\b(INSERT|UPDATE|DELETE|REPLACE)\b",
                        re.IGNORECASE | re.DOTALL)
_wait: ContextVar[float | None] = ContextVar("tichub_write_wait", default=None)
PATIENT = float("inf")


class WriterGate:
    """A first-come, first-served lock: a writer that just let go cannot take it straight
    back past those already waiting (threading.Lock makes no such promise), so an import
    writing chunk after chunk lets a registration in between two chunks."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._queue: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held and not self._queue:
                self._held = True
                return True
            if timeout <= 0:
                return False
            turn = threading.Event()
            self._queue.append(turn)
        if turn.wait(None if timeout == PATIENT else timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over as the wait ran out: it is ours
                return True
            self._queue.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            if self._queue:
                self._queue.popleft().set()  # handed straight over: it stays held
            else:
                self._held = False

    @property
    def waiting(self) -> int:
        return len(self._queue)


_gates: dict[str, WriterGate] = {}
_gates_mutex = threading.Lock()


def writer_gate(url: str) -> WriterGate:
    """The one gate of a database file, shared by every engine this process has on it."""
    with _gates_mutex:
        return _gates.setdefault(url.split("///", 1)[-1], WriterGate())


class _GatedConnection(sqlite3.Connection):
    """The driver's connection, which lets the gate go once its transaction has ended."""

    gate: WriterGate | None = None
    holds_gate = False

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._let_go()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._let_go()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._let_go()

    def _let_go(self) -> None:
        if self.holds_gate and self.gate is not None:
            self.holds_gate = False
            self.gate.release()


# PostgreSQL's deadlock_detected and serialization_failure: the server rolled the
# transaction back whole, and trying again is the documented answer.
RETRYABLE_SQLSTATES = ("40P01", "40001")


def is_locked(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" (another process held the writer past the
    busy timeout) and PostgreSQL's deadlock or serialization failure: a refusal to try
    now, not a fault."""
    orig = getattr(exc, "orig", exc)
    return "database is locked" in str(orig) or "database table is locked" in str(orig) or \
        getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def _is_write(statement: str) -> bool:
    return bool(_WRITE.match(statement) or _CTE_WRITE.match(statement))


@contextmanager
def write_wait(seconds: float) -> Iterator[None]:
    """Within the block, writes wait this long for the SQLite writer: ``PATIENT`` for
    background work that must not give up, 0 for a write that may be skipped."""
    token = _wait.set(seconds)
    try:
        yield
    finally:
        _wait.reset(token)


def _gate_writes(engine: Engine, gate: WriterGate, bound: float) -> None:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.gate = gate

    def before_execute(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        dbapi_conn = cursor.connection
        if dbapi_conn.holds_gate or not _is_write(statement):
            return
        wait = _wait.get()
        if not gate.acquire(bound if wait is None else wait):
            raise overloaded(RETRY_AFTER, "the database is busy with other writes")
        dbapi_conn.holds_gate = True

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "before_cursor_execute", before_execute)


def make_engine(url: str, echo: bool = False, write_wait: float = WRITE_WAIT) -> Engine:
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        # A pooled connection is cheap on SQLite: enough for every worker thread (40) and
        # the event loop, so that a burst never waits for one; past that, 503 after the
        # write bound rather than the pool's 30 s.
        engine = create_engine(url, echo=echo, pool_size=16, max_overflow=80,
                               pool_timeout=write_wait,
                               connect_args={"check_same_thread": False,
                                             "factory": _GatedConnection,
                                             "isolation_level": "IMMEDIATE"})
        event.listen(engine, "connect", _sqlite_pragmas)
        _gate_writes(engine, writer_gate(url), write_wait)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The one way to write: a session whose work commits together or not at all."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def table(model: type[Base]) -> Table:
    """A model's table, for Core statements over many rows (no ORM bookkeeping per row)."""
    return cast(Table, model.__table__)


def claim_transition(session: Session, model: type[Base], row_id: str, before: Any,
                     after: Any, **values: Any) -> bool:
    """Moves a row from status ``before`` to ``after`` (with ``values``) only if it is still
    in ``before``: one conditional UPDATE, so of two racing transitions one wins and the
    other learns it lost (False) instead of overwriting it."""
    cols = cast(Any, model)
    done = session.execute(
        table(model).update().where(cols.id == row_id, cols.status == before)
        .values(status=after, **values))
    return bool(getattr(done, "rowcount", 0) == 1)
