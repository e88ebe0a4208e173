"""The promises that depend on the thresholds, measured on decided rows with known labels:
the accuracy of accepted rows, the review share, the coverage, the backup's decisions and,
with a cost matrix, the expected cost per row. The fit measures them on the locked test set
(:func:`~prudent.pipeline._promises.measure_promises`); ``Bundle.retune`` again after
setting new thresholds."""

from __future__ import annotations

from typing import Any

import numpy as np

from prudent._format import at_least
from prudent._typing import BoolArray, EncodedLabels, IntArray, Labels, ProbaMatrix
from prudent.models._cost_summary import cost_summary
from prudent.models._decisions import DecisionKind, Decisions
from prudent.models._thresholds import CostPolicy

__all__ = [
    "DECISION_PROMISES",
    "decision_outcome",
    "decision_promises",
    "decision_test_section",
    "effective_rows",
    "worth_of",
]


def effective_rows(hits: Any, groups: IntArray | None) -> float:
    """How many independent rows ``hits`` (one 0/1 outcome per row) are worth: all of them;
    with ``groups`` (``--group``: a group's rows rise and fall together), their number over
    the design effect of the outcome's clustering, the cluster-robust variance of its mean
    over the variance rows alone would give (at least 1). When every outcome is alike, the
    groups count.

    A promise kept "within 2 standard errors" of the locked test's rows then allows for the
    test's groups: 60 people of 6 visits each are 60 draws of an OOD flag, not 360.

    Examples
    --------
    >>> hits = np.repeat([1, 0, 0, 0, 0], 6)  # five groups of six alike
    >>> effective_rows(hits, None), round(effective_rows(hits, np.repeat(np.arange(5), 6)), 6)
    (30, 5.0)
    """
    x = np.asarray(hits, dtype=np.float64)
    n = len(x)
    if groups is None or n == 0:
        return n
    _, codes = np.unique(np.asarray(groups), return_inverse=True)
    p = float(x.mean())
    if p in (0.0, 1.0):
        return float(codes.max() + 1)
    clustered = float((np.bincount(codes, weights=x - p) ** 2).sum()) / n**2
    return n / max(1.0, clustered / (p * (1 - p) / n))


def worth_of(hits: Any, rows: BoolArray, groups: IntArray | None) -> float:
    """:func:`effective_rows` of the outcomes ``hits`` of the rows ``rows`` selects."""
    return effective_rows(np.asarray(hits)[rows], None if groups is None else groups[rows])


def _right(decisions: Decisions, classes: Labels, y: EncodedLabels) -> BoolArray:
    """Per row, whether the label given is the true one."""
    return np.asarray(decisions.label.astype(str) == np.asarray(classes)[y].astype(str))


def _tolerance(p: float, n: float) -> float:
    return 2.0 * float(np.sqrt(p * (1 - p) / max(n, 1)))


def _promise(name: str, promised: str, measured: str, kept: bool | None) -> dict[str, Any]:
    return {"name": name, "promised": promised, "measured": measured, "kept": kept}


def decision_outcome(
    decisions: Decisions,
    classes: Labels,
    y: EncodedLabels,
    kind: DecisionKind = DecisionKind.ACCEPT,
) -> tuple[BoolArray, float]:
    """Which rows got ``kind`` (the primary accepted), and their accuracy (``nan``: none)."""
    accepted = np.asarray(decisions.kind == kind, dtype=bool)
    given = decisions.label[accepted].astype(str)
    right = given == np.asarray(classes)[y[accepted]].astype(str)
    return accepted, float(right.mean()) if accepted.any() else float("nan")


def _accuracy_promise(
    accept: dict[str, Any],
    delta: float,
    accepted: BoolArray,
    acc: float,
    worth: float,
) -> dict[str, Any]:
    """Accuracy of accepted rows ≥ the promised bound, kept within 2 standard errors (of the
    accepted rows, or of their groups' worth: :func:`effective_rows`)."""
    target = accept.get("target_accuracy")
    n = int(accepted.sum())
    if not accept.get("feasible") or target is None:
        return _promise(
            "accuracy of accepted predictions",
            "no accept threshold: the model never auto-accepts",
            f"{n} accepted",
            n == 0,
        )
    kept = bool(n == 0 or acc >= target - _tolerance(target, worth))
    return _promise(
        "accuracy of accepted predictions",
        f"≥ {at_least(target)} (with prob. ≥ {1 - delta:.2f}; kept within 2 standard errors)",
        f"{acc:.3f} on {n} accepted" if n else "nothing accepted",
        kept,
    )


def _review_promise(
    budget: float | None, decisions: Decisions, groups: IntArray | None
) -> dict[str, Any] | None:
    """The share of (in-distribution) test rows sent to review, against the review budget."""
    if budget is None:
        return None
    review = np.asarray(decisions.kind == DecisionKind.REVIEW)
    share = float(review.mean())
    return _promise(
        "share of in-distribution rows sent to review",
        f"≤ {budget:.3f} (the review budget; kept within 2 standard errors)",
        f"{share:.3f}",
        share <= budget + _tolerance(budget, effective_rows(review, groups)),
    )


