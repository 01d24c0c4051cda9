"""search words through a costed function on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:30:00

PostgreSQL priced ``string_to_array(body, ' ')`` as one cheap operator per row, so for a
word found in a few thousand documents it chose to split every document's ~1 KB of words
(a sequential scan, ~500 ms at 53,000 documents) over the GIN index (~20 ms). The same
split behind a function declared with its real cost makes the planner take the index.
The ``SET search_path`` clause keeps the function from being inlined, which would drop
that cost again. SQLite (FTS5) is not concerned.
"""

from __future__ import annotations

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

COLUMNS = ("body", "products", "parameters")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION tichub_words(doc text) RETURNS text[] "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 "
        "SET search_path = pg_catalog "
        "AS $$ SELECT string_to_array(doc, ' ') $$"
    )
    for col in COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_search_docs_words_{col}")
        op.execute(f"CREATE INDEX ix_search_docs_words_{col} ON search_docs "
                   f"USING gin (tichub_words({col}))")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for col in COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_search_docs_words_{col}")
        op.execute(f"CREATE INDEX ix_search_docs_words_{col} ON search_docs "
                   f"USING gin (string_to_array({col}, ' '))")
    op.execute("DROP FUNCTION IF EXISTS tichub_words(text)")
