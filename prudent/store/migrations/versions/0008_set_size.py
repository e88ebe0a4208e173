"""The size of each prediction's conformal set, stored, and in the monitor's windows index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

``predictions.set_size`` is the number of labels in ``prediction_set``, written with every row;
rows logged before this revision get it here. ``ix_predictions_windows`` gains it as its last
column, so on SQLite the monitor's per-window sums read the index alone, never the rows (the
set itself stays out: a PostgreSQL B-tree entry must stay under ~2.7 kB).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_BEFORE = ("model_version", "hour", "prediction", "created_at", "decision", "is_ood", "confidence")
_LENGTH = {"sqlite": "json_array_length", "postgresql": "jsonb_array_length"}


def upgrade() -> None:
    """Add and fill ``set_size``; rebuild the windows index with it."""
    op.add_column("predictions", sa.Column("set_size", sa.Integer(), nullable=True))
    length = _LENGTH[op.get_bind().dialect.name]
    op.execute(f"UPDATE predictions SET set_size = {length}(prediction_set)")
    op.drop_index("ix_predictions_windows", table_name="predictions")
    op.create_index("ix_predictions_windows", "predictions", [*_BEFORE, "set_size"])


def downgrade() -> None:
    """Rebuild the index without ``set_size`` and drop it (batch mode on SQLite)."""
    op.drop_index("ix_predictions_windows", table_name="predictions")
    op.create_index("ix_predictions_windows", "predictions", list(_BEFORE))
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("set_size")
