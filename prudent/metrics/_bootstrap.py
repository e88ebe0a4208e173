"""Percentile-bootstrap confidence intervals for many scores at once.

The resample indices are drawn once (in blocks, to bound memory) and shared by every score.
The registry's scores are computed for a whole block of resamples at once from per-row
quantities worked out once (correctness, log-loss and Brier terms, ECE bins); any other
:class:`Score` falls back to calling its function on each resample.

On many rows each resample draws ``max_rows`` of them, not all (the m-out-of-n bootstrap):
a score's spread over resamples of ``m`` rows is ``sqrt(n / m)`` times its spread over
resamples of ``n``, so each resampled value's distance from the point estimate is scaled by
``sqrt(m / n)`` before the percentiles are read. The scores here are smooth functions of
row means, for which the rescaled law is the same to first order; on 400,000 rows the
interval costs an eighth of the full bootstrap (3.5 s of CPU per model in a 60 s fit), and
its width differs by about what two runs of the full bootstrap's 200 resamples do.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from prudent._typing import BoolArray, FloatArray, IntArray
from prudent.errors import ConfigError
from prudent.metrics._calibration_test import bin_index, grouped_ece
from prudent.metrics._classification import (
    LOG_LOSS_EPS,
    SCORES,
    Score,
    accuracy,
    balanced_accuracy,
    brier_rows,
    brier_score,
    expected_calibration_error,
    log_loss,
    macro_f1,
)
from prudent.metrics._results import Interval
from prudent.metrics._validation import check_labels_proba, top_label

__all__ = ["bootstrap_scores"]

_CELLS_PER_BLOCK = 2_000_000
_ECE_BINS = 15  # expected_calibration_error's default, used by the registry


@dataclass(frozen=True)
class _Rows:
    """Per-row quantities from which the registry's scores are rebuilt on any resample."""

    y: IntArray
    pred: IntArray
    correct: BoolArray
    n_classes: int
    nll: FloatArray
    brier: FloatArray
    ece_bin: IntArray
    ece_gap: FloatArray

    @classmethod
    def of(cls, y: IntArray, proba: FloatArray) -> _Rows:
        conf, ok = top_label(y, proba)
        given = proba[np.arange(y.shape[0]), y]
        return cls(
            y=y,
            pred=proba.argmax(axis=1),
            correct=ok,
            n_classes=proba.shape[1],
            nll=-np.log(np.clip(given, LOG_LOSS_EPS, 1.0)),
            brier=brier_rows(y, proba),
            ece_bin=bin_index(conf, _ECE_BINS),
            ece_gap=ok - conf,
        )


class _Block:
    """One block of resamples, with the per-class counts shared by several scores."""

    def __init__(self, rows: _Rows, idx: npt.NDArray[np.integer[Any]]) -> None:
        self.rows = rows
        self.idx = idx
        self.size = idx.shape[0]
        offsets = np.arange(self.size)[:, None] * rows.n_classes
        self.keys = (offsets + rows.y[idx]).ravel()
        self.pred_keys = (offsets + rows.pred[idx]).ravel()
        self.hit = rows.correct[idx].ravel()

    def _per_class(self, keys: IntArray) -> FloatArray:
        k = self.rows.n_classes
        return np.bincount(keys, minlength=self.size * k).reshape(self.size, k).astype(np.float64)

    @functools.cached_property
    def support(self) -> FloatArray:
        return self._per_class(self.keys)

    @functools.cached_property
    def hits(self) -> FloatArray:
        return self._per_class(self.keys[self.hit])

    def mean_of(self, per_row: npt.NDArray[Any]) -> FloatArray:
        means: FloatArray = per_row[self.idx].mean(axis=1)
        return means


def _balanced_accuracy(block: _Block) -> FloatArray:
    present = block.support > 0
    recall = np.divide(block.hits, block.support, out=np.zeros(present.shape), where=present)
    result: FloatArray = recall.sum(axis=1) / present.sum(axis=1)
    return result


def _macro_f1(block: _Block) -> FloatArray:
    denom = block.support + block._per_class(block.pred_keys)
    seen = denom > 0
    f1 = np.divide(2.0 * block.hits, denom, out=np.zeros(seen.shape), where=seen)
    result: FloatArray = f1.sum(axis=1) / seen.sum(axis=1)
    return result


