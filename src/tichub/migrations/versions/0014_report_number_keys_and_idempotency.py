"""Reports: each record's number in its normalised form, to find and compare numbers by
(backfilled: numbers registered before were stored as typed, and their leaves cannot
change); the answers kept under clients' Idempotency-Keys.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BACKFILL_BATCH = 5_000


def upgrade() -> None:
    from tichub.core.db import UTCDateTime
    from tichub.reports.numbers import lookup_key

    bind = op.get_bind()
    # NOT NULL from the start, with a default for the rows already there: SQLite adds such a
    # column in place, where making it NOT NULL afterwards would rebuild report_records,
    # which the tables referring to it (foreign keys on) do not allow.
    op.add_column('report_records', sa.Column('number_key', sa.String(length=100),
                                              nullable=False, server_default=''))
    records = sa.table('report_records', sa.column('id', sa.String),
                       sa.column('number', sa.String), sa.column('number_key', sa.String))
    after = ""
    while True:
        rows = bind.execute(sa.select(records.c.id, records.c.number)
                            .where(records.c.id > after).order_by(records.c.id)
                            .limit(BACKFILL_BATCH)).all()
        if not rows:
            break
        bind.execute(records.update().where(records.c.id == sa.bindparam('rid'))
                     .values(number_key=sa.bindparam('key')),
                     [{'rid': rid, 'key': lookup_key(number)} for rid, number in rows])
        after = rows[-1][0]
    if bind.dialect.name != 'sqlite':  # the code always sets it (SQLite keeps the default)
        op.alter_column('report_records', 'number_key', server_default=None)
    op.create_index(op.f('ix_report_records_number_key'), 'report_records', ['number_key'],
                    unique=False)
    op.create_table('idempotency_keys',
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('owner', 'key', name=op.f('pk_idempotency_keys'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_expires_at'), ['expires_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_expires_at'))
    op.drop_table('idempotency_keys')
    op.drop_index(op.f('ix_report_records_number_key'), table_name='report_records')
    # In place on SQLite too (3.35+): a rebuild is refused while other tables refer to it.
    op.execute('ALTER TABLE report_records DROP COLUMN number_key')
