"""issuer keys

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tichub.core.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('issuer_keys',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('verifier_key', sa.String(length=300), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_issuer_keys_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issuer_keys')),
    sa.UniqueConstraint('name', name=op.f('uq_issuer_keys_name'))
    )
    with op.batch_alter_table('issuer_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issuer_keys_org_id'), ['org_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('issuer_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issuer_keys_org_id'))
    op.drop_table('issuer_keys')
