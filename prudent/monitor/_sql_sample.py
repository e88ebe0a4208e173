"""The monitor's samples of the log: up to N predictions per window, or per ``[since, until)``
range, lowest (random) ids first, with their inputs as UTF-8 JSON bytes, confidence and OOD
score."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from prudent.monitor._sql_dialect import _P, _dialect_parts
from prudent.store import predictions_table, window_filter

__all__ = ["range_sample_query", "sample_query"]


def sample_query(base: sa.Subquery, per_window: int, dialect: str) -> sa.Select[Any]:
    """Up to ``per_window`` rows of each window, lowest ids first (ids are random UUIDs, so this
    is a uniform sample), with their inputs, confidence and OOD score.

    Only ``(w, id)`` pairs are ranked (a small sort); the chosen rows' inputs are then read by
    primary key, never sorted.
    """
    b = base.c
    rank = sa.func.row_number().over(partition_by=b.w, order_by=b.id).label("rank")
    ranked = sa.select(b.w, b.id, rank).subquery("ranked")
    r = ranked.c
    return (
        sa.select(r.w, *_sampled(dialect))
        .join_from(ranked, predictions_table, _P.id == r.id)
        .where(r.rank <= per_window)
        .order_by(r.w, r.rank)
    )


def _sampled(dialect: str) -> tuple[Any, ...]:
    """A sampled row's inputs (their JSON text as UTF-8 bytes: parsed once per batch, not per
    row, and never decoded to ``str`` on the way), confidence and OOD score."""
    inputs = _dialect_parts(dialect).utf8(_P.inputs)
    return (inputs.label("inputs"), _P.confidence, _P.ood_score)


def range_sample_query(
    model_version: str | None,
    per_window: int,
    *,
    dialect: str,
    bounded: tuple[bool, bool] = (True, True),
    whole: bool = False,
) -> sa.Select[Any]:
    """Up to ``per_window`` predictions made in ``[since, until)``, lowest ids first (a uniform
    sample: ids are random), with their inputs (JSON text), confidence and OOD score.

    ``since`` and ``until`` are bound when the query runs (one statement for every window,
    compiled once), each only where ``bounded`` says so. The ids are chosen from the
    ``(created_at, id)`` index alone; only the chosen rows are read, by key. With ``whole``
    (the range holds at most ``per_window`` rows, so the sample is all of them) the range is
    read as stored, in one pass and no choosing.
    """
    p = predictions_table.c
    terms = window_filter(None, None, model_version)
    terms += [p.created_at >= sa.bindparam("since")] if bounded[0] else []
    terms += [p.created_at < sa.bindparam("until")] if bounded[1] else []
    if whole:
        return sa.select(*_sampled(dialect)).where(*terms).limit(per_window)
    chosen = sa.select(p.id).where(*terms).order_by(p.id).limit(per_window)
    return sa.select(*_sampled(dialect)).where(p.id.in_(chosen.scalar_subquery()))
