"""Accept thresholds with a finite-sample guarantee (Learn-Then-Test), and a cost policy.

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
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.special import xlogy
from scipy.stats import beta, betabinom, binom

from prudent._typing import BoolArray, FloatArray, IntArray, ProbaMatrix
from prudent.errors import ConfigError, DataError

__all__ = [
    "CostPolicy",
    "RiskPoint",
    "ThresholdChoice",
    "accuracy_lower_bound",
    "batch_tail_rows",
    "budget_threshold",
    "p_values",
    "reachable_accuracy",
    "risk_at",
    "select_threshold",
    "tail_rows",
]

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(24)
"""Gauss–Hermite nodes and weights for the expectation over a standard normal deviate."""
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()

Method = Literal["binomial", "hoeffding-bentkus"]
_METHODS = ("binomial", "hoeffding-bentkus")


def _json_float(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class ThresholdChoice:
    """The accept threshold chosen by :func:`select_threshold`, with what it promises.

    Parameters
    ----------
    threshold
        Accept a prediction when its confidence is ≥ this; ``inf`` when none is safe.
    coverage
        Share of the calibration rows accepted at ``threshold``.
    accuracy
        Accuracy of those accepted rows (``nan`` when none is accepted).
    n
        Number of calibration rows.
    n_accepted
        Number of calibration rows accepted.
    p_value
        The p-value of the chosen threshold's test; when infeasible, of the first test.
    method
        ``"binomial"`` or ``"hoeffding-bentkus"``.
    feasible
        Whether some threshold passed; when false nothing is accepted.
    target_accuracy, delta
        The promise: accuracy ≥ ``target_accuracy`` with probability ≥ ``1 - delta``.
    """

    threshold: float
    coverage: float
    accuracy: float
    n: int
    n_accepted: int
    p_value: float
    method: str
    feasible: bool
    target_accuracy: float
    delta: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields; ``None`` stands for ``inf`` (threshold) or ``nan`` (accuracy)."""
        out = asdict(self)
        for key in ("threshold", "coverage", "accuracy", "p_value"):
            out[key] = _json_float(out[key])
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ThresholdChoice:
        """Rebuild from :meth:`to_dict`'s output."""
        fields = dict(data)
        fields["threshold"] = math.inf if fields["threshold"] is None else fields["threshold"]
        for key in ("coverage", "accuracy", "p_value"):
            fields[key] = math.nan if fields[key] is None else fields[key]
        return cls(**fields)


class RiskPoint(NamedTuple):
    """Coverage and accuracy of the rows accepted at one threshold."""

    threshold: float
    coverage: float
    accuracy: float
    n_accepted: int


def _validate(confidence: npt.ArrayLike, correct: npt.ArrayLike) -> tuple[FloatArray, BoolArray]:
    conf = np.asarray(confidence, dtype=float)
    ok = np.asarray(correct)
    if conf.ndim != 1 or ok.shape != conf.shape:
        raise DataError(
            f"confidence and correct must be 1-D arrays of one length; got shapes "
            f"{conf.shape} and {ok.shape}. Pass one confidence and one outcome per row."
        )
    if conf.size == 0:
        raise DataError("confidence is empty; a threshold needs calibration rows.")
    if not np.isfinite(conf).all():
        raise DataError(f"confidence has {int((~np.isfinite(conf)).sum())} non-finite values.")
    if ok.dtype != bool and not np.isin(ok, (0, 1)).all():
        raise DataError("correct must hold booleans or 0/1; got other values.")
    return conf, ok.astype(bool)


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
    alpha = 1.0 - target_accuracy
    grid = _candidates(conf, max_candidates)
    n_err, n_acc = _counts(conf, ok, grid)
    p = p_values(n_err, n_acc, alpha, method)
    testable = (n_acc >= min_accept) & (
        p_values(np.zeros_like(n_acc), n_acc, alpha, method) <= delta
    )
    order = np.flatnonzero(testable)  # a suffix of the grid: n_acc grows as the grid falls
    failed = np.flatnonzero(p[order] > delta)
    stop = failed[0] if failed.size else order.size
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


def accuracy_lower_bound(n_correct: int, n: int, delta: float) -> float:
    """The one-sided Clopper–Pearson lower bound on an accuracy, at level ``1 - delta``.

    Examples
    --------
    >>> round(accuracy_lower_bound(90, 100, 0.1), 3)
    0.85
    """
    if n <= 0 or n_correct <= 0:
        return 0.0
    return float(beta.ppf(delta, n_correct, n - n_correct + 1))


