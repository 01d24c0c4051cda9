"""proficiency testing

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:42:13.833166
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tichub.core.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pt_schemes',
    sa.Column('provider_org_id', sa.String(length=26), nullable=False),
    sa.Column('institution_id', sa.String(length=26), nullable=True),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=300), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('method_groups', sa.JSON(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_pt_schemes_institution_id_institutions')),
    sa.ForeignKeyConstraint(['provider_org_id'], ['organisations.id'], name=op.f('fk_pt_schemes_provider_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pt_schemes')),
    sa.UniqueConstraint('code', name=op.f('uq_pt_schemes_code'))
    )
    with op.batch_alter_table('pt_schemes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pt_schemes_provider_org_id'), ['provider_org_id'], unique=False)

    op.create_table('pt_measurands',
    sa.Column('scheme_id', sa.String(length=26), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('mass_fraction_per_unit', sa.Float(), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['scheme_id'], ['pt_schemes.id'], name=op.f('fk_pt_measurands_scheme_id_pt_schemes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pt_measurands')),
    sa.UniqueConstraint('scheme_id', 'name', name='pt_measurand_name')
    )
    with op.batch_alter_table('pt_measurands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pt_measurands_scheme_id'), ['scheme_id'], unique=False)

    op.create_table('pt_rounds',
    sa.Column('scheme_id', sa.String(length=26), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Enum('draft', 'open', 'closed', 'published', name='pt_round_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('dispatch_on', sa.Date(), nullable=True),
    sa.Column('deadline', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('score', sa.String(length=10), nullable=False),
    sa.Column('k_xpt', sa.Float(), nullable=False),
    sa.Column('computed_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['scheme_id'], ['pt_schemes.id'], name=op.f('fk_pt_rounds_scheme_id_pt_schemes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pt_rounds')),
    sa.UniqueConstraint('scheme_id', 'code', name='pt_round_code')
    )
    with op.batch_alter_table('pt_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pt_rounds_scheme_id'), ['scheme_id'], unique=False)

    op.create_table('pt_participants',
    sa.Column('round_id', sa.String(length=26), nullable=False),
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('status', sa.Enum('invited', 'requested', 'accepted', 'declined', name='pt_participant_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('changed_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('certificate_number', sa.String(length=100), nullable=True),
    sa.Column('certificate_record_id', sa.String(length=26), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_pt_participants_org_id_organisations')),
    sa.ForeignKeyConstraint(['round_id'], ['pt_rounds.id'], name=op.f('fk_pt_participants_round_id_pt_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pt_participants')),
    sa.UniqueConstraint('round_id', 'code', name='pt_participant_code'),
    sa.UniqueConstraint('round_id', 'org_id', name='pt_participant_org')
    )
    with op.batch_alter_table('pt_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pt_participants_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pt_participants_round_id'), ['round_id'], unique=False)

    op.create_table('pt_round_measurands',
    sa.Column('round_id', sa.String(length=26), nullable=False),
    sa.Column('measurand_id', sa.String(length=26), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('assigned_kind', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('assigned_value', sa.Float(), nullable=True),
    sa.Column('assigned_u', sa.Float(), nullable=True),
    sa.Column('sigma_kind', sa.String(length=20), nullable=False),
    sa.Column('sigma_value', sa.Float(), nullable=True),
    sa.Column('computed', sa.JSON(), nullable=False),
    sa.Column('homogeneity', sa.JSON(), nullable=False),
    sa.Column('stability', sa.JSON(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['measurand_id'], ['pt_measurands.id'], name=op.f('fk_pt_round_measurands_measurand_id_pt_measurands')),
    sa.ForeignKeyConstraint(['round_id'], ['pt_rounds.id'], name=op.f('fk_pt_round_measurands_round_id_pt_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pt_round_measurands')),
    sa.UniqueConstraint('round_id', 'measurand_id', name='pt_round_measurand')
    )
    with op.batch_alter_table('pt_round_measurands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pt_round_measurands_round_id'), ['round_id'], unique=False)

    op.create_table('pt_results',
    sa.Column('round_id', sa.String(length=26), nullable=False),
    sa.Column('participant_id', sa.String(length=26), nullable=False),
    sa.Column('round_measurand_id', sa.String(length=26), nullable=False),
    sa.Column('item', sa.String(length=20), nullable=False),
    sa.Column('reported_value', sa.Float(), nullable=False),
    sa.Column('reported_unit', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('expanded_u', sa.Float(), nullable=True),
    sa.Column('coverage_k', sa.Float(), nullable=True),
    sa.Column('method', sa.String(length=200), nullable=False),
    sa.Column('submitted_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_by', sa.String(length=26), nullable=True),
    sa.Column('z', sa.Float(), nullable=True),
    sa.Column('z_prime', sa.Float(), nullable=True),
    sa.Column('zeta', sa.Float(), nullable=True),
    sa.Column('en', sa.Float(), nullable=True),
    sa.Column('verdict', sa.String(length=20), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['pt_participants.id'], name=op.f('fk_pt_results_participant_id_pt_participants')),
    sa.ForeignKeyConstraint(['round_id'], ['pt_rounds.id'], name=op.f('fk_pt_results_round_id_pt_rounds')),
    sa.ForeignKeyConstraint(['round_measurand_id'], ['pt_round_measurands.id'], name=op.f('fk_pt_results_round_measurand_id_pt_round_measurands')),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_pt_results_submitted_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pt_results')),
    sa.UniqueConstraint('participant_id', 'round_measurand_id', 'item', name='pt_result_one')
    )
    with op.batch_alter_table('pt_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pt_results_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pt_results_round_id'), ['round_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('pt_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pt_results_round_id'))
        batch_op.drop_index(batch_op.f('ix_pt_results_participant_id'))

    op.drop_table('pt_results')
    with op.batch_alter_table('pt_round_measurands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pt_round_measurands_round_id'))

    op.drop_table('pt_round_measurands')
    with op.batch_alter_table('pt_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pt_participants_round_id'))
        batch_op.drop_index(batch_op.f('ix_pt_participants_org_id'))

    op.drop_table('pt_participants')
    with op.batch_alter_table('pt_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pt_rounds_scheme_id'))

    op.drop_table('pt_rounds')
    with op.batch_alter_table('pt_measurands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pt_measurands_scheme_id'))

    op.drop_table('pt_measurands')
    with op.batch_alter_table('pt_schemes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pt_schemes_provider_org_id'))

    op.drop_table('pt_schemes')
