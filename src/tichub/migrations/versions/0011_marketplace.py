"""marketplace

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 07:36:37.036640
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tichub.core.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('experts',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('committees', sa.JSON(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('fee_fen_per_hour', sa.BigInteger(), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_experts_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experts'))
    )
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experts_org_id'), ['org_id'], unique=False)

    op.create_table('instruments',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=100), nullable=False),
    sa.Column('maker', sa.String(length=100), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=False),
    sa.Column('district', sa.String(length=20), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('hourly_rate_fen', sa.BigInteger(), nullable=False),
    sa.Column('daily_rate_fen', sa.BigInteger(), nullable=False),
    sa.Column('calibrated_on', sa.Date(), nullable=True),
    sa.Column('calibration_due', sa.Date(), nullable=True),
    sa.Column('operator_required', sa.Boolean(), nullable=False),
    sa.Column('auto_approve', sa.Boolean(), nullable=False),
    sa.Column('min_lead_hours', sa.Integer(), nullable=False),
    sa.Column('max_advance_days', sa.Integer(), nullable=False),
    sa.Column('quota_hours_per_month', sa.Integer(), nullable=True),
    sa.Column('enterprise_share_pct', sa.Integer(), nullable=False),
    sa.Column('hours_per_day', sa.Integer(), nullable=False),
    sa.Column('cancel_hours', sa.Integer(), nullable=False),
    sa.Column('no_show_limit', sa.Integer(), nullable=False),
    sa.Column('bar_days', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('enterprise_share_pct BETWEEN 0 AND 100', name=op.f('ck_instruments_share')),
    sa.CheckConstraint('hourly_rate_fen >= 0 AND daily_rate_fen >= 0', name=op.f('ck_instruments_rates')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_instruments_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instruments'))
    )
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instruments_org_id'), ['org_id'], unique=False)

    op.create_table('notifications',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=False),
    sa.Column('read_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('email_state', sa.String(length=10), nullable=False),
    sa.Column('email_attempts', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_notifications_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_email_state'), ['email_state'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_org_id'), ['org_id'], unique=False)

    op.create_table('service_requests',
    sa.Column('company_org_id', sa.String(length=26), nullable=False),
    sa.Column('product', sa.String(length=300), nullable=False),
    sa.Column('standards', sa.JSON(), nullable=False),
    sa.Column('target_markets', sa.JSON(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('needed_by', sa.Date(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_org_id'], ['organisations.id'], name=op.f('fk_service_requests_company_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_requests'))
    )
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_requests_company_org_id'), ['company_org_id'], unique=False)

    op.create_table('voucher_programmes',
    sa.Column('operator_org_id', sa.String(length=26), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=False),
    sa.Column('allocated_fen', sa.BigInteger(), nullable=False),
    sa.Column('max_share_pct', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('eligible_kinds', sa.String(length=300), nullable=False),
    sa.Column('notice_days', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('allocated_fen >= 0 AND allocated_fen <= budget_fen', name=op.f('ck_voucher_programmes_allocated')),
    sa.CheckConstraint('budget_fen > 0', name=op.f('ck_voucher_programmes_budget')),
    sa.CheckConstraint('max_share_pct BETWEEN 1 AND 100', name=op.f('ck_voucher_programmes_share')),
    sa.CheckConstraint('valid_until >= valid_from', name=op.f('ck_voucher_programmes_period')),
    sa.ForeignKeyConstraint(['operator_org_id'], ['organisations.id'], name=op.f('fk_voucher_programmes_operator_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_programmes')),
    sa.UniqueConstraint('code', name=op.f('uq_voucher_programmes_code'))
    )
    with op.batch_alter_table('voucher_programmes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_programmes_operator_org_id'), ['operator_org_id'], unique=False)

    op.create_table('bookings',
    sa.Column('instrument_id', sa.String(length=26), nullable=False),
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('booked_by', sa.String(length=26), nullable=True),
    sa.Column('on_behalf_of', sa.String(length=200), nullable=False),
    sa.Column('starts_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('requested', 'confirmed', 'declined', 'cancelled', 'completed', 'no_show', name='booking_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.String(length=500), nullable=False),
    sa.Column('changed_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_bookings_period')),
    sa.CheckConstraint('price_fen >= 0', name=op.f('ck_bookings_price')),
    sa.ForeignKeyConstraint(['booked_by'], ['users.id'], name=op.f('fk_bookings_booked_by_users')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_bookings_instrument_id_instruments')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_bookings_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_instrument_id'), ['instrument_id'], unique=False)
        batch_op.create_index('ix_bookings_instrument_period', ['instrument_id', 'starts_at', 'ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_org_id'), ['org_id'], unique=False)

    op.create_table('consultations',
    sa.Column('expert_id', sa.String(length=26), nullable=False),
    sa.Column('client_org_id', sa.String(length=26), nullable=False),
    sa.Column('topic', sa.String(length=300), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('preferred_times', sa.String(length=500), nullable=False),
    sa.Column('status', sa.Enum('requested', 'scheduled', 'advised', 'declined', 'cancelled', name='consultation_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('scheduled_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('advice', sa.Text(), nullable=False),
    sa.Column('fee_fen', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_org_id'], ['organisations.id'], name=op.f('fk_consultations_client_org_id_organisations')),
    sa.ForeignKeyConstraint(['expert_id'], ['experts.id'], name=op.f('fk_consultations_expert_id_experts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultations'))
    )
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultations_client_org_id'), ['client_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultations_expert_id'), ['expert_id'], unique=False)

    op.create_table('ledger_transactions',
    sa.Column('programme_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('memo', sa.String(length=500), nullable=False),
    sa.Column('actor_user_id', sa.String(length=26), nullable=True),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['voucher_programmes.id'], name=op.f('fk_ledger_transactions_programme_id_voucher_programmes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transactions'))
    )
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_transactions_programme_id'), ['programme_id'], unique=False)

    op.create_table('service_listings',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('institution_id', sa.String(length=26), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('standards', sa.JSON(), nullable=False),
    sa.Column('parameters', sa.Text(), nullable=False),
    sa.Column('sample_requirements', sa.Text(), nullable=False),
    sa.Column('turnaround_days', sa.Integer(), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('tax_rate_pct', sa.Integer(), nullable=False),
    sa.Column('capacity_per_month', sa.Integer(), nullable=True),
    sa.Column('accredited', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('price_fen >= 0', name=op.f('ck_service_listings_price')),
    sa.CheckConstraint('tax_rate_pct BETWEEN 0 AND 100', name=op.f('ck_service_listings_tax')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_service_listings_institution_id_institutions')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_service_listings_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_listings'))
    )
    with op.batch_alter_table('service_listings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_listings_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_listings_org_id'), ['org_id'], unique=False)

    op.create_table('voucher_providers',
    sa.Column('programme_id', sa.String(length=26), nullable=False),
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('status', sa.Enum('applied', 'approved', 'rejected', name='listing_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('listed_from', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_voucher_providers_org_id_organisations')),
    sa.ForeignKeyConstraint(['programme_id'], ['voucher_programmes.id'], name=op.f('fk_voucher_providers_programme_id_voucher_programmes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_providers')),
    sa.UniqueConstraint('programme_id', 'org_id', name='programme_provider')
    )
    with op.batch_alter_table('voucher_providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_providers_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voucher_providers_programme_id'), ['programme_id'], unique=False)

    op.create_table('vouchers',
    sa.Column('programme_id', sa.String(length=26), nullable=False),
    sa.Column('holder_org_id', sa.String(length=26), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('face_fen', sa.BigInteger(), nullable=False),
    sa.Column('balance_fen', sa.BigInteger(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('active', 'revoked', name='voucher_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('balance_fen >= 0 AND balance_fen <= face_fen', name=op.f('ck_vouchers_balance')),
    sa.ForeignKeyConstraint(['holder_org_id'], ['organisations.id'], name=op.f('fk_vouchers_holder_org_id_organisations')),
    sa.ForeignKeyConstraint(['programme_id'], ['voucher_programmes.id'], name=op.f('fk_vouchers_programme_id_voucher_programmes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vouchers')),
    sa.UniqueConstraint('number', name=op.f('uq_vouchers_number'))
    )
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vouchers_holder_org_id'), ['holder_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vouchers_programme_id'), ['programme_id'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('transaction_id', sa.String(length=26), nullable=False),
    sa.Column('programme_id', sa.String(length=26), nullable=False),
    sa.Column('account', sa.String(length=60), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.CheckConstraint('amount_fen <> 0', name=op.f('ck_ledger_entries_nonzero')),
    sa.ForeignKeyConstraint(['programme_id'], ['voucher_programmes.id'], name=op.f('fk_ledger_entries_programme_id_voucher_programmes')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_entries_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_programme_account', ['programme_id', 'account'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_transaction_id'), ['transaction_id'], unique=False)

    op.create_table('orders',
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('company_org_id', sa.String(length=26), nullable=False),
    sa.Column('lab_org_id', sa.String(length=26), nullable=False),
    sa.Column('institution_id', sa.String(length=26), nullable=False),
    sa.Column('listing_id', sa.String(length=26), nullable=True),
    sa.Column('request_id', sa.String(length=26), nullable=True),
    sa.Column('product', sa.String(length=300), nullable=False),
    sa.Column('standards', sa.JSON(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('needed_by', sa.Date(), nullable=True),
    sa.Column('sample_delivery', sa.String(length=20), nullable=False),
    sa.Column('sample_return', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'quoted', 'accepted', 'sample_received', 'testing', 'report_issued', 'completed', 'cancelled', 'disputed', name='order_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('tax_fen', sa.BigInteger(), nullable=True),
    sa.Column('quote_valid_until', sa.Date(), nullable=True),
    sa.Column('voucher_fen', sa.BigInteger(), nullable=False),
    sa.Column('report_number', sa.String(length=100), nullable=True),
    sa.Column('report_record_id', sa.String(length=26), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('review', sa.Text(), nullable=False),
    sa.Column('updated_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen IS NULL OR amount_fen >= 0', name=op.f('ck_orders_amount')),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name=op.f('ck_orders_rating')),
    sa.CheckConstraint('voucher_fen >= 0', name=op.f('ck_orders_voucher')),
    sa.ForeignKeyConstraint(['company_org_id'], ['organisations.id'], name=op.f('fk_orders_company_org_id_organisations')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_orders_institution_id_institutions')),
    sa.ForeignKeyConstraint(['lab_org_id'], ['organisations.id'], name=op.f('fk_orders_lab_org_id_organisations')),
    sa.ForeignKeyConstraint(['listing_id'], ['service_listings.id'], name=op.f('fk_orders_listing_id_service_listings')),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_orders_request_id_service_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_orders_number'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_company_updated', ['company_org_id', 'updated_at'], unique=False)
        batch_op.create_index('ix_orders_lab_status', ['lab_org_id', 'status', 'updated_at'], unique=False)
        batch_op.create_index('ix_orders_lab_updated', ['lab_org_id', 'updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_request_id'), ['request_id'], unique=False)

    op.create_table('voucher_applications',
    sa.Column('programme_id', sa.String(length=26), nullable=False),
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('requested_fen', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('district', sa.String(length=20), nullable=False),
    sa.Column('sector', sa.String(length=50), nullable=False),
    sa.Column('status', sa.Enum('applied', 'approved', 'rejected', name='application_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('voucher_id', sa.String(length=26), nullable=True),
    sa.Column('decided_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_voucher_applications_org_id_organisations')),
    sa.ForeignKeyConstraint(['programme_id'], ['voucher_programmes.id'], name=op.f('fk_voucher_applications_programme_id_voucher_programmes')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_voucher_applications_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_applications')),
    sa.UniqueConstraint('programme_id', 'org_id', name='one_application')
    )
    with op.batch_alter_table('voucher_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_applications_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voucher_applications_programme_id'), ['programme_id'], unique=False)

    op.create_table('voucher_redemptions',
    sa.Column('voucher_id', sa.String(length=26), nullable=False),
    sa.Column('provider_org_id', sa.String(length=26), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('transaction_id', sa.String(length=26), nullable=False),
    sa.Column('settled', sa.Boolean(), nullable=False),
    sa.Column('reversed', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_org_id'], ['organisations.id'], name=op.f('fk_voucher_redemptions_provider_org_id_organisations')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_voucher_redemptions_transaction_id_ledger_transactions')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_voucher_redemptions_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_redemptions')),
    sa.UniqueConstraint('voucher_id', 'reference', name='voucher_reference')
    )
    with op.batch_alter_table('voucher_redemptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_redemptions_provider_org_id'), ['provider_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voucher_redemptions_voucher_id'), ['voucher_id'], unique=False)

    op.create_table('order_events',
    sa.Column('order_id', sa.String(length=26), nullable=False),
    sa.Column('at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.String(length=26), nullable=True),
    sa.Column('actor_org_id', sa.String(length=26), nullable=True),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_events_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_events'))
    )
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_events_order_id'), ['order_id'], unique=False)
    _no_overlap()


HOLDING = "('requested', 'confirmed', 'completed', 'no_show')"


def _no_overlap() -> None:
    """Two active bookings of one instrument never overlap, however requests race."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist "
            f"(instrument_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
            f"WHERE (status IN {HOLDING})")
        return
    # SQLite has one writer at a time, so a check inside the insert is a serialised one.
    for event, extra in (("INSERT", ""), ("UPDATE OF instrument_id, starts_at, ends_at, status",
                                          "AND b.id <> NEW.id")):
        name = "bookings_no_overlap_" + event.split()[0].lower()
        op.execute(f"""
            CREATE TRIGGER {name} BEFORE {event} ON bookings
            WHEN NEW.status IN {HOLDING} AND EXISTS (
                SELECT 1 FROM bookings b
                WHERE b.instrument_id = NEW.instrument_id AND b.status IN {HOLDING}
                  AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at {extra})
            BEGIN
                SELECT RAISE(ABORT, 'bookings_no_overlap: the instrument is booked then');
            END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap")
    else:
        op.execute("DROP TRIGGER bookings_no_overlap_insert")
        op.execute("DROP TRIGGER bookings_no_overlap_update")
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_events_order_id'))

    op.drop_table('order_events')
    with op.batch_alter_table('voucher_redemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_redemptions_voucher_id'))
        batch_op.drop_index(batch_op.f('ix_voucher_redemptions_provider_org_id'))

    op.drop_table('voucher_redemptions')
    with op.batch_alter_table('voucher_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_applications_programme_id'))
        batch_op.drop_index(batch_op.f('ix_voucher_applications_org_id'))

    op.drop_table('voucher_applications')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_request_id'))
        batch_op.drop_index('ix_orders_lab_updated')
        batch_op.drop_index('ix_orders_lab_status')
        batch_op.drop_index('ix_orders_company_updated')

    op.drop_table('orders')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_transaction_id'))
        batch_op.drop_index('ix_ledger_entries_programme_account')

    op.drop_table('ledger_entries')
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vouchers_programme_id'))
        batch_op.drop_index(batch_op.f('ix_vouchers_holder_org_id'))

    op.drop_table('vouchers')
    with op.batch_alter_table('voucher_providers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_providers_programme_id'))
        batch_op.drop_index(batch_op.f('ix_voucher_providers_org_id'))

    op.drop_table('voucher_providers')
    with op.batch_alter_table('service_listings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_listings_org_id'))
        batch_op.drop_index(batch_op.f('ix_service_listings_institution_id'))

    op.drop_table('service_listings')
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_transactions_programme_id'))

    op.drop_table('ledger_transactions')
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultations_expert_id'))
        batch_op.drop_index(batch_op.f('ix_consultations_client_org_id'))

    op.drop_table('consultations')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_org_id'))
        batch_op.drop_index('ix_bookings_instrument_period')
        batch_op.drop_index(batch_op.f('ix_bookings_instrument_id'))

    op.drop_table('bookings')
    with op.batch_alter_table('voucher_programmes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_programmes_operator_org_id'))

    op.drop_table('voucher_programmes')
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_requests_company_org_id'))

    op.drop_table('service_requests')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_org_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_email_state'))
        batch_op.drop_index(batch_op.f('ix_notifications_at'))

    op.drop_table('notifications')
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instruments_org_id'))

    op.drop_table('instruments')
    with op.batch_alter_table('experts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experts_org_id'))

    op.drop_table('experts')
