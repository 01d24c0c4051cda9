"""Notifications: the message as an id with its parameters, shown in the reader's language.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode (see 0017): in place on both databases.
def upgrade() -> None:
    op.add_column('notifications', sa.Column('message', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.execute('ALTER TABLE notifications DROP COLUMN message')
