"""The inputs a prediction had never seen in training: ``predictions.unknown_values``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

The input columns holding a value the training rows never held, comma-separated. Rows logged
before this revision keep ``NULL``, as do rows with no such value.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable ``unknown_values`` column (SQLite and PostgreSQL add it in place)."""
    op.add_column("predictions", sa.Column("unknown_values", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop ``unknown_values`` (batch mode: SQLite rebuilds the table)."""
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("unknown_values")