def _ece(block: _Block) -> FloatArray:
    rows, idx = block.rows, block.idx
    groups = np.arange(block.size)[:, None]
    return grouped_ece(groups, rows.ece_bin[idx], rows.ece_gap[idx], block.size, _ECE_BINS)


_BATCHED: dict[Callable[..., float], Callable[[_Block], FloatArray]] = {
    accuracy: lambda b: b.mean_of(b.rows.correct),
    balanced_accuracy: _balanced_accuracy,
    macro_f1: _macro_f1,
    log_loss: lambda b: b.mean_of(b.rows.nll),
    brier_score: lambda b: b.mean_of(b.rows.brier),
    expected_calibration_error: _ece,
}


def bootstrap_scores(
    y: npt.ArrayLike,
    proba: npt.ArrayLike,
    scores: Mapping[str, Score] = SCORES,
    n_boot: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    max_rows: int = 50_000,
) -> dict[str, Interval]:
    """Return each score on all rows with a percentile-bootstrap confidence interval.

    Parameters
    ----------
    y
        Class indices, shape ``(n,)``.
    proba
        Class probabilities, shape ``(n, k)``.
    scores
        The scores to compute, by name; the registry's scores take a fast vectorised path.
    n_boot
        The number of bootstrap resamples (rows drawn with replacement).
    confidence
        The coverage of the interval, in ``(0, 1)``.
    seed
        Seed of the random generator; the same seed gives the same intervals.
    max_rows
        The most rows one resample draws; with more rows, the rescaled m-out-of-n
        bootstrap (see the module's docstring).

    Returns
    -------
    dict
        Score name → :class:`Interval` ``(point, low, high)``, in the order of ``scores``.

    Raises
    ------
    DataError
        When ``y`` and ``proba`` do not describe the same rows and classes.
    ConfigError
        When ``n_boot`` is not a positive integer or ``confidence`` is not in ``(0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p1 = rng.uniform(size=500)
    >>> y = (rng.uniform(size=500) < p1).astype(int)
    >>> ci = bootstrap_scores(y, np.column_stack([1 - p1, p1]))["accuracy"]
    >>> bool(ci.low < ci.point < ci.high)
    True
    """
    labels, p = check_labels_proba(y, proba)
    _check_options(n_boot, confidence)
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ConfigError(f"max_rows must be a positive integer, but is {max_rows!r}.")
    n = labels.shape[0]
    draw = min(n, max_rows)
    values = _resampled_values(labels, p, scores, n_boot, np.random.default_rng(seed), draw)
    tail = (1.0 - confidence) / 2.0
    out = {}
    for name, score in scores.items():
        point = float(score.function(labels, p))
        spread = values[name] if draw == n else point + (values[name] - point) * np.sqrt(draw / n)
        if score.resampling_bias:  # the resamples' excess over the point taken back off
            spread = np.maximum(spread - (np.mean(spread) - point), 0.0)
        low, high = np.quantile(spread, [tail, 1.0 - tail])
        out[name] = Interval(point=point, low=float(low), high=float(high))
    return out


def _resampled_values(
    y: IntArray,
    proba: FloatArray,
    scores: Mapping[str, Score],
    n_boot: int,
    rng: np.random.Generator,
    draw: int,
) -> dict[str, FloatArray]:
    """Return every score on ``n_boot`` shared resamples of ``draw`` rows each, drawn in
    memory-bounded blocks."""
    n = y.shape[0]
    rows = _Rows.of(y, proba)
    block = max(1, _CELLS_PER_BLOCK // draw)
    values = {name: np.empty(n_boot) for name in scores}
    index_dtype = np.int32 if n < 2**31 else np.int64  # int32 draws are several times faster
    for start in range(0, n_boot, block):
        size = min(block, n_boot - start)
        idx = rng.integers(0, n, size=(size, draw), dtype=index_dtype)
        shared = _Block(rows, idx)
        for name, score in scores.items():
            fast = _BATCHED.get(score.function)
            if fast is not None:
                values[name][start : start + size] = fast(shared)
            else:
                values[name][start : start + size] = [score.function(y[i], proba[i]) for i in idx]
    return values


def _check_options(n_boot: int, confidence: float) -> None:
    """Raise a ``ConfigError`` for a non-positive ``n_boot`` or a confidence outside (0, 1)."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ConfigError(f"n_boot must be a positive integer, but is {n_boot!r}; pass e.g. 200.")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(
            f"confidence must lie strictly between 0 and 1, but is {confidence!r}; pass e.g. 0.95."
        )
