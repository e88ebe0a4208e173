"""The hour of each prediction, stored, and the index the monitor's windows read.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

``predictions.hour`` is whole hours since 1970-01-01 UTC (``store.hour_of``), written with every
row; rows logged before this revision get it here, computed from ``created_at``.
``ix_predictions_windows`` orders a model version's rows by hour and predicted class, so the
monitor's hour and day windows are summed from an index read in order, not from every row's
timestamp cut and sorted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COLUMNS = ("model_version", "hour", "prediction", "created_at", "decision", "is_ood", "confidence")
_BACKFILL = {
    "sqlite": "CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) / 3600",  # no rounding up
    "postgresql": "CAST(floor(extract(epoch FROM created_at) / 3600) AS INTEGER)",
}


def upgrade() -> None:
    """Add the nullable ``hour`` column, fill it for the rows already logged, and index it."""
    op.add_column("predictions", sa.Column("hour", sa.Integer(), nullable=True))
    op.execute(f"UPDATE predictions SET hour = {_BACKFILL[op.get_bind().dialect.name]}")
    op.create_index("ix_predictions_windows", "predictions", list(_COLUMNS))


def downgrade() -> None:
    """Drop the index and ``hour`` (batch mode: SQLite rebuilds the table)."""
    op.drop_index("ix_predictions_windows", table_name="predictions")
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("hour")
