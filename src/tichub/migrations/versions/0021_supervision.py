"""Supervision (issue 15): the equipment and staff registers, standard editions, report
evidence, and the supervision domain's tables (signals, complaints, credit scores,
inspections, sanctions, qualification applications).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 17:30:30.495742
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tichub.core.db

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('standard_editions',
    sa.Column('std_key', sa.String(length=80), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('implemented_on', sa.Date(), nullable=True),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('replaced_by', sa.String(length=100), nullable=True),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_editions')),
    sa.UniqueConstraint('std_key', 'year', name='edition')
    )
    with op.batch_alter_table('standard_editions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standard_editions_std_key'), ['std_key'], unique=False)

    op.create_table('supervision_signal_runs',
    sa.Column('started_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('records', sa.BigInteger(), nullable=False),
    sa.Column('raised', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_signal_runs'))
    )
    op.create_table('supervision_bureaus',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('district', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_supervision_bureaus_org_id_organisations')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_supervision_bureaus')),
    sa.UniqueConstraint('district', name=op.f('uq_supervision_bureaus_district'))
    )
    op.create_table('supervision_inspection_plans',
    sa.Column('bureau_org_id', sa.String(length=26), nullable=False),
    sa.Column('district', sa.String(length=20), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('tier_shares', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'frozen', 'drawn', 'completed', 'published', name='inspection_plan_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('frozen', sa.JSON(), nullable=True),
    sa.Column('frozen_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=True),
    sa.Column('seed_size', sa.BigInteger(), nullable=True),
    sa.Column('seed_root', sa.String(length=64), nullable=True),
    sa.Column('picks', sa.JSON(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('published_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bureau_org_id'], ['organisations.id'], name=op.f('fk_supervision_inspection_plans_bureau_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_inspection_plans'))
    )
    with op.batch_alter_table('supervision_inspection_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_inspection_plans_bureau_org_id'), ['bureau_org_id'], unique=False)

    op.create_table('supervision_inspectors',
    sa.Column('bureau_org_id', sa.String(length=26), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('user_id', sa.String(length=26), nullable=True),
    sa.Column('conflicts', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bureau_org_id'], ['organisations.id'], name=op.f('fk_supervision_inspectors_bureau_org_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_supervision_inspectors_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_inspectors'))
    )
    with op.batch_alter_table('supervision_inspectors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_inspectors_bureau_org_id'), ['bureau_org_id'], unique=False)

    op.create_table('staff',
    sa.Column('institution_id', sa.String(length=26), nullable=False),
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('staff_no', sa.String(length=60), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('authorised_for', sa.JSON(), nullable=False),
    sa.Column('employed_from', sa.Date(), nullable=False),
    sa.Column('employed_until', sa.Date(), nullable=True),
    sa.Column('authorised_from', sa.Date(), nullable=True),
    sa.Column('authorised_until', sa.Date(), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_staff_institution_id_institutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_staff_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('institution_id', 'staff_no', name='staff_no')
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_org_id'), ['org_id'], unique=False)

    op.create_table('supervision_complaints',
    sa.Column('tracking_code', sa.String(length=20), nullable=False),
    sa.Column('about_number', sa.String(length=100), nullable=True),
    sa.Column('institution_id', sa.String(length=26), nullable=True),
    sa.Column('district', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('contact_name', sa.String(length=100), nullable=False),
    sa.Column('contact', sa.String(length=254), nullable=False),
    sa.Column('user_id', sa.String(length=26), nullable=True),
    sa.Column('status', sa.Enum('received', 'investigating', 'upheld', 'rejected', name='complaint_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('updated_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_supervision_complaints_institution_id_institutions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_supervision_complaints_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_complaints')),
    sa.UniqueConstraint('tracking_code', name=op.f('uq_supervision_complaints_tracking_code'))
    )
    with op.batch_alter_table('supervision_complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_complaints_district'), ['district'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_complaints_institution_id'), ['institution_id'], unique=False)

    op.create_table('supervision_credit_scores',
    sa.Column('institution_id', sa.String(length=26), nullable=False),
    sa.Column('computed_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('trigger', sa.String(length=12), nullable=False),
    sa.Column('rule_version', sa.String(length=20), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('tier', sa.String(length=1), nullable=False),
    sa.Column('contributions', sa.JSON(), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_supervision_credit_scores_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_credit_scores'))
    )
    with op.batch_alter_table('supervision_credit_scores', schema=None) as batch_op:
        batch_op.create_index('ix_supervision_credit_scores_institution', ['institution_id', 'computed_at'], unique=False)

    op.create_table('supervision_files',
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('institution_id', sa.String(length=26), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=26), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_supervision_files_institution_id_institutions')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_supervision_files_org_id_organisations')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_supervision_files_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_files'))
    )
    with op.batch_alter_table('supervision_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_files_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_files_org_id'), ['org_id'], unique=False)

    op.create_table('supervision_inspections',
    sa.Column('plan_id', sa.String(length=26), nullable=True),
    sa.Column('institution_id', sa.String(length=26), nullable=False),
    sa.Column('bureau_org_id', sa.String(length=26), nullable=False),
    sa.Column('inspector_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'done', name='inspection_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bureau_org_id'], ['organisations.id'], name=op.f('fk_supervision_inspections_bureau_org_id_organisations')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_supervision_inspections_institution_id_institutions')),
    sa.ForeignKeyConstraint(['plan_id'], ['supervision_inspection_plans.id'], name=op.f('fk_supervision_inspections_plan_id_supervision_inspection_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_inspections'))
    )
    with op.batch_alter_table('supervision_inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_inspections_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_inspections_plan_id'), ['plan_id'], unique=False)

    op.create_table('instrument_events',
    sa.Column('instrument_id', sa.String(length=26), nullable=False),
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.Enum('calibration', 'verification', 'out_of_service', name='instrument_event_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('certificate_no', sa.String(length=100), nullable=False),
    sa.Column('performed_by', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_instrument_events_instrument_id_instruments')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_instrument_events_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_events'))
    )
    with op.batch_alter_table('instrument_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instrument_events_instrument_id'), ['instrument_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_instrument_events_org_id'), ['org_id'], unique=False)

    op.create_table('report_evidence_items',
    sa.Column('record_id', sa.String(length=26), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('institution_id', sa.String(length=26), nullable=False),
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('parameter', sa.String(length=300), nullable=False),
    sa.Column('standard', sa.String(length=100), nullable=True),
    sa.Column('instrument_id', sa.String(length=26), nullable=True),
    sa.Column('instrument_ref', sa.String(length=60), nullable=False),
    sa.Column('tester_id', sa.String(length=26), nullable=True),
    sa.Column('tester_ref', sa.String(length=100), nullable=False),
    sa.Column('started_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['report_records.id'], name=op.f('fk_report_evidence_items_record_id_report_records')),
    sa.PrimaryKeyConstraint('record_id', 'seq', name=op.f('pk_report_evidence_items'))
    )
    with op.batch_alter_table('report_evidence_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_evidence_items_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index('ix_report_evidence_items_instrument', ['instrument_id', 'started_at'], unique=False)
        batch_op.create_index('ix_report_evidence_items_tester', ['tester_id', 'started_at'], unique=False)

    op.create_table('report_evidence_results',
    sa.Column('record_id', sa.String(length=26), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('institution_id', sa.String(length=26), nullable=False),
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('parameter', sa.String(length=300), nullable=False),
    sa.Column('value_text', sa.String(length=60), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['report_records.id'], name=op.f('fk_report_evidence_results_record_id_report_records')),
    sa.PrimaryKeyConstraint('record_id', 'seq', name=op.f('pk_report_evidence_results'))
    )
    with op.batch_alter_table('report_evidence_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_evidence_results_institution_id'), ['institution_id'], unique=False)

    op.create_table('report_evidence_samplings',
    sa.Column('record_id', sa.String(length=26), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('institution_id', sa.String(length=26), nullable=False),
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('what', sa.String(length=200), nullable=False),
    sa.Column('sampler_id', sa.String(length=26), nullable=True),
    sa.Column('sampler_ref', sa.String(length=100), nullable=False),
    sa.Column('district', sa.String(length=20), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['report_records.id'], name=op.f('fk_report_evidence_samplings_record_id_report_records')),
    sa.PrimaryKeyConstraint('record_id', 'seq', name=op.f('pk_report_evidence_samplings'))
    )
    with op.batch_alter_table('report_evidence_samplings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_evidence_samplings_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index('ix_report_evidence_samplings_sampler', ['sampler_id', 'at'], unique=False)

    op.create_table('supervision_credit_appeals',
    sa.Column('score_id', sa.String(length=26), nullable=False),
    sa.Column('institution_id', sa.String(length=26), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('open', 'upheld', 'rejected', name='appeal_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('decided_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_supervision_credit_appeals_institution_id_institutions')),
    sa.ForeignKeyConstraint(['score_id'], ['supervision_credit_scores.id'], name=op.f('fk_supervision_credit_appeals_score_id_supervision_credit_scores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_credit_appeals'))
    )
    with op.batch_alter_table('supervision_credit_appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_credit_appeals_institution_id'), ['institution_id'], unique=False)

    op.create_table('supervision_findings',
    sa.Column('inspection_id', sa.String(length=26), nullable=False),
    sa.Column('item', sa.String(length=100), nullable=False),
    sa.Column('outcome', sa.Enum('compliant', 'minor', 'serious', name='finding_outcome', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['supervision_inspections.id'], name=op.f('fk_supervision_findings_inspection_id_supervision_inspections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_findings'))
    )
    with op.batch_alter_table('supervision_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_findings_inspection_id'), ['inspection_id'], unique=False)

    op.create_table('supervision_qualification_applications',
    sa.Column('institution_id', sa.String(length=26), nullable=False),
    sa.Column('route', sa.Enum('commitment', 'general', name='application_route', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('kind', sa.Enum('first', 'renewal', 'added_parameters', 'site_change', name='application_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('commitment', sa.Text(), nullable=False),
    sa.Column('signed_by', sa.String(length=26), nullable=True),
    sa.Column('signed_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.Enum('submitted', 'provisional', 'verified', 'failed', 'approved', 'rejected', name='application_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('qualification_id', sa.String(length=26), nullable=True),
    sa.Column('check_due', sa.Date(), nullable=True),
    sa.Column('checked_on', sa.Date(), nullable=True),
    sa.Column('check_note', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=26), nullable=True),
    sa.Column('reminded_on', sa.Date(), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_supervision_qualification_applications_decided_by_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_supervision_qualification_applications_institution_id_institutions')),
    sa.ForeignKeyConstraint(['qualification_id'], ['qualifications.id'], name=op.f('fk_supervision_qualification_applications_qualification_id_qualifications')),
    sa.ForeignKeyConstraint(['signed_by'], ['users.id'], name=op.f('fk_supervision_qualification_applications_signed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_qualification_applications'))
    )
    with op.batch_alter_table('supervision_qualification_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_qualification_applications_institution_id'), ['institution_id'], unique=False)

    op.create_table('supervision_sanctions',
    sa.Column('institution_id', sa.String(length=26), nullable=False),
    sa.Column('bureau_org_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.Enum('warning', 'correction', 'fine', 'suspension', 'revocation', 'dishonesty_list', name='sanction_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('decision_no', sa.String(length=60), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('corrected_on', sa.Date(), nullable=True),
    sa.Column('fine_fen', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('basis', sa.String(length=60), nullable=False),
    sa.Column('inspection_id', sa.String(length=26), nullable=True),
    sa.Column('signal_ids', sa.JSON(), nullable=False),
    sa.Column('false_numbers', sa.JSON(), nullable=False),
    sa.Column('key_field', sa.Boolean(), nullable=False),
    sa.Column('lifted_on', sa.Date(), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bureau_org_id'], ['organisations.id'], name=op.f('fk_supervision_sanctions_bureau_org_id_organisations')),
    sa.ForeignKeyConstraint(['inspection_id'], ['supervision_inspections.id'], name=op.f('fk_supervision_sanctions_inspection_id_supervision_inspections')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_supervision_sanctions_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_sanctions'))
    )
    with op.batch_alter_table('supervision_sanctions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_sanctions_institution_id'), ['institution_id'], unique=False)

    op.create_table('supervision_signals',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('severity', sa.Enum('low', 'medium', 'high', 'critical', name='signal_severity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('institution_id', sa.String(length=26), nullable=False),
    sa.Column('org_id', sa.String(length=26), nullable=False),
    sa.Column('district', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.String(length=26), nullable=True),
    sa.Column('number', sa.String(length=100), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('status', sa.Enum('open', 'under_review', 'confirmed', 'dismissed', name='signal_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=26), nullable=True),
    sa.Column('decided_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('asked_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('asked_by', sa.String(length=26), nullable=True),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answer_files', sa.JSON(), nullable=False),
    sa.Column('answered_at', tichub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', tichub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asked_by'], ['users.id'], name=op.f('fk_supervision_signals_asked_by_users')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_supervision_signals_decided_by_users')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_supervision_signals_institution_id_institutions')),
    sa.ForeignKeyConstraint(['record_id'], ['report_records.id'], name=op.f('fk_supervision_signals_record_id_report_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_signals')),
    sa.UniqueConstraint('code', 'subject', name='subject')
    )
    with op.batch_alter_table('supervision_signals', schema=None) as batch_op:
        batch_op.create_index('ix_supervision_signals_district_status', ['district', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_signals_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index('ix_supervision_signals_institution_status', ['institution_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_signals_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_signals_record_id'), ['record_id'], unique=False)

    # In place, not batch mode: on SQLite a batch copies the table, which the tables
    # referencing these refuse once they hold rows (see 0017).
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        # Alembic will not add a constraint on SQLite; SQLite itself takes an inline one. A
        # downgrade on SQLite leaves the column (see there): it is reused, not added twice.
        have = {c['name'] for c in sa.inspect(bind).get_columns('instruments')}
        if 'institution_id' not in have:
            op.execute('ALTER TABLE instruments ADD COLUMN institution_id VARCHAR(26) '
                       'CONSTRAINT fk_instruments_institution_id_institutions '
                       'REFERENCES institutions (id)')
    else:
        op.add_column('instruments', sa.Column('institution_id', sa.String(length=26),
                                               nullable=True))
        op.create_foreign_key('fk_instruments_institution_id_institutions', 'instruments',
                              'institutions', ['institution_id'], ['id'])
    op.add_column('instruments', sa.Column('asset_no', sa.String(length=60), nullable=True))
    op.add_column('instruments', sa.Column('shared', sa.Boolean(), server_default='1',
                                           nullable=False))
    op.add_column('instruments', sa.Column('tests_per_day', sa.Integer(), nullable=True))
    op.add_column('instruments', sa.Column('hours_per_test', sa.Float(), nullable=True))
    op.create_index('ix_instruments_asset_no', 'instruments', ['org_id', 'asset_no'],
                    unique=True)
    op.create_index('ix_instruments_institution_id', 'instruments', ['institution_id'])
    op.add_column('qualifications', sa.Column('on_commitment', sa.Boolean(),
                                              server_default='0', nullable=False))

    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_index('ix_instruments_institution_id', 'instruments')
    op.drop_index('ix_instruments_asset_no', 'instruments')
    for table, column in (('qualifications', 'on_commitment'), ('instruments', 'hours_per_test'),
                          ('instruments', 'tests_per_day'), ('instruments', 'shared'),
                          ('instruments', 'asset_no')):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite will not drop a column that references another table; a column no code
        # reads is left behind there.
        pass
    else:
        op.drop_constraint('fk_instruments_institution_id_institutions', 'instruments',
                           type_='foreignkey')
        op.execute('ALTER TABLE instruments DROP COLUMN institution_id')

    with op.batch_alter_table('supervision_signals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_signals_record_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_signals_org_id'))
        batch_op.drop_index('ix_supervision_signals_institution_status')
        batch_op.drop_index(batch_op.f('ix_supervision_signals_institution_id'))
        batch_op.drop_index('ix_supervision_signals_district_status')

    op.drop_table('supervision_signals')
    with op.batch_alter_table('supervision_sanctions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_sanctions_institution_id'))

    op.drop_table('supervision_sanctions')
    with op.batch_alter_table('supervision_qualification_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_qualification_applications_institution_id'))

    op.drop_table('supervision_qualification_applications')
    with op.batch_alter_table('supervision_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_findings_inspection_id'))

    op.drop_table('supervision_findings')
    with op.batch_alter_table('supervision_credit_appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_credit_appeals_institution_id'))

    op.drop_table('supervision_credit_appeals')
    with op.batch_alter_table('report_evidence_samplings', schema=None) as batch_op:
        batch_op.drop_index('ix_report_evidence_samplings_sampler')
        batch_op.drop_index(batch_op.f('ix_report_evidence_samplings_institution_id'))

    op.drop_table('report_evidence_samplings')
    with op.batch_alter_table('report_evidence_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_evidence_results_institution_id'))

    op.drop_table('report_evidence_results')
    with op.batch_alter_table('report_evidence_items', schema=None) as batch_op:
        batch_op.drop_index('ix_report_evidence_items_tester')
        batch_op.drop_index('ix_report_evidence_items_instrument')
        batch_op.drop_index(batch_op.f('ix_report_evidence_items_institution_id'))

    op.drop_table('report_evidence_items')
    with op.batch_alter_table('instrument_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instrument_events_org_id'))
        batch_op.drop_index(batch_op.f('ix_instrument_events_instrument_id'))

    op.drop_table('instrument_events')
    with op.batch_alter_table('supervision_inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_inspections_plan_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_inspections_institution_id'))

    op.drop_table('supervision_inspections')
    with op.batch_alter_table('supervision_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_files_org_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_files_institution_id'))

    op.drop_table('supervision_files')
    with op.batch_alter_table('supervision_credit_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_credit_scores_institution')

    op.drop_table('supervision_credit_scores')
    with op.batch_alter_table('supervision_complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_complaints_institution_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_complaints_district'))

    op.drop_table('supervision_complaints')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_org_id'))
        batch_op.drop_index(batch_op.f('ix_staff_institution_id'))

    op.drop_table('staff')
    with op.batch_alter_table('supervision_inspectors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_inspectors_bureau_org_id'))

    op.drop_table('supervision_inspectors')
    with op.batch_alter_table('supervision_inspection_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_inspection_plans_bureau_org_id'))

    op.drop_table('supervision_inspection_plans')
    op.drop_table('supervision_bureaus')
    op.drop_table('supervision_signal_runs')
    with op.batch_alter_table('standard_editions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standard_editions_std_key'))

    op.drop_table('standard_editions')
    # ### end Alembic commands ###
