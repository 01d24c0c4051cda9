"""the audit log refuses TRUNCATE on PostgreSQL

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 15:00:00

Row triggers do not fire on TRUNCATE, so 0001's append-only trigger let
``TRUNCATE audit_events`` empty the log. SQLite has no TRUNCATE, and its
``DELETE FROM audit_events`` without a WHERE still fires the row trigger (SQLite skips
its truncate shortcut on tables with triggers).
"""

from __future__ import annotations

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
