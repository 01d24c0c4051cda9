"""PACT: the answers owed to customers' requests (RequestFulfilled, RequestRejected), kept
until delivered; the customer's credentials for its token endpoint; a request's answer.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tichub.core.db

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('carbon_pact_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('callback_client_id', sa.String(length=200),
                                      nullable=True))
        batch_op.add_column(sa.Column('callback_secret', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('callback_set_at',
                                      tichub.core.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('carbon_pact_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('answered_at',
                                      tichub.core.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        'carbon_pact_deliveries',
        sa.Column('client_id', sa.String(length=26), nullable=False),
        sa.Column('request_id', sa.String(length=26), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('target', sa.String(length=600), nullable=False),
        sa.Column('body', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=False),
        sa.Column('delivered_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('id', sa.String(length=26), nullable=False),
        sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['client_id'], ['carbon_pact_clients.id'],
            name=op.f('fk_carbon_pact_deliveries_client_id_carbon_pact_clients')),
        sa.ForeignKeyConstraint(
            ['request_id'], ['carbon_pact_events.id'],
            name=op.f('fk_carbon_pact_deliveries_request_id_carbon_pact_events')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_carbon_pact_deliveries')),
    )
    with op.batch_alter_table('carbon_pact_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carbon_pact_deliveries_client_id'), ['client_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_carbon_pact_deliveries_request_id'),
                              ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_carbon_pact_deliveries_next_attempt_at'),
                              ['next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_table('carbon_pact_deliveries')
    # In place, not batch mode: on SQLite a batch copies a table and drops the old one, which
    # the foreign keys of the tables referencing it refuse once they hold rows (see 0017).
    for table, column in (('carbon_pact_events', 'answered_at'), ('carbon_pact_events', 'answer'),
                          ('carbon_pact_clients', 'callback_set_at'),
                          ('carbon_pact_clients', 'callback_secret'),
                          ('carbon_pact_clients', 'callback_client_id')):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
