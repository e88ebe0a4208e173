"""Alert states and leases: what the monitor's rules last said, and who evaluates them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

``alert_states`` holds one row per rule and label set (firing, pending, resolved…, with the
incident's record as JSON), so one incident is one notification whichever replica evaluates;
``leases`` holds named leases (``monitor``: the one evaluator across replicas).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the two tables."""
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "alert_states",
        sa.Column("rule", sa.String(128), primary_key=True),
        sa.Column("labels_key", sa.String(512), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("record", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("updated_at", timestamp, nullable=False),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("holder", sa.String(256), nullable=False),
        sa.Column("expires_at", timestamp, nullable=False),
    )


def downgrade() -> None:
    """Drop the two tables."""
    op.drop_table("leases")
    op.drop_table("alert_states")
