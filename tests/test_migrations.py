"""The migrations build exactly the schema the models describe, on every database."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tichub.core import audit
from tichub.core.db import make_engine
from tichub.core.migrate import include_object, target_metadata


def test_models_and_migrations_agree(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "include_object": include_object, "compare_type": True,
            "target_metadata": target_metadata})
        diff = compare_metadata(ctx, target_metadata)
    assert diff == []


def test_sqlite_pragmas(sqlite_template) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{sqlite_template}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_audit_log_is_append_only(sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    with sessionmaker_() as db:
        event = audit.record(db, action="test.done", object_type="test", object_id="x",
                             actor_user_id=None, org_id=None)
        db.commit()
        event_id = event.id
    statements = ["UPDATE audit_events SET action = 'forged' WHERE id = :id",
                  "DELETE FROM audit_events WHERE id = :id",
                  "DELETE FROM audit_events"]
    with sessionmaker_() as db:
        if db.get_bind().dialect.name == "postgresql":
            statements.append("TRUNCATE audit_events")
    for statement in statements:
        with sessionmaker_() as db, pytest.raises(DBAPIError, match="append-only"):
            db.execute(text(statement), {"id": event_id})
            db.commit()
    with sessionmaker_() as db:
        assert db.execute(text("SELECT action FROM audit_events WHERE id = :id"),
                          {"id": event_id}).scalar() == "test.done"
