"""Queries that read the log back: single predictions, pages, labels and the review queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from prudent.store._queue import case_state
from prudent.store._records import FeedbackEntry, PredictionRecord, ReviewCase
from prudent.store._rules import not_in_queue_error, unknown_prediction
from prudent.store._tables import feedback, predictions, review_cases

__all__ = [
    "case_from_row",
    "count_open_cases",
    "count_predictions",
    "feedback_entries",
    "fetch_case",
    "fetch_prediction",
    "labelled_rows",
    "open_cases",
    "page_predictions",
    "record_from_row",
    "window_filter",
]

_P = predictions.c


def record_from_row(row: Any) -> PredictionRecord:
    """Build a record from a row of the predictions table (any row with its columns)."""
    return PredictionRecord(
        id=row.id,
        created_at=row.created_at,
        model_version=row.model_version,
        model_name=row.model_name,
        inputs=row.inputs,
        probabilities=row.probabilities,
        prediction=row.prediction,
        confidence=row.confidence,
        ood_score=row.ood_score,
        is_ood=row.is_ood,
        prediction_set=tuple(row.prediction_set),
        decision=row.decision,
        reason=row.reason,
        defer_reason=row.defer_reason,
        unknown_values=row.unknown_values,
        latency_ms=row.latency_ms,
    )


def window_filter(
    since: datetime | None, until: datetime | None, model_version: str | None
) -> list[sa.ColumnElement[bool]]:
    """Return the WHERE terms for ``since <= created_at < until`` and a model version."""
    terms: list[sa.ColumnElement[bool]] = []
    if since is not None:
        terms.append(_P.created_at >= since)
    if until is not None:
        terms.append(_P.created_at < until)
    if model_version is not None:
        terms.append(_P.model_version == model_version)
    return terms


def fetch_prediction(connection: Connection, prediction_id: str, *, lock: bool = False) -> Any:
    """Return the prediction row, raising ``UnknownPredictionError`` when absent."""
    query = sa.select(predictions).where(_P.id == prediction_id)
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise unknown_prediction(prediction_id)
    return row


def count_predictions(connection: Connection, model_version: str | None) -> int:
    """Count logged predictions, of one model version or all."""
    query = sa.select(sa.func.count()).select_from(predictions)
    if model_version is not None:
        query = query.where(_P.model_version == model_version)
    return int(connection.execute(query).scalar_one())


def page_predictions(
    connection: Connection,
    terms: Sequence[sa.ColumnElement[bool]],
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[PredictionRecord]:
    """Return up to ``limit`` predictions in (created_at, id) order, after a keyset position."""
    query = sa.select(predictions).where(*terms)
    if after is not None:
        created, pid = after
        query = query.where(
            sa.or_(_P.created_at > created, sa.and_(_P.created_at == created, _P.id > pid))
        )
    query = query.order_by(_P.created_at, _P.id).limit(limit)
    return [record_from_row(row) for row in connection.execute(query)]


def feedback_entries(connection: Connection, prediction_id: str) -> list[FeedbackEntry]:
    """Return every label of a prediction, oldest first."""
    fetch_prediction(connection, prediction_id)
    f = feedback.c
    query = sa.select(feedback).where(f.prediction_id == prediction_id).order_by(f.id)
    return [
        FeedbackEntry(
            prediction_id=r.prediction_id, label=r.label, source=r.source, received_at=r.received_at
        )
        for r in connection.execute(query)
    ]


def labelled_rows(
    connection: Connection, terms: Sequence[sa.ColumnElement[bool]]
) -> list[tuple[PredictionRecord, FeedbackEntry]]:
    """Return each labelled prediction with its latest label, in (created_at, id) order."""
    f = feedback.c
    rank = sa.func.row_number().over(partition_by=f.prediction_id, order_by=f.id.desc())
    latest = sa.select(f.prediction_id, f.label, f.source, f.received_at, rank.label("rn"))
    latest_q = latest.subquery("latest")
    query = (
        sa.select(predictions, latest_q.c.label, latest_q.c.source, latest_q.c.received_at)
        .join(latest_q, sa.and_(latest_q.c.prediction_id == _P.id, latest_q.c.rn == 1))
        .where(*terms)
        .order_by(_P.created_at, _P.id)
    )
    out = []
    for row in connection.execute(query):
        entry = FeedbackEntry(
            prediction_id=row.id, label=row.label, source=row.source, received_at=row.received_at
        )
        out.append((record_from_row(row), entry))
    return out


def _case_query() -> sa.Select[Any]:
    r = review_cases.c
    case_columns = (r.claimed_by, r.claimed_at, r.priority, r.status, r.audit, r.lease_expires_at)
    return sa.select(predictions, *case_columns, r.reason.label("case_reason")).join(
        review_cases, r.prediction_id == _P.id
    )


def case_from_row(row: Any, now: datetime) -> ReviewCase:
    """Build a review case from a row of :func:`_case_query`, its claim as it stands at ``now``."""
    status, held = case_state(row.status, row.claimed_by, row.lease_expires_at, now)
    return ReviewCase(
        record=record_from_row(row),
        claimed_by=held,
        claimed_at=row.claimed_at if held else None,
        priority=row.priority,
        reason=row.case_reason,
        status=status,
        audit=row.audit,
        lease_expires_at=row.lease_expires_at if held else None,
    )


def fetch_case(connection: Connection, prediction_id: str, now: datetime) -> ReviewCase:
    """Return one review case, whatever its status."""
    row = connection.execute(_case_query().where(_P.id == prediction_id)).first()
    if row is None:
        decision = fetch_prediction(connection, prediction_id).decision
        raise not_in_queue_error(prediction_id, decision, labelled=False)
    return case_from_row(row, now)


def open_cases(connection: Connection, limit: int, offset: int, now: datetime) -> list[ReviewCase]:
    """Return open, claimed and set-aside review cases in priority order."""
    r = review_cases.c
    query = (
        _case_query()
        .where(r.closed_at.is_(None))
        .order_by(r.priority, r.created_at, r.prediction_id)
        .limit(limit)
        .offset(offset)
    )
    return [case_from_row(row, now) for row in connection.execute(query)]


def count_open_cases(connection: Connection) -> int:
    """Count open review cases."""
    query = sa.select(sa.func.count()).select_from(review_cases)
    return int(connection.execute(query.where(review_cases.c.closed_at.is_(None))).scalar_one())
