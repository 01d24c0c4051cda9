"""Carbon: the certification body institution that issues a study's label certificate;
a product's mass per declared unit (PACT).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:25:04.937557
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('carbon_models', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mass_kg', sa.Float(), nullable=True))
    with op.batch_alter_table('carbon_studies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cb_institution_id', sa.String(length=26), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_carbon_studies_cb_institution_id_institutions'), 'institutions', ['cb_institution_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('carbon_studies', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_carbon_studies_cb_institution_id_institutions'), type_='foreignkey')
        batch_op.drop_column('cb_institution_id')
    with op.batch_alter_table('carbon_models', schema=None) as batch_op:
        batch_op.drop_column('mass_kg')