def _backup_promise(
    thresholds: dict[str, Any],
    decisions: Decisions,
    classes: Labels,
    y: EncodedLabels,
    right: BoolArray,
    groups: IntArray | None,
) -> dict[str, Any]:
    """The backup's own accuracy when it decides rows, or that it decides none (``right``:
    per row, whether its label is the true one)."""
    done, acc = decision_outcome(decisions, classes, y, DecisionKind.BACKUP)
    n = int(done.sum())
    backup = thresholds.get("backup") or {}
    if (thresholds.get("backup_role") or {}).get("role") != "decides":
        return _promise(
            "backup decisions",
            "none: the backup answers only when the primary model fails",
            f"{n} backup decision(s)",
            n == 0,
        )
    target = float(backup["target_accuracy"])
    return _promise(
        "accuracy of backup decisions",
        f"≥ {at_least(target)} (its own, on rows the primary leaves; kept within 2 standard "
        "errors)",
        f"{acc:.3f} on {n} backup decisions" if n else "no backup decision",
        bool(n == 0 or acc >= target - _tolerance(target, worth_of(right, done, groups))),
    )


DECISION_PROMISES = (
    "expected cost per row",
    "accuracy of accepted predictions",
    "share of in-distribution rows sent to review",
    "coverage (share accepted)",
    "backup decisions",
    "accuracy of backup decisions",
)
"""The promises that depend on the thresholds (the others do not change with them)."""


def _test_costs(
    thresholds: dict[str, Any], decisions: Decisions, P: ProbaMatrix, classes: Labels, y: Any
) -> dict[str, float] | None:
    chosen = (thresholds.get("policy") or {}).get("cost_policy")
    if chosen is None:
        return None
    return cost_summary(CostPolicy.from_dict(chosen), decisions, P, y, list(classes))


def _costs_text(c: dict[str, float]) -> str:
    return (
        f"{c['decisions']:.3f} (all-review {c['all_review']:.3f}, model only {c['model_only']:.3f})"
    )


def _cost_promises(
    thresholds: dict[str, Any], test: dict[str, float], classes: Labels, acc: float
) -> list[dict[str, Any]]:
    """With a cost matrix: expected cost per row instead of an accuracy target."""
    val = thresholds["costs"]
    order = ", ".join(str(c) for c in classes)
    kept = test["decisions"] <= val["decisions"] + 2 * np.nan_to_num(test["decisions_se"])
    n = round(test["coverage"] * test["n"])
    return [
        _promise(
            "expected cost per row",
            f"≤ {_costs_text(val)} on validation, kept within 2 standard errors; costs: rows "
            f"= true class, columns = predicted, class order {order}",
            f"{_costs_text(test)} on the test rows",
            bool(kept),
        ),
        _promise(
            "accuracy of accepted predictions",
            "none promised: the cost matrix decides, not an accuracy target",
            f"{acc:.3f} on {n} accepted" if n else "nothing accepted",
            None,
        ),
        _promise(
            "coverage (share accepted)",
            f"{val['coverage']:.3f} on validation",
            f"{test['coverage']:.3f}",
            None,
        ),
    ]


def decision_promises(
    thresholds: dict[str, Any],
    delta: float,
    decisions: Decisions,
    classes: Labels,
    y: EncodedLabels,
    P: ProbaMatrix,
    groups: IntArray | None = None,
) -> list[dict[str, Any]]:
    """The promises of the thresholds, measured on decided rows with known labels.

    Parameters
    ----------
    thresholds
        What the thresholds were chosen from (``trust.thresholds`` in the manifest).
    delta
        The allowed chance a promised accuracy is missed.
    decisions, classes, y
        The rows' decisions, the class labels and the rows' encoded labels.
    P
        The primary's calibrated probabilities of the rows (for the cost of the model alone).
    groups
        Each row's group when the fit split by group (``--group``): a promise's 2 standard
        errors count the groups' worth of rows (:func:`effective_rows`).

    Returns
    -------
    list of dict
        ``name``, ``promised``, ``measured`` and ``kept`` (``None``: reported, not promised),
        named as in :data:`DECISION_PROMISES`.
    """
    accepted, acc = decision_outcome(decisions, classes, y)
    test_costs = _test_costs(thresholds, decisions, P, classes, y)
    right = _right(decisions, classes, y)
    if test_costs is not None and thresholds.get("costs"):
        backup = _backup_promise(thresholds, decisions, classes, y, right, groups)
        return [*_cost_promises(thresholds, test_costs, classes, acc), backup]
    worth = worth_of(right, accepted, groups)
    promises = [
        _accuracy_promise(thresholds["accept"], delta, accepted, acc, worth),
        _review_promise(thresholds.get("review_budget"), decisions, groups),
        _promise(
            "coverage (share accepted)",
            f"{thresholds['accept']['coverage']:.3f} on validation",
            f"{accepted.mean():.3f}",
            None,
        ),
        _backup_promise(thresholds, decisions, classes, y, right, groups),
    ]
    return [p for p in promises if p is not None]


def decision_test_section(
    thresholds: dict[str, Any],
    decisions: Decisions,
    classes: Labels,
    y: EncodedLabels,
    P: ProbaMatrix,
) -> dict[str, Any]:
    """The decision figures of the locked test: counts per kind, coverage, accepted accuracy
    (and, with a cost matrix, the costs per row, as :func:`decision_promises` reads them)."""
    accepted, acc = decision_outcome(decisions, classes, y)
    kinds, counts = np.unique(decisions.kind.astype(str), return_counts=True)
    return {
        "decisions": {str(k): int(v) for k, v in zip(kinds, counts, strict=True)},
        "accepted_accuracy": acc,
        "coverage": float(accepted.mean()) if len(accepted) else 0.0,
        "costs": _test_costs(thresholds, decisions, P, classes, y),
    }
