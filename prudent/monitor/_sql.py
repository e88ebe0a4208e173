"""The log, summarised in SQL: one row per window (or per window and class or bin), never one
per prediction.

Windows are calendar hours or days (UTC), or runs of N predictions in ``(created_at, id)``
order (``row_number()`` over that order, integer-divided by N). Two scans read every
prediction in range (:func:`window_base`, no join): the sums per window and predicted class,
and the confidence histogram per window and fine bin. Two more read only the labelled ones
(:func:`labelled_base`: from the latest label of each prediction to the prediction, so a log
where one row in ten is labelled joins a tenth of its rows): their sums per window, and their
calibration sums per window and bin. Narrow rows cross to Python; a window's figures are the
sums of its rows. SQLite and PostgreSQL differ in four expressions only (time truncation,
flooring, JSON array length and membership), chosen by
:func:`~prudent.monitor._sql_dialect._dialect_parts`. How windows are cut
(:class:`WindowSpec`) is in ``_sql_windows.py``, the samples of rows in ``_sql_sample.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

from prudent._typing import FloatArray, IntArray
from prudent.monitor._sql_dialect import _P, _dialect_parts
from prudent.monitor._sql_sample import range_sample_query, sample_query
from prudent.monitor._sql_windows import WindowSpec, parse_window, window_bounds, window_start
from prudent.store import DECISIONS, feedback_table, hour_of, window_filter

__all__ = [
    "FINE_BINS",
    "WindowSpec",
    "bins_query",
    "fine_bins",
    "labelled_base",
    "labelled_query",
    "parse_bins",
    "parse_calibration",
    "parse_window",
    "range_sample_query",
    "sample_query",
    "totals_query",
    "window_base",
    "window_bounds",
    "window_start",
]

FINE_BINS = 1500
"""Confidence bins of width 1/1500 (15 ECE bins of 100 each): quantiles and ECE come from them."""


def _window_of(dialect: str, spec: WindowSpec, keyed: bool) -> Any:
    if spec.kind == "span":
        return sa.literal_column("0")
    if spec.kind == "rows":
        order = sa.func.row_number().over(order_by=(_P.created_at, _P.id))
        return (order - 1) // spec.size
    if keyed:
        return _P.hour if spec.kind == "hour" else _P.hour // 24
    return _dialect_parts(dialect).truncate(_P.created_at, spec.kind)


def _hour_terms(since: datetime | None, until: datetime | None) -> list[Any]:
    """The stored hours ``[since, until)`` can hold, so the windows index is read as a range."""
    terms = [] if since is None else [_P.hour >= hour_of(since)]
    return terms if until is None else [*terms, _P.hour <= hour_of(until)]


def window_base(
    dialect: str,
    spec: WindowSpec,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    model_version: str | None = None,
    keyed: bool = False,
) -> sa.Subquery:
    """Return the predictions in range, each with its window ``w``, decision, OOD flag (0/1),
    confidence, prediction, conformal set and its size; no join.

    With ``keyed`` (every row in range has its stored ``hour`` and ``set_size``), an hour's
    ``w`` is that hour and a day's ``hour // 24``, both integers (:func:`window_start`), read
    in the order of the ``ix_predictions_windows`` index, which also holds the set's size;
    else the start of the hour or day, cut from each row's time, and the size read from the
    set.
    """
    w = _window_of(dialect, spec, keyed).label("w")
    columns = [
        w,
        _P.id,
        _P.created_at,
        _P.decision,
        sa.case((_P.is_ood, 1), else_=0).label("ood"),
        _P.confidence,
        _P.prediction,
        _P.prediction_set,
        (_P.set_size if keyed else _dialect_parts(dialect).set_size).label("set_size"),
    ]
    terms = window_filter(since, until, model_version)
    if keyed:
        terms += _hour_terms(since, until)
    return sa.select(*columns).where(*terms).subquery("base")


def labelled_base(dialect: str, base: sa.Subquery, *, ranked: bool = False) -> sa.Subquery:
    """Return the labelled predictions of ``base``: window, decision, confidence, prediction,
    latest label (the ``feedback`` row of highest id) and whether it lies in the set (0/1).

    The join starts from the labels (usually a small share of the log), never probing the
    feedback for every prediction, except where ``base`` is ``ranked`` (N-prediction windows,
    numbered by ``row_number()``) on SQLite: there ``base`` is materialised without an index to
    look a prediction up in, so each of its rows finds its latest label through the feedback's
    ``(prediction_id, id)`` index instead of scanning every label.
    """
    f, b = feedback_table.c, base.c
    lab = feedback_table.alias("lab")
    covered = sa.case((_dialect_parts(dialect).covered(b.prediction_set, lab.c.label), 1), else_=0)
    columns = [b.w, b.decision, b.confidence, b.prediction, lab.c.label, covered.label("covered")]
    if ranked and dialect == "sqlite":
        newest = sa.select(sa.func.max(f.id)).where(f.prediction_id == b.id).scalar_subquery()
        probed = base.join(lab, (lab.c.prediction_id == b.id) & (lab.c.id == newest))
        return sa.select(*columns).select_from(probed).subquery("labelled")
    latest = (
        sa.select(f.prediction_id, sa.func.max(f.id).label("fid"))
        .group_by(f.prediction_id)
        .subquery("latest")
    )
    joined = latest.join(lab, lab.c.id == latest.c.fid).join(base, b.id == latest.c.prediction_id)
    return sa.select(*columns).select_from(joined).subquery("labelled")


def _count(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _total(condition: Any, value: Any) -> Any:
    return sa.func.sum(sa.case((condition, value), else_=0.0))


def totals_query(base: sa.Subquery) -> sa.Select[Any]:
    """One row per window and predicted class (NULL: none): counts and sums over every row.

    Summed over a window's rows they give every rate and mean that needs no label; their
    ``n`` are the class counts.
    """
    b = base.c
    conf = b.confidence
    answered = conf.is_not(None)
    accepted = (b.decision == "accept") & answered
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
    ]
    keys = (b.w, b.prediction)
    return sa.select(*keys, *columns).group_by(*keys).order_by(*keys)


def bins_query(base: sa.Subquery, dialect: str) -> sa.Select[Any]:
    """Per window, its confidence histogram as text: ``"bin:n,bin:n,…"`` (fine bins holding
    rows, in no order; :func:`parse_bins` reads it).

    One short string per window instead of a row per bin: an hour holds hundreds of bins, and
    a month of hours a third of a million, each costly to fetch as a row.
    """
    b = base.c
    parts = _dialect_parts(dialect)
    fine = parts.floor_int(b.confidence * FINE_BINS)
    per_bin = (
        sa.select(b.w, fine.label("bin"), sa.func.count().label("n"))
        .where(b.confidence.is_not(None))
        .group_by(b.w, fine)
        .subquery("per_bin")
    )
    c = per_bin.c
    pair = sa.cast(c.bin, sa.Text).concat(":").concat(sa.cast(c.n, sa.Text))
    packed = parts.joined_text(pair).label("bins")
    return sa.select(c.w, packed).group_by(c.w).order_by(c.w)


def fine_bins(confidence: FloatArray) -> IntArray:
    """Count confidences per fine bin, as :func:`bins_query` does in the database (the bin of
    ``c`` is ``c * FINE_BINS`` truncated; missing ones are left out), as ``(bin, n)`` rows.

    Examples
    --------
    >>> fine_bins(np.array([0.9995, 0.9999, np.nan, 0.5])).tolist()
    [[750, 1], [1499, 2]]
    """
    present = confidence[~np.isnan(confidence)] * FINE_BINS
    bins, counts = np.unique(present.astype(np.int64), return_counts=True)
    return np.stack([bins, counts], axis=1)


def parse_bins(text: str | None) -> IntArray:
    """Read :func:`bins_query`'s text as an array of ``(bin, n)`` rows.

    Examples
    --------
    >>> parse_bins("1499:2,3:1").tolist(), parse_bins(None).shape
    ([[1499, 2], [3, 1]], (0, 2))
    """
    if not text:
        return np.zeros((0, 2), dtype=np.int64)
    return np.asarray(text.replace(":", ",").split(","), dtype=np.int64).reshape(-1, 2)


def _labelled_sums(c: Any, accept_threshold: float) -> dict[str, Any]:
    """The counts and sums of labelled rows ``c`` (a window's and fine bin's), by name: the
    first nine are summed per window, the last three (top-label rows) make the calibration."""
    conf = c.confidence
    answered = conf.is_not(None)
    acc_lab = (c.decision == "accept") & answered
    top = answered & c.prediction.is_not(None) & (c.decision != "rule")
    high = top & (conf >= accept_threshold)
    return {
        "n_labelled": sa.func.count(),
        "n_acc_lab": _count(acc_lab),
        "n_acc_ok": _count(acc_lab & (c.prediction == c.label)),
        "sum_c_acc_lab": _total(acc_lab, conf),
        "sum_v_acc_lab": _total(acc_lab, conf * (1.0 - conf)),
        "n_high": _count(high),
        "n_high_wrong": _count(high & (c.prediction != c.label)),
        "n_cov_lab": _count(answered),
        "n_covered": _total(answered, c.covered),
        "n_cal": _count(top),
        "sum_c_cal": _total(top, conf),
        "n_ok": _count(top & (c.prediction == c.label)),
    }


def labelled_query(labelled: sa.Subquery, accept_threshold: float, dialect: str) -> sa.Select[Any]:
    """One row per window: the counts and sums of its labelled rows, and as text
    ``"bin:n_cal:sum_c_cal:n_ok,…"`` its labelled top-label rows per fine bin (how many, the
    sum of their confidences, how many were right: calibration; :func:`parse_calibration`).

    The rows are first summed per window and fine bin, then per window: one join, one row a
    window.
    """
    c = labelled.c
    parts = _dialect_parts(dialect)
    fine = parts.floor_int(c.confidence * FINE_BINS)
    sums = _labelled_sums(c, accept_threshold)
    per_bin = (
        sa.select(c.w, fine.label("bin"), *[v.label(k) for k, v in sums.items()])
        .group_by(c.w, fine)
        .subquery("per_bin")
    )
    b = per_bin.c
    cell = (
        sa.cast(b.bin, sa.Text)
        .concat(":")
        .concat(sa.cast(b.n_cal, sa.Text))
        .concat(":")
        .concat(parts.float_text(b.sum_c_cal))
        .concat(":")
        .concat(sa.cast(b.n_ok, sa.Text))
    )
    packed = parts.joined_text(sa.case((b.n_cal > 0, cell), else_=None)).label("calibration")
    totals = [  # PostgreSQL sums integers as numeric: counts are cast back
        (
            sa.func.sum(b[k]) if k.startswith("sum_") else sa.cast(sa.func.sum(b[k]), sa.BigInteger)
        ).label(k)
        for k in list(sums)[:9]
    ]
    return sa.select(b.w, *totals, packed).group_by(b.w).order_by(b.w)


def parse_calibration(text: str | None) -> FloatArray:
    """Read :func:`labelled_query`'s calibration text as ``(bin, n_cal, sum_c_cal, n_ok)`` rows.

    Examples
    --------
    >>> parse_calibration("1499:2:1.9:1").tolist(), parse_calibration(None).shape
    ([[1499.0, 2.0, 1.9, 1.0]], (0, 4))
    """
    if not text:
        return np.zeros((0, 4))
    return np.asarray(text.replace(":", ",").split(","), dtype=float).reshape(-1, 4)
