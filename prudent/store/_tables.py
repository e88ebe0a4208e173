"""The tables of the prediction log, as SQLAlchemy Core metadata.

This is the schema the code expects; the Alembic migrations under ``migrations/versions`` build
it, and a test checks that the migrated database and this metadata agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

from prudent.store._records import as_utc

__all__ = [
    "VERSION_TABLE",
    "WINDOW_INDEX_COLUMNS",
    "UTCDateTime",
    "alert_states",
    "feedback",
    "hour_of",
    "leases",
    "metadata",
    "predictions",
    "review_cases",
    "shadow_predictions",
]

VERSION_TABLE = "prudent_store_version"
"""The table where Alembic records the schema revision."""


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no time zones: the UTC wall time is stored and UTC is attached on reading.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC (naive UTC for SQLite)."""
        if value is None:
            return None
        value = as_utc(value, "timestamp")
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
IdType = sa.String(64)
NameType = sa.String(128)
AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

WINDOW_INDEX_COLUMNS = ("model_version", "hour", "prediction", "created_at", "decision", "is_ood",
                        "confidence", "set_size")  # fmt: skip
"""The columns of ``ix_predictions_windows``: what the monitor's per-window sums read, in the
order it groups them (a model version's hours, then the predicted class), so they are summed
in index order with no sort, and in time order within a group (the order of the float sums,
as before the index). The conformal set is there as its size (the set itself may not fit a
PostgreSQL B-tree entry, ~2.7 kB at most), so on SQLite the sums read the index alone."""

metadata = sa.MetaData()


def hour_of(created_at: datetime) -> int:
    """Return the ``hour`` stored with a prediction: whole hours since 1970-01-01 UTC.

    The monitor's hour and day windows group by it (a day is ``hour // 24``), reading an index
    in order instead of cutting every row's timestamp.

    Parameters
    ----------
    created_at
        When the prediction was made (timezone-aware).

    Returns
    -------
    int
        The hour it falls in.

    Examples
    --------
    >>> hour_of(datetime(1970, 1, 2, 1, 59, tzinfo=UTC))
    25
    """
    return int(as_utc(created_at, "timestamp").timestamp() // 3600)


predictions = sa.Table(
    "predictions",
    metadata,
    sa.Column("id", IdType, primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("model_version", NameType, nullable=False),
    sa.Column("model_name", sa.String(256), nullable=False),
    sa.Column("inputs", JSONType, nullable=False),
    sa.Column("probabilities", JSONType, nullable=False),
    sa.Column("prediction", sa.Text(), nullable=True),
    sa.Column("confidence", sa.Float(), nullable=True),
    sa.Column("ood_score", sa.Float(), nullable=True),
    sa.Column("is_ood", sa.Boolean(), nullable=False),
    sa.Column("prediction_set", JSONType, nullable=False),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("defer_reason", sa.String(32), nullable=True),
    sa.Column("unknown_values", sa.Text(), nullable=True),
    sa.Column("latency_ms", sa.Float(), nullable=True),
    sa.Column("hour", sa.Integer(), nullable=True),
    sa.Column("set_size", sa.Integer(), nullable=True),
    sa.Index("ix_predictions_created_at", "created_at", "id"),
    sa.Index("ix_predictions_model_version", "model_version", "created_at"),
    sa.Index("ix_predictions_windows", *WINDOW_INDEX_COLUMNS),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", AutoId, primary_key=True, autoincrement=True),
    sa.Column(
        "prediction_id",
        IdType,
        sa.ForeignKey("predictions.id", ondelete="CASCADE", name="fk_feedback_prediction"),
        nullable=False,
    ),
    sa.Column("label", sa.Text(), nullable=False),
    sa.Column("source", NameType, nullable=False),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Index("ix_feedback_prediction", "prediction_id", "id"),
)

review_cases = sa.Table(
    "review_cases",
    metadata,
    sa.Column(
        "prediction_id",
        IdType,
        sa.ForeignKey("predictions.id", ondelete="CASCADE", name="fk_review_prediction"),
        primary_key=True,
    ),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("claimed_by", NameType, nullable=True),
    sa.Column("claimed_at", UTCDateTime(), nullable=True),
    sa.Column("closed_by", NameType, nullable=True),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    sa.Column("reason", sa.String(32), nullable=True),
    sa.Column("priority", sa.Float(), nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    sa.Column("audit", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
    sa.Index("ix_review_open", "closed_at", "created_at"),
    sa.Index("ix_review_next", "closed_at", "priority", "created_at"),
)

alert_states = sa.Table(
    "alert_states",
    metadata,
    sa.Column("rule", NameType, primary_key=True),
    sa.Column("labels_key", sa.String(512), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("record", JSONType, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", NameType, primary_key=True),
    sa.Column("holder", sa.String(256), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)

shadow_predictions = sa.Table(
    "shadow_predictions",
    metadata,
    sa.Column(
        "prediction_id",
        IdType,
        sa.ForeignKey("predictions.id", ondelete="CASCADE", name="fk_shadow_prediction"),
        primary_key=True,
    ),
    sa.Column("model_version", NameType, primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("probabilities", JSONType, nullable=False),
    sa.Column("prediction", sa.Text(), nullable=True),
    sa.Column("confidence", sa.Float(), nullable=True),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("latency_ms", sa.Float(), nullable=True),
    sa.Index("ix_shadow_version", "model_version", "created_at"),
)
