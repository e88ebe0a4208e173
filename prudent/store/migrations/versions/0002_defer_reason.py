"""The typed reason of a review: ``predictions.defer_reason``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Rows logged before this revision keep ``NULL`` (their reason is in the free-text ``reason``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable ``defer_reason`` column (SQLite and PostgreSQL add it in place)."""
    op.add_column("predictions", sa.Column("defer_reason", sa.String(32), nullable=True))


def downgrade() -> None:
    """Drop ``defer_reason`` (batch mode: SQLite rebuilds the table)."""
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("defer_reason")
