"""Shadow predictions: what a challenger said about the requests the champion answered.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

``shadow_predictions`` holds one row per served prediction and shadow model version, keyed by
the prediction's id (so the champion's answer, the challenger's and the label join on it); a
prediction deleted takes its shadow rows with it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table and its index by shadow version and time."""
    op.create_table(
        "shadow_predictions",
        sa.Column(
            "prediction_id",
            sa.String(64),
            sa.ForeignKey("predictions.id", ondelete="CASCADE", name="fk_shadow_prediction"),
            primary_key=True,
        ),
        sa.Column("model_version", sa.String(128), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("probabilities", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("prediction", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
    )
    op.create_index("ix_shadow_version", "shadow_predictions", ["model_version", "created_at"])


def downgrade() -> None:
    """Drop the table."""
    op.drop_index("ix_shadow_version", table_name="shadow_predictions")
    op.drop_table("shadow_predictions")
