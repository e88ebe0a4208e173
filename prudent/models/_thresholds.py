"""What an accept threshold is: the choice and its promise, what it gives on rows, and the cost
policy that replaces it.

:class:`ThresholdChoice` records a threshold with what it promises; it is chosen by
Learn-Then-Test (:func:`~prudent.models._learn_then_test.select_threshold`) for an accuracy
target, or under a review budget (:func:`~prudent.models._review_budget.budget_threshold`).
:func:`risk_at` and :func:`reachable_accuracy` measure what a threshold accepts on labelled
rows. :class:`CostPolicy` chooses the label of least expected cost instead of thresholding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from prudent._typing import BoolArray, FloatArray, IntArray, ProbaMatrix
from prudent.errors import ConfigError, DataError

__all__ = [
    "CostPolicy",
    "RiskPoint",
    "ThresholdChoice",
    "reachable_accuracy",
    "risk_at",
]


def _json_float(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class ThresholdChoice:
    """The accept threshold chosen by :func:`~prudent.models._learn_then_test.select_threshold`
    (or under a review budget), with what it promises.

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
