"""status map

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('status_buckets',
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', name=op.f('pk_status_buckets'))
    )
    op.create_table('status_tiles',
    sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('tile_index', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('level', 'tile_index', name=op.f('pk_status_tiles'))
    )
    # A log with records from before the map: map them now, so that the next checkpoint's
    # root covers every document, not just those registered after this upgrade.
    from sqlalchemy.orm import Session

    from tichub.reports.service import rebuild_status_map

    with Session(bind=op.get_bind()) as session:
        if session.execute(sa.text("SELECT 1 FROM report_records WHERE log_index IS NOT NULL "
                                   "LIMIT 1")).first():
            rebuild_status_map(session)
            session.flush()


def downgrade() -> None:
    op.drop_table('status_tiles')
    op.drop_table('status_buckets')
