"""The log, summarised in SQL: one row per window (or per window and bin), never one per prediction.

Windows are calendar hours or days (UTC), or runs of N predictions in ``(created_at, id)``
order (``row_number()`` over that order, integer-divided by N). Every query starts from one
subquery: the predictions in range, each with its window, its conformal set size, its latest
label (``feedback`` row of highest id) and whether that label lies in its set. SQLite and
PostgreSQL differ in four expressions only (time truncation, flooring, JSON array length and
membership), chosen by :func:`_dialect_parts`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from prudent.errors import ConfigError
from prudent.store import DECISIONS, feedback_table, predictions_table, window_filter

__all__ = [
    "FINE_BINS",
    "WindowSpec",
    "class_counts_query",
    "parse_window",
    "range_sample_query",
    "sample_query",
    "window_base",
    "window_bounds",
    "window_query",
]

FINE_BINS = 1500
"""Confidence bins of width 1/1500 (15 ECE bins of 100 each): quantiles and ECE come from them."""

_P = predictions_table.c


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """How the log is cut into windows: by ``"hour"``, ``"day"``, or every ``size`` predictions.

    Parameters
    ----------
    kind
        ``"hour"``, ``"day"``, ``"rows"``, or ``"span"``: the whole range is one window (what
        an alert evaluation reads: the last hour, say).
    size
        Predictions per window (``"rows"`` only).

    Examples
    --------
    >>> WindowSpec.parse("day"), WindowSpec.parse("500").size
    (WindowSpec(kind='day', size=0), 500)
    """

    kind: Literal["hour", "day", "rows", "span"]
    size: int = 0

    @classmethod
    def parse(cls, text: str | int) -> WindowSpec:
        """Read ``"hour"``, ``"day"`` or a number of predictions.

        Parameters
        ----------
        text
            The window option as given.

        Returns
        -------
        WindowSpec
            The parsed window.

        Raises
        ------
        ConfigError
            For anything else.
        """
        value = str(text).strip().lower()
        if value in ("hour", "day"):
            return cls(kind=value)  # type: ignore[arg-type]
        if value.isdigit() and int(value) >= 1:
            return cls(kind="rows", size=int(value))
        raise ConfigError(
            f"window must be 'hour', 'day' or a number of predictions such as 1000, but "
            f"{text!r} was received."
        )


@dataclass(frozen=True)
class _Parts:
    truncate: Callable[[Any, str], Any]
    floor_int: Callable[[Any], Any]
    set_size: Any
    covered: Callable[[Any], Any]


def _dialect_parts(dialect: str) -> _Parts:
    if dialect == "sqlite":
        # the store keeps UTC times as 'YYYY-MM-DD HH:MM:SS.ffffff' text: cutting the text
        # is the truncation, and far cheaper than strftime on every row
        keep = {"hour": 13, "day": 10}
        each = sa.func.json_each(_P.prediction_set).table_valued("value").alias("each_label")

        def covered_sqlite(label: Any) -> Any:
            return sa.exists(
                sa.select(sa.literal(1)).select_from(each).where(each.c.value == label)
            )

        return _Parts(
            truncate=lambda c, unit: sa.func.substr(c, 1, keep[unit]),
            floor_int=lambda x: sa.cast(x, sa.Integer),  # truncates; values are >= 0
            set_size=sa.func.json_array_length(_P.prediction_set),
            covered=covered_sqlite,
        )
    return _Parts(
        truncate=lambda c, unit: sa.func.date_trunc(unit, sa.func.timezone("UTC", c)),
        floor_int=lambda x: sa.cast(sa.func.floor(x), sa.Integer),
        set_size=sa.func.jsonb_array_length(_P.prediction_set),
        covered=lambda label: sa.type_coerce(_P.prediction_set, JSONB).has_key(label),
    )


def _window_of(dialect: str, spec: WindowSpec) -> Any:
    if spec.kind == "span":
        return sa.literal_column("0")
    if spec.kind == "rows":
        order = sa.func.row_number().over(order_by=(_P.created_at, _P.id))
        return (order - 1) // spec.size
    return _dialect_parts(dialect).truncate(_P.created_at, spec.kind)


def window_base(
    dialect: str,
    spec: WindowSpec,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    model_version: str | None = None,
    labels: bool = True,
) -> sa.Subquery:
    """Return the predictions in range with their window ``w``, set size, label and coverage.

    With ``labels=False`` only ``w``, ``id`` and ``prediction``: no join, for the queries that
    need no label (class counts, the drift sample).
    """
    terms = window_filter(since, until, model_version)
    w = _window_of(dialect, spec).label("w")
    if not labels:
        return sa.select(w, _P.id, _P.prediction).where(*terms).subquery("light")
    parts = _dialect_parts(dialect)
    f = feedback_table.c
    latest = (
        sa.select(f.prediction_id, sa.func.max(f.id).label("fid"))
        .group_by(f.prediction_id)
        .subquery("latest")
    )
    lab = feedback_table.alias("lab")
    label = lab.c.label
    covered = sa.case((label.is_(None), None), else_=sa.case((parts.covered(label), 1), else_=0))
    columns = [
        w,
        _P.id,
        _P.created_at,
        _P.decision,
        sa.case((_P.is_ood, 1), else_=0).label("ood"),
        _P.confidence,
        _P.prediction,
        parts.set_size.label("set_size"),
        label.label("label"),
        covered.label("covered"),
    ]
    joined = predictions_table.outerjoin(latest, latest.c.prediction_id == _P.id).outerjoin(
        lab, lab.c.id == latest.c.fid
    )
    return sa.select(*columns).select_from(joined).where(*terms).subquery("base")


def _count(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _total(condition: Any, value: Any) -> Any:
    return sa.func.sum(sa.case((condition, value), else_=0.0))


def window_query(base: sa.Subquery, accept_threshold: float, dialect: str) -> sa.Select[Any]:
    """One row per window and fine confidence bin (NULL: no confidence): counts and sums.

    Summed over a window's rows they give every rate and mean; per bin they are the
    confidence histogram and the labelled top-label rows' calibration sums. One scan serves
    both.
    """
    b = base.c
    conf = b.confidence
    fine = _dialect_parts(dialect).floor_int(conf * FINE_BINS)
    answered = conf.is_not(None)
    labelled = b.label.is_not(None)
    accepted = (b.decision == "accept") & answered
    acc_lab = accepted & labelled
    top = labelled & answered & b.prediction.is_not(None) & (b.decision != "rule")
    high = top & (conf >= accept_threshold)
    columns = [
        sa.func.count().label("n"),
        sa.func.min(b.created_at).label("start"),
        sa.func.max(b.created_at).label("end"),
        *[_count(b.decision == d).label(f"n_{d}") for d in DECISIONS],
        sa.func.sum(b.ood).label("n_ood"),
        sa.func.count(conf).label("n_answered"),
        _total(answered, b.set_size).label("sum_set"),
        _total(answered, b.set_size * b.set_size).label("sum_set2"),
        _count(accepted).label("n_acc"),
        _total(accepted, conf).label("sum_c_acc"),
        _total(accepted, conf * (1.0 - conf)).label("sum_v_acc"),
        sa.func.count(b.label).label("n_labelled"),
        _count(acc_lab).label("n_acc_lab"),
        _count(acc_lab & (b.prediction == b.label)).label("n_acc_ok"),
        _total(acc_lab, conf).label("sum_c_acc_lab"),
        _total(acc_lab, conf * (1.0 - conf)).label("sum_v_acc_lab"),
        _count(high).label("n_high"),
        _count(high & (b.prediction != b.label)).label("n_high_wrong"),
        _count(labelled & answered).label("n_cov_lab"),
        _total(labelled & answered, b.covered).label("n_covered"),
        _count(top).label("n_cal"),
        _total(top, conf).label("sum_c_cal"),
        _count(top & (b.prediction == b.label)).label("n_ok"),
    ]
    return sa.select(b.w, fine.label("bin"), *columns).group_by(b.w, fine).order_by(b.w, fine)


def class_counts_query(base: sa.Subquery) -> sa.Select[Any]:
    """Per window and predicted class: how many rows."""
    b = base.c
    return (
        sa.select(b.w, b.prediction, sa.func.count().label("n"))
        .where(b.prediction.is_not(None))
        .group_by(b.w, b.prediction)
        .order_by(b.w, b.prediction)
    )


def sample_query(base: sa.Subquery, per_window: int) -> sa.Select[Any]:
    """Up to ``per_window`` rows of each window, lowest ids first (ids are random UUIDs, so this
    is a uniform sample), with their inputs, confidence and OOD score.

    Only ``(w, id)`` pairs are ranked (a small sort); the chosen rows' inputs are then read by
    primary key, never sorted.
    """
    b = base.c
    rank = sa.func.row_number().over(partition_by=b.w, order_by=b.id).label("rank")
    ranked = sa.select(b.w, b.id, rank).subquery("ranked")
    r, p = ranked.c, predictions_table.c
    return (
        sa.select(r.w, p.inputs, p.confidence, p.ood_score)
        .join_from(ranked, predictions_table, p.id == r.id)
        .where(r.rank <= per_window)
        .order_by(r.w, r.rank)
    )


def parse_window(value: object) -> datetime:
    """Return the start of a calendar window from the database's ``w`` (a datetime, or the
    SQLite text ``'2024-03-01'`` / ``'2024-03-01 13'``), in UTC.

    Examples
    --------
    >>> parse_window("2024-03-01 13").isoformat()
    '2024-03-01T13:00:00+00:00'
    """
    if isinstance(value, datetime):
        when = value
    else:
        text = str(value)
        when = datetime.fromisoformat(text + ":00" if len(text) == 13 else text)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def window_bounds(
    value: Any, spec: WindowSpec, since: datetime | None, until: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """Return ``[start, end)`` of the calendar window whose ``w`` is ``value`` (within
    ``[since, until)``); a span's are ``since`` and ``until``."""
    if spec.kind == "span":
        return since, until
    start = parse_window(value)
    end = start + (timedelta(hours=1) if spec.kind == "hour" else timedelta(days=1))
    return (
        start if since is None else max(start, since),
        end if until is None else min(end, until),
    )


def range_sample_query(
    since: datetime | None, until: datetime | None, model_version: str | None, per_window: int
) -> sa.Select[Any]:
    """Up to ``per_window`` predictions made in ``[since, until)``, lowest ids first (a uniform
    sample: ids are random), with their inputs, confidence and OOD score.

    The ids are chosen from the ``(created_at, id)`` index alone; only the chosen rows are
    read, by key.
    """
    p = predictions_table.c
    chosen = (
        sa.select(p.id)
        .where(*window_filter(since, until, model_version))
        .order_by(p.id)
        .limit(per_window)
    )
    return sa.select(p.inputs, p.confidence, p.ood_score).where(p.id.in_(chosen.scalar_subquery()))
