"""The review queue's policy and leases: reason, priority, status, audit, lease expiry.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

Cases queued before this revision get priority 0, their prediction's defer reason, status
``labeled`` when closed (``open`` or ``claimed`` otherwise) and a claim without expiry.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_COLUMNS = ("reason", "priority", "status", "audit", "lease_expires_at")


def upgrade() -> None:
    """Add the columns and the serving index, and fill them for existing cases."""
    timestamp = sa.DateTime(timezone=True)
    op.add_column("review_cases", sa.Column("reason", sa.String(32), nullable=True))
    op.add_column(
        "review_cases", sa.Column("priority", sa.Float(), nullable=False, server_default="0")
    )
    op.add_column(
        "review_cases", sa.Column("status", sa.String(16), nullable=False, server_default="open")
    )
    op.add_column(
        "review_cases",
        sa.Column("audit", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("review_cases", sa.Column("lease_expires_at", timestamp, nullable=True))
    op.create_index("ix_review_next", "review_cases", ["closed_at", "priority", "created_at"])
    op.execute(
        "UPDATE review_cases SET reason = (SELECT p.defer_reason FROM predictions p "
        "WHERE p.id = review_cases.prediction_id)"
    )
    op.execute(
        "UPDATE review_cases SET status = CASE WHEN closed_at IS NOT NULL THEN 'labeled' "
        "WHEN claimed_by IS NOT NULL THEN 'claimed' ELSE 'open' END"
    )


def downgrade() -> None:
    """Drop the index and the columns (batch mode: SQLite rebuilds the table)."""
    op.drop_index("ix_review_next", table_name="review_cases")
    with op.batch_alter_table("review_cases") as batch:
        for name in _COLUMNS:
            batch.drop_column(name)
