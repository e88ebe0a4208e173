"""One window's summary, built from the database's per-window sums, bins and class counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prudent.monitor._drift import DriftReport
from prudent.monitor._estimate import (
    AccuracyEstimate,
    expected_figure,
    gap_figure,
    ood_excess,
    reliability,
)
from prudent.monitor._figures import Figure, NotEnoughData, mean_figure, rate_figure
from prudent.monitor._histogram import Calibration, ConfidenceHistogram
from prudent.monitor._reference import Reference
from prudent.monitor._sql import WindowSpec, window_start
from prudent.store import DECISIONS

__all__ = ["QUANTILES", "SummaryOptions", "WindowSummary", "summarise_window"]

QUANTILES = (0.1, 0.5, 0.9)
"""The confidence quantiles reported."""


@dataclass(frozen=True)
class SummaryOptions:
    """Minimum counts and resampling of the window figures.

    Parameters
    ----------
    min_count
        Fewest rows behind a rate, mean or quantile.
    min_labels
        Fewest labelled rows behind accuracy, error rate, ECE and coverage.
    n_resamples
        Resamples of the ECE test and interval.
    seed
        Seed of those resamples.
    """

    min_count: int = 30
    min_labels: int = 30
    n_resamples: int = 500
    seed: int = 0


@dataclass(frozen=True)
class WindowSummary:
    """What one window of the log shows, every figure with its interval.

    Parameters
    ----------
    key
        The window: its UTC day (``"2024-03-01"``) or hour (``"2024-03-01T12:00"``), or
        ``"rows 0-999"``.
    start, end
        The first and last prediction's time.
    n
        Predictions in the window.
    decisions
        Share of each decision (accept, rule, backup, review).
    ood_rate
        Share judged out of distribution.
    confidence
        Confidence quantiles (:data:`QUANTILES`).
    mean_set_size
        Mean conformal set size of the rows a model answered.
    class_share
        Share of each predicted class.
    labelled
        Rows with a label.
    accepted_accuracy
        Accuracy of the labelled accepted predictions.
    high_confidence_errors
        Share wrong among labelled rows with confidence at or above the accept threshold.
    calibration
        ECE of the labelled top-label rows, and its consistency test.
    coverage
        Share of labels inside the conformal set.
    accuracy
        Expected accuracy before labels, realised accuracy and their gap.
    drift
        Drift against the reference (None when not computed).
    notes
        Anything the monitor could not do for this window.
    """

    key: str
    start: datetime
    end: datetime
    n: int
    decisions: dict[str, Figure]
    ood_rate: Figure
    confidence: dict[float, Figure]
    mean_set_size: Figure
    class_share: dict[str, Figure]
    labelled: int
    accepted_accuracy: Figure
    high_confidence_errors: Figure
    calibration: Calibration
    coverage: Figure
    accuracy: AccuracyEstimate
    drift: DriftReport | NotEnoughData | None = None
    notes: tuple[str, ...] = field(default=())


def window_key(value: Any, spec: WindowSpec) -> str:
    """Return the display key of a window from the database's ``w`` value.

    Examples
    --------
    >>> window_key("2024-03-01T13:00:00", WindowSpec("hour"))
    '2024-03-01T13:00'
    >>> window_key(473_485, WindowSpec("hour"))
    '2024-01-06T13:00'
    >>> window_key(2, WindowSpec("rows", 100))
    'rows 200-299'
    """
    if spec.kind == "span":
        return "span"
    if spec.kind == "rows":  # PostgreSQL's division gives a float or numeric
        first = int(value) * spec.size
        return f"rows {first}-{first + spec.size - 1}"
    when = value if isinstance(value, datetime) else window_start(value, spec)
    return when.strftime("%Y-%m-%d" if spec.kind == "day" else "%Y-%m-%dT%H:00")


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _accuracy(
    c: Mapping[str, Any],
    reference: Reference,
    drift: DriftReport | NotEnoughData | None,
    options: SummaryOptions,
) -> AccuracyEstimate:
    ood_reason = ood_excess(
        int(c["n_ood"]), int(c["n"]), reference.promises.ood_rate, int(reference.ood_score.size)
    )
    reliable, reasons = reliability(ood_reason, drift)
    lab = (c["sum_c_acc_lab"], c["sum_v_acc_lab"], c["n_acc_lab"], options.min_labels)
    return AccuracyEstimate(
        expected=expected_figure(c["sum_c_acc"], c["sum_v_acc"], c["n_acc"], options.min_count),
        expected_labelled=expected_figure(*lab),
        realised=rate_figure(c["n_acc_ok"], c["n_acc_lab"], options.min_labels),
        gap=gap_figure(c["n_acc_ok"], *lab),
        reliable=reliable,
        reasons=reasons,
    )


def summarise_window(
    counts: Mapping[str, Any],
    histogram: ConfidenceHistogram,
    classes: Sequence[tuple[str, int]],
    *,
    reference: Reference,
    key: str,
    drift: DriftReport | NotEnoughData | None = None,
    notes: Sequence[str] = (),
    options: SummaryOptions | None = None,
) -> WindowSummary:
    """Turn one window's sums, histogram and class counts into figures with intervals.

    Parameters
    ----------
    counts
        The window's row of :func:`~prudent.monitor._sql.window_counts_query`, as a mapping.
    histogram
        Its confidence histogram.
    classes
        ``(class, count)`` of its predictions.
    reference
        The reference (promises and OOD rate).
    key
        The window's display key.
    drift
        Its drift report, when computed.
    notes
        What could not be done.
    options
        Minimum counts and resampling.

    Returns
    -------
    WindowSummary
        The window's figures.
    """
    o = options or SummaryOptions()
    c = {k: (0 if v is None else v) for k, v in counts.items()}
    n, answered = int(c["n"]), int(c["n_answered"])
    predicted = sum(k for _, k in classes)
    return WindowSummary(
        key=key,
        start=_aware(counts["start"]),
        end=_aware(counts["end"]),
        n=n,
        decisions={d: rate_figure(c[f"n_{d}"], n, o.min_count) for d in DECISIONS},
        ood_rate=rate_figure(c["n_ood"], n, o.min_count),
        confidence={q: histogram.quantile(q, o.min_count) for q in QUANTILES},
        mean_set_size=mean_figure(c["sum_set"], c["sum_set2"], answered, o.min_count),
        class_share={str(k): rate_figure(v, predicted, o.min_count) for k, v in classes},
        labelled=int(c["n_labelled"]),
        accepted_accuracy=rate_figure(c["n_acc_ok"], c["n_acc_lab"], o.min_labels),
        high_confidence_errors=rate_figure(c["n_high_wrong"], c["n_high"], o.min_labels),
        calibration=histogram.calibration(o.min_labels, o.n_resamples, o.seed),
        coverage=rate_figure(c["n_covered"], c["n_cov_lab"], o.min_labels),
        accuracy=_accuracy(c, reference, drift, o),
        drift=drift,
        notes=tuple(notes),
    )