def tail_rows(n: int, share: float, delta: float) -> int:
    """The most of ``n`` rows that a threshold set among them may leave on its far side
    (itself included) so that the population share there stays within ``share`` with
    probability ``1 - delta`` (0 when even one row is too many).

    The share of the population at or below the ``k``-th smallest of ``n`` exchangeable
    scores is distributed Beta(k, n - k + 1) (and, by symmetry, the share at or above the
    ``k``-th largest): the count is the largest ``k`` whose ``1 - delta`` quantile stays
    within ``share``. A plain ``share`` quantile keeps the share only on average, and new
    rows exceed it about half of the time.

    Examples
    --------
    >>> tail_rows(2000, 0.15, 0.1), int(0.15 * 2000)  # about 1.3 standard errors fewer
    (280, 300)
    >>> tail_rows(400, 0.05, 0.1), tail_rows(10, 0.15, 0.1)
    (15, 0)
    """
    # beyond k = share * (n + 1) + 1 even the mean of Beta(k, n - k + 1) exceeds the share,
    # so no larger k can fit
    k = np.arange(1, min(n, int(share * (n + 1)) + 1) + 1)
    fits = np.flatnonzero(beta.ppf(1.0 - delta, k, n - k + 1) <= share)
    return int(fits[-1]) + 1 if fits.size else 0


def batch_tail_rows(n: int, share: float, delta: float, batch: int, spread: float = 0.0) -> int:
    """The most of ``n`` rows that a threshold set among them may leave on its far side
    (itself included) so that, of a new batch of ``batch`` rows, more than ``share`` land
    there with probability at most ``delta`` (0 when even one row is too many).

    The batch's count there is Binomial(batch, U) with U ~ Beta(k, n - k + 1) (see
    :func:`tail_rows`): Beta-binomial. Against :func:`tail_rows`, which bounds the population
    share, this also allows for the batch's own sampling noise, so a user who counts the share
    on a batch as large as the rows that set the threshold finds it within ``share`` with
    probability ``1 - delta`` (about 1.8 standard errors of margin where the population
    bound keeps 1.3).

    ``spread`` allows besides for a model whose share moves from one training to the next
    (:func:`~prudent.models._spread.realization_spread`): the new batch is scored by another
    training, whose share is shifted by a normal deviate of that standard deviation
    (integrated by Gauss–Hermite quadrature). With ``spread`` 0 the bound is the one above.

    Examples
    --------
    >>> batch_tail_rows(2000, 0.15, 0.1, 2000), tail_rows(2000, 0.15, 0.1)
    (272, 280)
    >>> batch_tail_rows(2000, 0.15, 0.1, 10**7) == tail_rows(2000, 0.15, 0.1)
    True
    >>> batch_tail_rows(2000, 0.15, 0.1, 2000, spread=0.02)  # a spread of 2 points
    242
    """
    limit = math.floor(share * batch + 1e-9)  # more than this many is over the share
    # the counts beyond which the batch goes over, under each shift of the training's share
    limits = np.floor(limit - batch * spread * _NODES + 1e-9) if spread > 0 else limit

    def keeps(k: int) -> bool:
        over = betabinom.sf(limits, batch, k, n - k + 1)
        return bool(np.dot(_WEIGHTS, over) <= delta if spread > 0 else over <= delta)

    lo, hi = 0, min(n, int(share * (n + 1)) + 1)  # keeps(lo) (none), keeps(hi) unknown
    if hi >= 1 and keeps(hi):
        return hi
    while hi - lo > 1:  # the chance of going over grows with k: bisect
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if keeps(mid) else (lo, mid)
    return lo


