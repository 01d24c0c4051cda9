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

    with op.batch_alter_table('report_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number_key', sa.String(length=100), nullable=True))
    bind = op.get_bind()
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
    with op.batch_alter_table('report_records', schema=None) as batch_op:
        batch_op.alter_column('number_key', existing_type=sa.String(length=100),
                              nullable=False)
        batch_op.create_index(batch_op.f('ix_report_records_number_key'), ['number_key'],
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
    with op.batch_alter_table('report_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_records_number_key'))
        batch_op.drop_column('number_key')
