"""Initial schema: predictions, feedback and review cases.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_ID = sa.String(64)
_NAME = sa.String(128)
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the three tables and their indexes."""
    op.create_table(
        "predictions",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("model_version", _NAME, nullable=False),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("inputs", _JSON, nullable=False),
        sa.Column("probabilities", _JSON, nullable=False),
        sa.Column("prediction", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("ood_score", sa.Float(), nullable=True),
        sa.Column("is_ood", sa.Boolean(), nullable=False),
        sa.Column("prediction_set", _JSON, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
    )
    op.create_index("ix_predictions_created_at", "predictions", ["created_at", "id"])
    op.create_index("ix_predictions_model_version", "predictions", ["model_version", "created_at"])
    op.create_table(
        "feedback",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("prediction_id", _ID, nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("source", _NAME, nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["prediction_id"], ["predictions.id"], name="fk_feedback_prediction", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_feedback_prediction", "feedback", ["prediction_id", "id"])
    op.create_table(
        "review_cases",
        sa.Column("prediction_id", _ID, primary_key=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("claimed_by", _NAME, nullable=True),
        sa.Column("claimed_at", _TIME, nullable=True),
        sa.Column("closed_by", _NAME, nullable=True),
        sa.Column("closed_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["prediction_id"], ["predictions.id"], name="fk_review_prediction", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_review_open", "review_cases", ["closed_at", "created_at"])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("review_cases")
    op.drop_table("feedback")
    op.drop_table("predictions")
