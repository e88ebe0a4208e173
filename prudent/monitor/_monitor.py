"""Read a prediction log, window by window: figures in SQL, drift on a bounded sample.

Five queries, each ordered by window: the sums per window and predicted class, the confidence
histogram per window, the labelled rows' sums per window and their calibration sums per window
and bin (:mod:`prudent.monitor._sql`), and a sample of at most ``drift_sample`` rows per window
(its inputs, confidences and OOD scores). All are streamed and merged window by window, so
memory holds one window's rows at a time, not the log. The log is only read: the monitor never
writes, migrates or locks it.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from prudent._typing import FloatArray, IntArray
from prudent.data import validate_frame
from prudent.errors import DataError, StoreError
from prudent.monitor._drift import DriftBaseline, DriftOptions, DriftReport, windows_drift
from prudent.monitor._figures import NotEnoughData, check_minimum
from prudent.monitor._histogram import ConfidenceHistogram
from prudent.monitor._inputs import inputs_frame
from prudent.monitor._logged import log_engine
from prudent.monitor._reference import Reference
from prudent.monitor._sql import (
    WindowSpec,
    bins_query,
    fine_bins,
    labelled_base,
    labelled_query,
    parse_bins,
    parse_calibration,
    range_sample_query,
    sample_query,
    totals_query,
    window_base,
    window_bounds,
)
from prudent.monitor._windows import SummaryOptions, WindowSummary, summarise_window, window_key
from prudent.store import DECISIONS, predictions_table, window_filter

__all__ = ["MonitorReport", "monitor_log"]

_STREAM = 2000
_VALIDATE_ROWS = 20_000
"""Most sampled rows validated in one call (several windows at once: a call costs ~10 ms)."""


@dataclass(frozen=True)
class MonitorReport:
    """Every window of a log, read against a reference.

    Parameters
    ----------
    window
        How the log was cut.
    reference
        The reference it was read against.
    windows
        One summary per window, oldest first.
    drift_options
        How drift was judged.
    summary_options
        Minimum counts of the figures.
    """

    window: WindowSpec
    reference: Reference
    windows: tuple[WindowSummary, ...]
    drift_options: DriftOptions = field(default_factory=DriftOptions)
    summary_options: SummaryOptions = field(default_factory=SummaryOptions)


def _grouped(result: Any) -> Iterator[tuple[Any, list[Any]]]:
    for key, rows in itertools.groupby(result, key=lambda r: r.w):
        yield key, list(rows)


class _Cursor:
    """Walk one ordered, grouped result in step with the window list (windows may be skipped:
    the result's keys sort as the windows do)."""

    def __init__(self, groups: Iterator[tuple[Any, list[Any]]]) -> None:
        self._groups = groups
        self._next = next(groups, None)

    def take(self, key: Any) -> list[Any]:
        while self._next is not None and self._next[0] < key:
            self._next = next(self._groups, None)
        if self._next is not None and self._next[0] == key:
            rows = self._next[1]
            self._next = next(self._groups, None)
            return rows
        return []


class _Lazy:
    """A :class:`_Cursor` whose query runs when a window is first taken from it, if ever."""

    def __init__(self, start: Callable[[], _Cursor]) -> None:
        self._start = start
        self._cursor: _Cursor | None = None

    def take(self, key: Any) -> list[Any]:
        if self._cursor is None:
            self._cursor = self._start()
        return self._cursor.take(key)


@dataclass(frozen=True)
class _Sample:
    """A window's drift sample, by column."""

    inputs: list[bytes]
    confidence: FloatArray
    ood_score: FloatArray

    @classmethod
    def of(cls, rows: Sequence[Sequence[Any]]) -> _Sample:
        """From ``(inputs as JSON text in UTF-8 bytes, confidence, OOD score)`` rows (None:
        NaN)."""
        return cls(
            [r[0] for r in rows],
            np.array([r[1] for r in rows], float),
            np.array([r[2] for r in rows], float),
        )


_EMPTY = _Sample.of([])


def _validated(samples: list[_Sample], reference: Reference) -> tuple[pd.DataFrame, list[str]]:
    """Validate the inputs of several windows' samples in one call (it costs ~10 ms a call)."""
    inputs = [text for sample in samples for text in sample.inputs]
    if not inputs:
        return pd.DataFrame(), []
    try:
        features, _ = validate_frame(inputs_frame(inputs), reference.schema)
    except DataError as exc:
        note = f"input drift not tested: the logged inputs do not fit the schema ({exc})"
        return pd.DataFrame(index=range(len(inputs))), [note]
    return features.reset_index(drop=True), []


def _drifts(
    samples: list[_Sample], baseline: DriftBaseline, options: DriftOptions
) -> Iterator[tuple[DriftReport | NotEnoughData, list[str]]]:
    """Test each window's sample; windows below the minimum are not read at all."""
    tested = [s if len(s.inputs) >= options.min_rows else _EMPTY for s in samples]
    features, notes = _validated(tested, baseline.reference)
    windows = [(len(s.inputs), s.confidence, s.ood_score) for s in tested]
    reports = windows_drift(baseline, features, windows, options)
    for sample, report in zip(samples, reports, strict=True):
        n = len(sample.inputs)
        yield (NotEnoughData(n, options.min_rows), []) if n < options.min_rows else (report, notes)


def monitor_log(
    url: str | Path,
    reference: Reference,
    *,
    window: WindowSpec | str = "day",
    since: datetime | None = None,
    until: datetime | None = None,
    all_versions: bool = False,
    drift_sample: int = 2000,
    drift_options: DriftOptions | None = None,
    summary_options: SummaryOptions | None = None,
) -> MonitorReport:
    """Summarise a prediction log window by window and test each window for drift.

    Parameters
    ----------
    url
        The log database (``sqlite:///log.db``, a file path, or ``postgresql://…``).
    reference
        The model's reference (:meth:`Reference.from_bundle`).
    window
        ``"hour"``, ``"day"``, a number of predictions, or a :class:`WindowSpec`.
    since, until
        Only predictions made in ``[since, until)`` (timezone-aware).
    all_versions
        Read every model version's predictions, not only the reference's.
    drift_sample
        Most rows per window read for the drift tests (a uniform sample).
    drift_options
        Minimum window size, false discovery rate, effect floors.
    summary_options
        Minimum counts and resampling of the figures.

    Returns
    -------
    MonitorReport
        One summary per window, oldest first.

    Raises
    ------
    StoreError
        When the database cannot be read or holds no prediction log.
    ConfigError
        For an invalid window or option.
    """
    spec = window if isinstance(window, WindowSpec) else WindowSpec.parse(window)
    drift_sample = check_minimum(drift_sample, "drift_sample")
    drift_opts, summary_opts = drift_options or DriftOptions(), summary_options or SummaryOptions()
    engine = log_engine(url)
    version = None if all_versions else reference.model_version
    try:
        windows = tuple(
            _windows(
                engine,
                spec,
                reference,
                (since, until, version),
                drift_sample,
                drift_opts,
                summary_opts,
            )
        )
    except SQLAlchemyError as exc:
        raise StoreError(f"Reading the prediction log at {url} failed: {exc}") from exc
    finally:
        engine.dispose()
    return MonitorReport(spec, reference, windows, drift_opts, summary_opts)


_TOTALS = ("n", "n_answered", "sum_set", "sum_set2", "n_acc", "sum_c_acc", "sum_v_acc", "n_ood",
           *(f"n_{d}" for d in DECISIONS))  # fmt: skip
_LABELLED = ("n_labelled", "n_acc_lab", "n_acc_ok", "sum_c_acc_lab", "sum_v_acc_lab", "n_high",
             "n_high_wrong", "n_cov_lab", "n_covered")  # fmt: skip


def _n(rows: list[Any]) -> int:
    return sum(int(r.n) for r in rows)


def _fold(rows: list[Any], labelled: list[Any]) -> dict[str, Any]:
    """A window's rows per predicted class and its labelled rows' sums → its totals."""
    counts: dict[str, Any] = {k: sum(getattr(r, k) or 0 for r in rows) for k in _TOTALS}
    counts |= {k: sum(getattr(r, k) or 0 for r in labelled) for k in _LABELLED}
    counts["start"] = min(r.start for r in rows)
    counts["end"] = max(r.end for r in rows)
    return counts


def _chunks(groups: Iterator[tuple[Any, list[Any]]], size: int) -> Iterator[list[Any]]:
    while chunk := list(itertools.islice(groups, size)):
        yield chunk


def _streamed(connection: sa.Connection, query: sa.Select[Any]) -> _Cursor:
    return _Cursor(_grouped(connection.execution_options(yield_per=_STREAM).execute(query)))


@contextlib.contextmanager
def _connect(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A read connection; on PostgreSQL its sorts and hashes get 64 MB before spilling to disk
    (the default 4 MB spills a month's GROUP BY), and no JIT (it compiles for longer than the
    queries it would speed up)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("SET LOCAL work_mem = '64MB'"))
            connection.execute(sa.text("SET LOCAL jit = off"))
        yield connection


def _keyed(
    connection: sa.Connection,
    spec: WindowSpec,
    where: tuple[datetime | None, datetime | None, str | None],
) -> bool:
    """Whether hour or day windows can group by the stored ``hour`` and read the stored
    ``set_size``: the log has the columns (schema 0008 or later) and every row in range holds
    them (the store writes them; a row put in by other means may not, and the windows are then
    cut from each row's time)."""
    if spec.kind not in ("hour", "day"):
        return False
    names = {c["name"] for c in sa.inspect(connection).get_columns(predictions_table.name)}
    if not {"hour", "set_size"} <= names:
        return False
    p = predictions_table.c
    lacking = p.hour.is_(None) | p.set_size.is_(None)
    missing = sa.select(p.id).where(*window_filter(*where), lacking).limit(1)
    return connection.execute(missing).first() is None


def _windows(
    engine: sa.Engine,
    spec: WindowSpec,
    reference: Reference,
    where: tuple[datetime | None, datetime | None, str | None],
    drift_sample: int,
    drift_options: DriftOptions,
    options: SummaryOptions,
) -> Iterator[WindowSummary]:
    dialect = engine.dialect.name
    since, until, version = where
    threshold = reference.promises.accept_threshold
    with contextlib.ExitStack() as stack:
        c = [stack.enter_context(_connect(engine)) for _ in range(4)]
        keyed = _keyed(c[0], spec, where)
        base = window_base(
            dialect, spec, since=since, until=until, model_version=version, keyed=keyed
        )
        labelled = labelled_base(dialect, base, ranked=spec.kind == "rows")
        groups = _grouped(c[0].execution_options(yield_per=_STREAM).execute(totals_query(base)))
        bins = _Lazy(lambda: _streamed(c[1], bins_query(base, dialect)))
        lab = _streamed(c[2], labelled_query(labelled, threshold, dialect))
        sampler = _sampler(c[3], spec, base, where, drift_sample, drift_options)
        baseline = DriftBaseline.of(reference)
        for chunk in _chunks(groups, max(1, _VALIDATE_ROWS // drift_sample)):
            samples = [_EMPTY if sampler is None else sampler(key, _n(rows)) for key, rows in chunk]
            drifts = _drifts(samples, baseline, drift_options) if sampler else None
            for (key, rows), sample in zip(chunk, samples, strict=True):
                labelled_rows = lab.take(key)
                histogram = ConfidenceHistogram.from_rows(
                    _bins(bins, key, sample, _n(rows)),
                    parse_calibration(next((r.calibration for r in labelled_rows), None)),
                )
                drift, notes = next(drifts) if drifts is not None else (None, [])
                yield summarise_window(
                    _fold(rows, labelled_rows),
                    histogram,
                    [(r.prediction, int(r.n)) for r in rows if r.prediction is not None],
                    reference=reference,
                    key=window_key(key, spec),
                    drift=drift,
                    notes=notes,
                    options=options,
                )


def _bins(bins: _Lazy, key: Any, sample: _Sample, n: int) -> IntArray:
    """A window's ``(fine bin, rows)``: counted from its drift sample when that holds every
    one of its ``n`` rows (their confidences are all there, and the histogram query need not
    run: by hour, a month of windows each read whole), else the histogram query's."""
    if sample.confidence.size == n:
        return fine_bins(sample.confidence)
    return parse_bins(next((r.bins for r in bins.take(key)), None))


def _sampler(
    connection: sa.Connection,
    spec: WindowSpec,
    base: sa.Subquery,
    where: tuple[datetime | None, datetime | None, str | None],
    per_window: int,
    options: DriftOptions,
) -> Callable[[Any, int], _Sample] | None:
    """Return ``(window value, its rows) -> its drift sample``: by time range for calendar
    windows and spans (an index range each; the whole range when it holds no more rows than
    the sample), else one ranked query streamed in step with the windows."""
    if per_window < options.min_rows:
        return None
    since, until, version = where
    dialect = connection.dialect.name
    if spec.kind != "rows":
        queries: dict[tuple[bool, bool, bool], sa.Select[Any]] = {}

        def by_range(key: Any, n: int) -> _Sample:
            start, end = window_bounds(key, spec, since, until)
            shape = (start is not None, end is not None, n <= per_window)
            if shape not in queries:
                queries[shape] = range_sample_query(
                    version, per_window, dialect=dialect, bounded=shape[:2], whole=shape[2]
                )
            bounds = {k: v for k, v in (("since", start), ("until", end)) if v is not None}
            with connection.execute(queries[shape], bounds) as result:  # plain tuples, no Rows
                return _Sample.of(result.cursor.fetchall())

        return by_range
    ranked = _streamed(connection, sample_query(base, per_window, dialect))
    return lambda key, _: _Sample.of([row[1:] for row in ranked.take(key)])
