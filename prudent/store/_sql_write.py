"""Statements that change the log: idempotent inserts, labels, claims. Each runs in one transaction.

The prediction's row is locked first (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the
whole write runs under ``BEGIN IMMEDIATE``), so concurrent labels for one prediction serialise.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from prudent.store._records import FeedbackResult, FeedbackStatus, PredictionRecord, ReviewCase
from prudent.store._rules import (
    check_claim,
    check_may_label,
    check_release,
    feedback_status,
    not_in_queue_error,
)
from prudent.store._sql_read import fetch_prediction, record_from_row
from prudent.store._tables import feedback, predictions, review_cases

__all__ = ["claim_case", "insert_rows", "record_label", "release_case", "row_of"]

_R = review_cases.c


_JSON_COLUMNS = ("inputs", "probabilities", "prediction_set")
_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def row_of(record: PredictionRecord) -> dict[str, Any]:
    """Return the insert parameters of a record, its JSON already text.

    Serialising here, in the caller's thread, keeps the single writer thread to the insert
    and the commit.
    """
    return {
        "id": record.id,
        "created_at": record.created_at,
        "model_version": record.model_version,
        "model_name": record.model_name,
        "inputs_json": _dumps(record.inputs),
        "probabilities_json": _dumps(record.probabilities),
        "prediction": record.prediction,
        "confidence": record.confidence,
        "ood_score": record.ood_score,
        "is_ood": record.is_ood,
        "prediction_set_json": _dumps(list(record.prediction_set)),
        "decision": record.decision.value,
        "reason": record.reason,
        "defer_reason": None if record.defer_reason is None else record.defer_reason.value,
        "latency_ms": record.latency_ms,
    }


def _json_text(name: str, dialect: str) -> sa.ColumnElement[Any]:
    param = sa.bindparam(f"{name}_json", type_=sa.Text())
    return sa.cast(param, postgresql.JSONB) if dialect == "postgresql" else param


@cache
def _inserts(dialect: str) -> tuple[Any, Any]:
    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    json_values = {name: _json_text(name, dialect) for name in _JSON_COLUMNS}
    return (
        insert(predictions).values(json_values).on_conflict_do_nothing(index_elements=["id"]),
        insert(review_cases).on_conflict_do_nothing(index_elements=["prediction_id"]),
    )


def insert_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert prediction rows, skipping ids already logged, and queue the ``review`` ones."""
    insert_predictions, insert_cases = _inserts(connection.dialect.name)
    connection.execute(insert_predictions, rows)
    cases = [
        {"prediction_id": row["id"], "created_at": row["created_at"]}
        for row in rows
        if row["decision"] == "review"
    ]
    if cases:
        connection.execute(insert_cases, cases)


def _case(connection: Connection, prediction_id: str) -> Any:
    query = sa.select(review_cases).where(_R.prediction_id == prediction_id).with_for_update()
    return connection.execute(query).first()


def record_label(
    connection: Connection, prediction_id: str, label: str, source: str, received_at: datetime
) -> FeedbackResult:
    """Store a label unless it equals the current one; close the prediction's open case."""
    fetch_prediction(connection, prediction_id, lock=True)
    case = _case(connection, prediction_id)
    is_open = case is not None and case.closed_at is None
    if is_open:
        check_may_label(prediction_id, case.claimed_by, source)
    f = feedback.c
    latest = connection.execute(
        sa.select(f.label, f.received_at)
        .where(f.prediction_id == prediction_id)
        .order_by(f.id.desc())
        .limit(1)
    ).first()
    previous = None if latest is None else latest.label
    status = feedback_status(previous, label)
    result = FeedbackResult(
        prediction_id=prediction_id,
        label=label,
        status=status,
        source=source,
        received_at=received_at if latest is None or previous != label else latest.received_at,
        previous_label=previous,
    )
    if status is FeedbackStatus.DUPLICATE:
        return result
    connection.execute(
        sa.insert(feedback).values(
            prediction_id=prediction_id, label=label, source=source, received_at=received_at
        )
    )
    if is_open:
        connection.execute(
            sa.update(review_cases)
            .where(_R.prediction_id == prediction_id)
            .values(closed_by=source, closed_at=received_at)
        )
    return result


def _open_case(connection: Connection, prediction_id: str) -> tuple[Any, Any]:
    row = fetch_prediction(connection, prediction_id)
    case = _case(connection, prediction_id)
    if case is None or case.closed_at is not None:
        raise not_in_queue_error(prediction_id, row.decision, labelled=case is not None)
    return row, case


def claim_case(
    connection: Connection, prediction_id: str, reviewer: str, now: datetime
) -> ReviewCase:
    """Give an open case to ``reviewer`` (again, if they already hold it)."""
    row, case = _open_case(connection, prediction_id)
    check_claim(prediction_id, case.claimed_by, reviewer)
    claimed_at = case.claimed_at
    if case.claimed_by != reviewer:
        claimed_at = now
        connection.execute(
            sa.update(review_cases)
            .where(_R.prediction_id == prediction_id)
            .values(claimed_by=reviewer, claimed_at=now)
        )
    return ReviewCase(record=record_from_row(row), claimed_by=reviewer, claimed_at=claimed_at)


def release_case(connection: Connection, prediction_id: str, reviewer: str, force: bool) -> None:
    """Take an open case back from its reviewer; a case unheld or closed is left as it is."""
    row = fetch_prediction(connection, prediction_id)
    case = _case(connection, prediction_id)
    if case is None:
        raise not_in_queue_error(prediction_id, row.decision, labelled=False)
    if case.closed_at is not None:
        return
    check_release(prediction_id, case.claimed_by, reviewer, force)
    if case.claimed_by is not None:
        connection.execute(
            sa.update(review_cases)
            .where(_R.prediction_id == prediction_id)
            .values(claimed_by=None, claimed_at=None)
        )
