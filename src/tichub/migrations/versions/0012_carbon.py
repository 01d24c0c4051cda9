"""Carbon: emission factors, product models, footprint studies and their review, PACT
clients, tokens and events, CBAM installations.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 08:59:40.093240
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tichub.core.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('carbon_cbam_installations',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=26), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_carbon_cbam_installations_created_by_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_carbon_cbam_installations_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carbon_cbam_installations'))
    )
    with op.batch_alter_table('carbon_cbam_installations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carbon_cbam_installations_org_id'), ['org_id'], unique=False)

    op.create_table('carbon_factors',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.String(length=26), nullable=True),
    sa.Column('name_zh', sa.String(length=300), nullable=False),
    sa.Column('name_en', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('gases', sa.JSON(), nullable=False),
    sa.Column('basis', sa.String(length=8), nullable=False),
    sa.Column('region', sa.String(length=60), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('source_url', sa.String(length=500), nullable=False),
    sa.Column('uncertainty', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=26), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_carbon_factors_created_by_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_carbon_factors_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carbon_factors')),
    sa.UniqueConstraint('key', 'version', name='carbon_factor_version')
    )
    with op.batch_alter_table('carbon_factors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carbon_factors_key'), ['key'], unique=False)
        batch_op.create_index(batch_op.f('ix_carbon_factors_org_id'), ['org_id'], unique=False)

    op.create_table('carbon_models',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('product', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=False),
    sa.Column('cn_code', sa.String(length=20), nullable=False),
    sa.Column('declared_amount', sa.Float(), nullable=False),
    sa.Column('declared_unit', sa.String(length=40), nullable=False),
    sa.Column('functional_unit', sa.Text(), nullable=False),
    sa.Column('boundary', sa.String(length=20), nullable=False),
    sa.Column('basis', sa.String(length=8), nullable=False),
    sa.Column('standard', sa.String(length=60), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('geography', sa.String(length=60), nullable=False),
    sa.Column('cut_off', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('processes', sa.JSON(), nullable=False),
    sa.Column('updated_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=26), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_carbon_models_created_by_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_carbon_models_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carbon_models'))
    )
    with op.batch_alter_table('carbon_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carbon_models_org_id'), ['org_id'], unique=False)

    op.create_table('carbon_pact_clients',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('secret_hash', sa.String(length=200), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=26), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_carbon_pact_clients_created_by_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_carbon_pact_clients_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carbon_pact_clients')),
    sa.UniqueConstraint('client_id', name=op.f('uq_carbon_pact_clients_client_id'))
    )
    with op.batch_alter_table('carbon_pact_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carbon_pact_clients_org_id'), ['org_id'], unique=False)

    op.create_table('carbon_pact_events',
    sa.Column('client_id', sa.String(length=26), nullable=False),
    sa.Column('spec', sa.String(length=4), nullable=False),
    sa.Column('type', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['carbon_pact_clients.id'], name=op.f('fk_carbon_pact_events_client_id_carbon_pact_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carbon_pact_events'))
    )
    with op.batch_alter_table('carbon_pact_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carbon_pact_events_client_id'), ['client_id'], unique=False)

    op.create_table('carbon_pact_tokens',
    sa.Column('client_id', sa.String(length=26), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['carbon_pact_clients.id'], name=op.f('fk_carbon_pact_tokens_client_id_carbon_pact_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carbon_pact_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_carbon_pact_tokens_token_hash'))
    )
    with op.batch_alter_table('carbon_pact_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carbon_pact_tokens_client_id'), ['client_id'], unique=False)

    op.create_table('carbon_studies',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('model_id', sa.String(length=26), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'in_review', 'questions', 'certified', 'rejected', 'withdrawn', name='carbon_study_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('models', sa.JSON(), nullable=False),
    sa.Column('factors', sa.JSON(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('excluding_biogenic', sa.Float(), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('uncertainty', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=26), nullable=True),
    sa.Column('cb_org_id', sa.String(length=26), nullable=True),
    sa.Column('submitted_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('decided_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('certificate_number', sa.String(length=64), nullable=True),
    sa.Column('certificate_record_id', sa.String(length=26), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('pact_id', sa.String(length=36), nullable=True),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('shared_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cb_org_id'], ['organisations.id'], name=op.f('fk_carbon_studies_cb_org_id_organisations')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_carbon_studies_created_by_users')),
    sa.ForeignKeyConstraint(['model_id'], ['carbon_models.id'], name=op.f('fk_carbon_studies_model_id_carbon_models')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_carbon_studies_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carbon_studies')),
    sa.UniqueConstraint('certificate_number', name=op.f('uq_carbon_studies_certificate_number')),
    sa.UniqueConstraint('pact_id', name=op.f('uq_carbon_studies_pact_id'))
    )
    with op.batch_alter_table('carbon_studies', schema=None) as batch_op:
        batch_op.create_index('carbon_study_cb_status', ['cb_org_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_carbon_studies_model_id'), ['model_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_carbon_studies_org_id'), ['org_id'], unique=False)

    op.create_table('carbon_review_messages',
    sa.Column('study_id', sa.String(length=26), nullable=False),
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('author_id', sa.String(length=26), nullable=True),
    sa.Column('topic', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_carbon_review_messages_author_id_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_carbon_review_messages_org_id_organisations')),
    sa.ForeignKeyConstraint(['study_id'], ['carbon_studies.id'], name=op.f('fk_carbon_review_messages_study_id_carbon_studies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carbon_review_messages'))
    )
    with op.batch_alter_table('carbon_review_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carbon_review_messages_study_id'), ['study_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('carbon_review_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carbon_review_messages_study_id'))

    op.drop_table('carbon_review_messages')
    with op.batch_alter_table('carbon_studies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carbon_studies_org_id'))
        batch_op.drop_index(batch_op.f('ix_carbon_studies_model_id'))
        batch_op.drop_index('carbon_study_cb_status')

    op.drop_table('carbon_studies')
    with op.batch_alter_table('carbon_pact_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carbon_pact_tokens_client_id'))

    op.drop_table('carbon_pact_tokens')
    with op.batch_alter_table('carbon_pact_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carbon_pact_events_client_id'))

    op.drop_table('carbon_pact_events')
    with op.batch_alter_table('carbon_pact_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carbon_pact_clients_org_id'))

    op.drop_table('carbon_pact_clients')
    with op.batch_alter_table('carbon_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carbon_models_org_id'))

    op.drop_table('carbon_models')
    with op.batch_alter_table('carbon_factors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carbon_factors_org_id'))
        batch_op.drop_index(batch_op.f('ix_carbon_factors_key'))

    op.drop_table('carbon_factors')
    with op.batch_alter_table('carbon_cbam_installations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carbon_cbam_installations_org_id'))

    op.drop_table('carbon_cbam_installations')
