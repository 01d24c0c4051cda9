"""Alembic environment: the URL and (in tests) the connection come from ``core.migrate``."""

from __future__ import annotations

from typing import Any

from alembic import context

from tichub.core.migrate import include_object, target_metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from tichub.core.db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
        with engine.connect() as conn:
            _configure(conn)
        engine.dispose()
    else:
        _configure(connection)


def _configure(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