def budget_threshold(
    confidence: npt.ArrayLike,
    correct: npt.ArrayLike,
    *,
    review_share: float,
    delta: float = 0.1,
    flagged: int = 0,
    spread: float = 0.0,
) -> ThresholdChoice:
    """The accept threshold that sends at most ``review_share`` of new rows to review.

    The share holds on a new batch of rows from the same distribution with probability
    ``1 - delta``, not just on these rows nor only in the long run: a batch as large as these
    rows (``flagged`` included) goes over the share with probability at most ``delta``
    (:func:`batch_tail_rows`). At the plain ``review_share`` quantile, new rows exceed the
    budget half of the time. With very few rows no threshold keeps the bound, and none is
    sent to review for confidence alone.

    Rows an earlier check of the same sample already sends to review (``flagged``: the OOD
    detector's alarms, whose threshold was set among these rows) count against the budget as
    the lowest scores of one ordering: the review region is then a union of the sample's
    statistically equivalent blocks (Tukey), cut first by the OOD score and then by
    confidence, so the same order-statistic bound covers both parts together.

    The accuracy promise is measured, not requested: the accuracy of the accepted rows, as a
    Clopper–Pearson lower bound at level ``1 - delta`` (stored as ``target_accuracy``), so it
    holds on new rows from the same distribution with probability about ``1 - delta``.

    Parameters
    ----------
    confidence
        Per calibration row that is not flagged, the confidence of the label the model gives.
    correct
        Per such row, whether that label was right.
    review_share
        The largest share of rows sent to review, in ``[0, 1)``.
    delta
        The allowed probability that the promised accuracy is not reached, and that a batch
        goes over ``review_share``.
    flagged
        Rows of the same sample already sent to review, not in ``confidence``.
    spread
        How much the share sent to review moves from one training of the model to the next
        (the folds' spread, :func:`~prudent.models._spread.realization_spread`): the model
        that scores new rows is another training. 0 treats it as the one that scored these.

    Returns
    -------
    ThresholdChoice
        With ``method="review budget"``; always feasible.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> conf = rng.uniform(0.5, 1.0, 2000)
    >>> choice = budget_threshold(conf, rng.uniform(size=2000) < conf, review_share=0.2)
    >>> round(choice.coverage, 3), round(choice.accuracy, 2), round(choice.target_accuracy, 2)
    (0.816, 0.79, 0.78)

    100 rows more that the OOD detector flagged take their part of the budget first:

    >>> round(budget_threshold(conf, conf > 0.6, review_share=0.2, flagged=100).coverage, 3)
    0.857
    """
    if not 0.0 <= review_share < 1.0:
        raise ConfigError(f"review_share must lie in [0, 1); got {review_share!r}.")
    conf, ok = _validate(confidence, correct)
    rows = conf.size + flagged
    below = max(batch_tail_rows(rows, review_share, delta, rows, spread) - 1 - flagged, 0)
    threshold = float(np.sort(conf)[below])
    accepted = conf >= threshold
    n_acc, n_ok = int(accepted.sum()), int(ok[accepted].sum())
    return ThresholdChoice(
        threshold=threshold,
        coverage=n_acc / conf.size,
        accuracy=n_ok / n_acc,
        n=int(conf.size),
        n_accepted=n_acc,
        p_value=delta,
        method="review budget",
        feasible=True,
        target_accuracy=accuracy_lower_bound(n_ok, n_acc, delta),
        delta=delta,
    )


def reachable_accuracy(
    confidence: npt.ArrayLike,
    correct: npt.ArrayLike,
    coverages: tuple[float, ...] = (0.25, 0.5, 0.7, 0.8, 0.9, 1.0),
) -> list[dict[str, float]]:
    """The accuracy of the most confident rows at several coverages.

    Examples
    --------
    >>> reachable_accuracy([0.9, 0.8, 0.7, 0.6], [True, True, False, True], (0.5, 1.0))
    [{'coverage': 0.5, 'accuracy': 1.0}, {'coverage': 1.0, 'accuracy': 0.75}]
    """
    conf, ok = _validate(confidence, correct)
    ranked = ok[np.argsort(-conf, kind="stable")]
    out = []
    for c in coverages:
        n = max(1, round(c * conf.size))
        out.append({"coverage": float(c), "accuracy": float(ranked[:n].mean())})
    return out


def risk_at(confidence: npt.ArrayLike, correct: npt.ArrayLike, threshold: float) -> RiskPoint:
    """Coverage and accuracy of the rows whose confidence is ≥ ``threshold``.

    Examples
    --------
    >>> risk_at([0.9, 0.8, 0.6, 0.95], [True, False, True, True], 0.8)
    RiskPoint(threshold=0.8, coverage=0.75, accuracy=0.6666666666666666, n_accepted=3)
    """
    conf, ok = _validate(confidence, correct)
    accepted = conf >= threshold
    n_acc = int(accepted.sum())
    acc = float(ok[accepted].mean()) if n_acc else math.nan
    return RiskPoint(float(threshold), n_acc / conf.size, acc, n_acc)


