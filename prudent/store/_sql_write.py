"""Statements that change the log: idempotent inserts, labels, claims. Each runs in one transaction.

The prediction's row is locked first (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the
whole write runs under ``BEGIN IMMEDIATE``), so concurrent labels for one prediction serialise.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from prudent.store._queue import AUDIT_REASON, SERVED, QueueEntry, holder
from prudent.store._records import FeedbackResult, FeedbackStatus, PredictionRecord, ReviewCase
from prudent.store._rules import (
    check_claim,
    check_may_label,
    check_release,
    feedback_status,
    not_in_queue_error,
)
from prudent.store._sql_read import fetch_case, fetch_prediction
from prudent.store._tables import feedback, hour_of, predictions, review_cases

__all__ = [
    "claim_case",
    "claim_next_case",
    "insert_rows",
    "put_aside_case",
    "record_label",
    "release_case",
    "row_of",
]

_R = review_cases.c


_JSON_COLUMNS = ("inputs", "probabilities", "prediction_set")
_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def row_of(record: PredictionRecord, entry: QueueEntry | None = None) -> dict[str, Any]:
    """Return the insert parameters of a record, its JSON already text, and its queue entry.

    Serialising here, in the caller's thread, keeps the single writer thread to the insert
    and the commit. The entry, when there is one, rides along under ``"case"``.
    """
    row = {
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
        "unknown_values": record.unknown_values,
        "latency_ms": record.latency_ms,
        "hour": hour_of(record.created_at),
        "set_size": len(record.prediction_set),
    }
    if entry is not None:
        reason = AUDIT_REASON if entry.audit else row["defer_reason"]
        row["case"] = {
            "prediction_id": record.id,
            "created_at": record.created_at,
            "priority": float(entry.priority),
            "audit": entry.audit,
            "reason": reason,
        }
    return row


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
    """Insert prediction rows, skipping ids already logged, and queue those with an entry."""
    insert_predictions, insert_cases = _inserts(connection.dialect.name)
    cases = [row["case"] for row in rows if "case" in row]
    if cases:
        rows = [{k: v for k, v in row.items() if k != "case"} for row in rows]
    connection.execute(insert_predictions, rows)
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
        held = holder(case.claimed_by, case.lease_expires_at, received_at)
        check_may_label(prediction_id, held, source)
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
        _set(connection, prediction_id, closed_by=source, closed_at=received_at, status="labeled")
    return result


def _set(connection: Connection, prediction_id: str, **values: Any) -> None:
    connection.execute(
        sa.update(review_cases).where(_R.prediction_id == prediction_id).values(**values)
    )


def _open_case(connection: Connection, prediction_id: str) -> tuple[Any, Any]:
    row = fetch_prediction(connection, prediction_id)
    case = _case(connection, prediction_id)
    if case is None or case.closed_at is not None:
        raise not_in_queue_error(prediction_id, row.decision, labelled=case is not None)
    return row, case


def claim_case(
    connection: Connection, prediction_id: str, reviewer: str, now: datetime, lease: timedelta
) -> ReviewCase:
    """Give an open case to ``reviewer`` for ``lease`` (renewed if they already hold it)."""
    _row, case = _open_case(connection, prediction_id)
    held = holder(case.claimed_by, case.lease_expires_at, now)
    check_claim(prediction_id, held, reviewer)
    claimed_at = case.claimed_at if held == reviewer else now
    values = {"claimed_at": claimed_at, "lease_expires_at": now + lease}
    _set(connection, prediction_id, claimed_by=reviewer, status="claimed", **values)
    return fetch_case(connection, prediction_id, now)


def _held_case(connection: Connection, reviewer: str, now: datetime) -> str | None:
    """The first open case ``reviewer`` holds at ``now``, in priority order, or None."""
    live = sa.or_(_R.lease_expires_at.is_(None), _R.lease_expires_at > now)
    query = (
        sa.select(_R.prediction_id)
        .where(_R.closed_at.is_(None), _R.status == "claimed", _R.claimed_by == reviewer, live)
        .order_by(_R.priority, _R.created_at, _R.prediction_id)
        .limit(1)
    )
    found: str | None = connection.execute(query).scalar_one_or_none()
    return found


def claim_next_case(
    connection: Connection, reviewer: str, now: datetime, lease: timedelta, resume: bool = False
) -> ReviewCase | None:
    """Claim the first free case in priority order, or return None when there is none; with
    ``resume``, first the case ``reviewer`` already holds, its lease renewed.

    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL passes over a case another transaction is
    claiming; SQLite runs the whole transaction under ``BEGIN IMMEDIATE`` (one writer at a
    time, across processes), where the clause compiles to nothing.
    """
    held = _held_case(connection, reviewer, now) if resume else None
    if held is not None:
        return claim_case(connection, held, reviewer, now, lease)
    free = sa.or_(_R.claimed_by.is_(None), _R.lease_expires_at <= now)
    query = (
        sa.select(_R.prediction_id)
        .where(_R.closed_at.is_(None), _R.status.in_(SERVED), free)
        .order_by(_R.priority, _R.created_at, _R.prediction_id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    chosen = connection.execute(query).scalar_one_or_none()
    if chosen is None:
        return None
    values = {"claimed_by": reviewer, "claimed_at": now, "lease_expires_at": now + lease}
    _set(connection, chosen, status="claimed", **values)
    return fetch_case(connection, chosen, now)


def release_case(
    connection: Connection, prediction_id: str, reviewer: str, force: bool, now: datetime
) -> None:
    """Take an open case back from its reviewer; a case unheld or closed is left as it is."""
    row = fetch_prediction(connection, prediction_id)
    case = _case(connection, prediction_id)
    if case is None:
        raise not_in_queue_error(prediction_id, row.decision, labelled=False)
    if case.closed_at is not None:
        return
    check_release(
        prediction_id, holder(case.claimed_by, case.lease_expires_at, now), reviewer, force
    )
    if case.claimed_by is not None:
        values = {"claimed_by": None, "claimed_at": None, "lease_expires_at": None}
        _set(connection, prediction_id, status="open", **values)


def put_aside_case(
    connection: Connection, prediction_id: str, reviewer: str, status: str, now: datetime
) -> ReviewCase:
    """Mark an open case skipped or flagged and release it."""
    _row, case = _open_case(connection, prediction_id)
    check_release(
        prediction_id, holder(case.claimed_by, case.lease_expires_at, now), reviewer, False
    )
    values = {"claimed_by": None, "claimed_at": None, "lease_expires_at": None}
    _set(connection, prediction_id, status=status, **values)
    return fetch_case(connection, prediction_id, now)
