"""Accept thresholds with a finite-sample guarantee: Learn-Then-Test.

:func:`select_threshold` picks the lowest confidence threshold at which, with probability at
least ``1 - delta`` over the draw of the calibration data, the accuracy of the predictions it
accepts is at least ``target_accuracy`` (Angelopoulos, Bates, Candès, Jordan, Lei, 2021,
"Learn then Test", selective classification). For each candidate threshold ``t`` it tests
H0: "the error rate among rows with confidence ≥ t exceeds 1 - target_accuracy" with a
p-value from the exact binomial tail (or the Hoeffding–Bentkus bound), and walks the
candidates from the highest down (fixed-sequence testing, which needs no multiplicity
correction), stopping at the first H0 it cannot reject.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.special import xlogy
from scipy.stats import binom

from prudent._typing import BoolArray, FloatArray, IntArray
from prudent.errors import ConfigError
from prudent.models._thresholds import ThresholdChoice, _validate

__all__ = ["largest_targets", "p_values", "select_threshold"]

Method = Literal["binomial", "hoeffding-bentkus"]
_METHODS = ("binomial", "hoeffding-bentkus")


def _check_params(target_accuracy: float, delta: float, min_accept: int, method: str) -> None:
    if not 0.0 < target_accuracy < 1.0:
        raise ConfigError(f"target_accuracy must lie in (0, 1); got {target_accuracy!r}.")
    if not 0.0 < delta < 1.0:
        raise ConfigError(f"delta must lie in (0, 1); got {delta!r}.")
    if int(min_accept) != min_accept or min_accept < 1:
        raise ConfigError(f"min_accept must be an integer ≥ 1; got {min_accept!r}.")
    if method not in _METHODS:
        raise ConfigError(f"method must be one of {list(_METHODS)}; got {method!r}.")


def p_values(
    n_errors: npt.ArrayLike, n_accepted: npt.ArrayLike, alpha: float, method: str = "binomial"
) -> FloatArray:
    """P-values of H0 "error rate > alpha", from errors among accepted rows.

    Parameters
    ----------
    n_errors, n_accepted
        Errors and rows accepted, per candidate threshold.
    alpha
        The error rate tested, ``1 - target_accuracy``.
    method
        ``"binomial"``: P(Binomial(n, alpha) ≤ errors), exact for 0/1 losses;
        ``"hoeffding-bentkus"``: the Hoeffding–Bentkus bound (Bates et al. 2021).

    Returns
    -------
    ndarray
        One p-value per candidate; 1 where nothing is accepted.

    Examples
    --------
    >>> p_values([0, 5], [100, 100], 0.05).round(4)
    array([0.0059, 0.616 ])
    """
    k = np.asarray(n_errors, dtype=float)
    n = np.asarray(n_accepted, dtype=float)
    p = np.asarray(binom.cdf(k, n, alpha), dtype=float)
    if method == "hoeffding-bentkus":
        rate = np.minimum(np.divide(k, n, out=np.zeros_like(k), where=n > 0), alpha)
        h1 = xlogy(rate, rate / alpha) + xlogy(1 - rate, (1 - rate) / (1 - alpha))
        p = np.minimum(np.exp(-n * h1), math.e * p)
    return np.where(n > 0, np.minimum(p, 1.0), 1.0)


def _candidates(conf: FloatArray, max_candidates: int) -> FloatArray:
    grid = np.unique(conf)
    if grid.size > max_candidates:
        levels = np.linspace(0.0, 1.0, max_candidates)
        grid = np.unique(np.quantile(conf, levels, method="inverted_cdf"))
    return grid[::-1]


def _counts(conf: FloatArray, ok: BoolArray, grid: FloatArray) -> tuple[IntArray, IntArray]:
    order = np.argsort(-conf, kind="stable")
    cum_errors = np.concatenate([[0], np.cumsum(~ok[order])])
    n_acc = conf.size - np.searchsorted(np.sort(conf), grid, side="left")
    return cum_errors[n_acc].astype(np.int64), n_acc.astype(np.int64)


def _walk(
    n_err: IntArray, n_acc: IntArray, target: float, delta: float, min_accept: int, method: str
) -> tuple[FloatArray, IntArray, int]:
    """The fixed sequence: each candidate's p-value, the candidates tested (those that
    could pass with no error, a suffix of the grid), and how many of them pass in a row."""
    alpha = 1.0 - target
    # with no error both methods' p-value is P(Binomial(n, alpha) = 0) = (1 - alpha)^n
    no_error = np.exp(n_acc * np.log1p(-alpha))
    testable = (n_acc >= min_accept) & (n_acc > 0) & (no_error <= delta)
    order = np.flatnonzero(testable)  # a suffix of the grid: n_acc grows as the grid falls
    p = np.ones(n_acc.shape)  # only the tested candidates' p-values are read
    p[order] = p_values(n_err[order], n_acc[order], alpha, method)
    failed = np.flatnonzero(p[order] > delta)
    return p, order, int(failed[0] if failed.size else order.size)


def largest_targets(
    confidence: npt.ArrayLike,
    correct: npt.ArrayLike,
    coverages: tuple[float, ...],
    *,
    delta: float = 0.1,
    max_candidates: int = 2000,
) -> list[float]:
    """Per coverage, the largest accuracy target :func:`select_threshold` (with these
    defaults) promises while accepting at least that share of the rows, to 1e-4 below.

    The plain accuracy of the surest rows at a coverage is not such a target: a target must
    pass its test's margin, and every threshold above (fixed-sequence testing).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> conf = rng.uniform(0.5, 1.0, 2000)
    >>> correct = rng.uniform(size=2000) < conf
    >>> [round(t, 3) for t in largest_targets(conf, correct, (0.35, 1.0))]
    [0.9, 0.74]
    >>> select_threshold(conf, correct, target_accuracy=0.9, delta=0.1).coverage >= 0.35
    True
    """
    conf, ok = _validate(confidence, correct)
    grid = _candidates(conf, max_candidates)
    n_err, n_acc = _counts(conf, ok, grid)
    out = []
    for coverage in coverages:
        need = coverage * conf.size - 1e-9
        lo, hi = 0.0, 1.0  # a target at lo keeps the coverage; one at hi does not
        while hi - lo > 1e-4:
            mid = (lo + hi) / 2
            _, order, stop = _walk(n_err, n_acc, mid, delta, 1, "binomial")
            kept = n_acc[order[stop - 1]] if stop else 0
            lo, hi = (mid, hi) if kept >= need else (lo, mid)
        out.append(lo)
    return out


def select_threshold(
    confidence: npt.ArrayLike,
    correct: npt.ArrayLike,
    *,
    target_accuracy: float = 0.95,
    delta: float = 0.1,
    min_accept: int = 1,
    method: Method = "binomial",
    max_candidates: int = 2000,
) -> ThresholdChoice:
    """Choose the accept threshold by Learn-Then-Test with fixed-sequence testing.

    Parameters
    ----------
    confidence
        Per calibration row, the model's confidence (for example its top probability).
    correct
        Per calibration row, whether the model's prediction was right.
    target_accuracy
        The accuracy promised among accepted predictions.
    delta
        The allowed probability that the promise fails (over the calibration draw).
    min_accept
        Skip thresholds accepting fewer rows. Thresholds that could not pass even with no
        error (too few rows) are always skipped: they carry no evidence.
    method
        How p-values are computed; see :func:`p_values`.
    max_candidates
        Above this many distinct confidences, test this many quantiles instead.

    Returns
    -------
    ThresholdChoice
        The threshold, its coverage and accuracy on the calibration rows, and the test.
        When no threshold passes, ``threshold`` is ``inf``, ``coverage`` 0 and
        ``feasible`` false: accept nothing.

    Raises
    ------
    DataError
        When the arrays are empty, of different lengths or not finite.
    ConfigError
        When a parameter is out of range.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> conf = rng.uniform(0.5, 1.0, 2000)
    >>> correct = rng.uniform(size=2000) < conf  # calibrated: P(correct) = confidence
    >>> choice = select_threshold(conf, correct, target_accuracy=0.9, delta=0.1)
    >>> choice.feasible, round(choice.threshold, 2), round(choice.coverage, 2)
    (True, 0.83, 0.35)

    The ideal threshold is 0.8 (accuracy above t is (1 + t) / 2); the choice errs on the
    safe side by what 2000 rows cannot rule out.
    """
    _check_params(target_accuracy, delta, min_accept, method)
    conf, ok = _validate(confidence, correct)
    grid = _candidates(conf, max_candidates)
    n_err, n_acc = _counts(conf, ok, grid)
    p, order, stop = _walk(n_err, n_acc, target_accuracy, delta, min_accept, method)
    if stop == 0:
        first = float(p[order[0]]) if order.size else 1.0
        return ThresholdChoice(math.inf, 0.0, math.nan, conf.size, 0, first, method, False,
                               target_accuracy, delta)  # fmt: skip
    i = order[stop - 1]
    return ThresholdChoice(
        threshold=float(grid[i]),
        coverage=float(n_acc[i] / conf.size),
        accuracy=float(1.0 - n_err[i] / n_acc[i]),
        n=int(conf.size),
        n_accepted=int(n_acc[i]),
        p_value=float(p[i]),
        method=method,
        feasible=True,
        target_accuracy=target_accuracy,
        delta=delta,
    )