class CostPolicy:
    """Choose the label of least expected cost, or review when even that costs too much.

    Parameters
    ----------
    costs
        A ``(k, k)`` matrix: ``costs[i, j]`` is the cost of predicting class ``j`` when the
        truth is class ``i`` (rows follow the classes' order). Non-negative, zero diagonal.
    review_cost
        The cost of sending a row to human review.

    Raises
    ------
    ConfigError
        When the matrix is not square, has negative or non-finite entries or a non-zero
        diagonal, or ``review_cost`` is negative or not finite.

    Examples
    --------
    >>> policy = CostPolicy([[0, 1], [10, 0]], review_cost=0.5)
    >>> label, cost = policy.choose(np.array([[0.97, 0.03], [0.7, 0.3]]))
    >>> label.tolist(), cost.round(2).tolist()
    ([0, 1], [0.3, 0.7])
    """

    __slots__ = ("_costs", "_review_cost")

    def __getstate__(self) -> dict[str, Any]:
        """State for pickling and skops (slots have no ``__dict__``)."""
        return {"costs": self._costs.tolist(), "review_cost": self._review_cost}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuild (and re-validate) from :meth:`__getstate__`."""
        self.__init__(state["costs"], state["review_cost"])  # type: ignore[misc]

    def __init__(self, costs: npt.ArrayLike, review_cost: float) -> None:
        matrix = np.array(costs, dtype=float)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 2:
            raise ConfigError(
                f"CostPolicy costs must be a square (k, k) matrix with k ≥ 2, one row and one "
                f"column per class; got shape {matrix.shape}."
            )
        if not np.isfinite(matrix).all() or (matrix < 0).any():
            bad = tuple(int(x) for x in np.argwhere(~(matrix >= 0) | ~np.isfinite(matrix))[0])
            raise ConfigError(
                f"CostPolicy costs must be finite and ≥ 0; got {matrix[bad]} at {list(bad)}."
            )
        if (np.diag(matrix) != 0).any():
            i = int(np.flatnonzero(np.diag(matrix))[0])
            raise ConfigError(
                f"CostPolicy costs must have a zero diagonal (a right answer costs nothing); "
                f"got {matrix[i, i]} at [{i}, {i}]. Set it to 0."
            )
        if not (math.isfinite(review_cost) and review_cost >= 0):
            raise ConfigError(f"CostPolicy review_cost must be finite and ≥ 0; got {review_cost}.")
        matrix.flags.writeable = False
        self._costs = matrix
        self._review_cost = float(review_cost)

    @property
    def costs(self) -> FloatArray:
        """The (read-only) cost matrix."""
        return self._costs

    @property
    def review_cost(self) -> float:
        """The cost of a review."""
        return self._review_cost

    def __repr__(self) -> str:
        return f"CostPolicy(costs={self._costs.tolist()}, review_cost={self._review_cost})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CostPolicy):
            return NotImplemented
        same = np.array_equal(self._costs, other._costs)
        return same and self._review_cost == other._review_cost

    __hash__ = None  # type: ignore[assignment]

    def expected_costs(self, proba: ProbaMatrix) -> FloatArray:
        """Per row and class, the expected cost of predicting that class.

        Raises
        ------
        ConfigError
            When ``proba`` has not one column per class of the matrix.
        """
        p = np.asarray(proba, dtype=float)
        if p.ndim != 2 or p.shape[1] != self._costs.shape[0]:
            raise ConfigError(
                f"CostPolicy has costs for {self._costs.shape[0]} classes, but the "
                f"probabilities have shape {p.shape}; give one row and column per class."
            )
        return np.asarray(p @ self._costs, dtype=float)

    def choose(self, proba: ProbaMatrix) -> tuple[IntArray, FloatArray]:
        """Per row, the index of the cheapest class and its expected cost."""
        expected = self.expected_costs(proba)
        label = expected.argmin(axis=1).astype(np.int64)
        return label, expected[np.arange(len(label)), label]

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"costs": [[...]], "review_cost": x}``."""
        return {"costs": self._costs.tolist(), "review_cost": self._review_cost}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CostPolicy:
        """Rebuild from :meth:`to_dict`'s output."""
        return cls(data["costs"], data["review_cost"])
