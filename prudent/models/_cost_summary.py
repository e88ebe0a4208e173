"""What decisions cost per row, beside sending every row to review and trusting the model alone.

With a cost matrix the decision is the cheapest of answering (the label of least expected cost)
and reviewing; its worth is measured the same way on held-out and on test rows: the mean
realised cost per row of the decisions, of all-review (every row costs a review) and of the
model alone (every row answered with its cheapest label).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from prudent._typing import BoolArray, EncodedLabels, ProbaMatrix
from prudent.models._cascade import CascadePolicy, decide
from prudent.models._decisions import DecisionKind, Decisions
from prudent.models._thresholds import CostPolicy

__all__ = ["cost_summary", "held_out_costs"]


def cost_summary(
    cost: CostPolicy,
    decisions: Decisions,
    P: ProbaMatrix,
    y: EncodedLabels,
    classes: Sequence[Any],
) -> dict[str, float]:
    """Mean realised cost per row of the decisions, of all-review and of the model alone.

    Parameters
    ----------
    cost
        The cost matrix (rows = true class, columns = predicted) and the review cost.
    decisions
        The rows' decisions (a row without a label costs a review).
    P
        The primary's calibrated probabilities of the rows (for the model alone).
    y
        The rows' encoded labels.
    classes
        The class labels, in the matrix's order.

    Returns
    -------
    dict
        ``decisions`` (with ``decisions_se``, its standard error), ``all_review``,
        ``model_only``, ``coverage`` (the share the primary answered) and ``n``.

    Examples
    --------
    >>> policy = CascadePolicy(0.0, cost_policy=CostPolicy([[0, 1], [10, 0]], review_cost=0.5))
    >>> P = np.array([[0.97, 0.03], [0.7, 0.3]])
    >>> d = decide(policy, classes=["a", "b"], primary_proba=P)
    >>> s = cost_summary(policy.cost_policy, d, P, np.array([0, 1]), ["a", "b"])
    >>> s["decisions"], s["all_review"], s["model_only"]  # row 2 (cheapest 0.7) is reviewed
    (0.25, 0.5, 0.0)
    """
    index = {str(c): i for i, c in enumerate(classes)}
    given = np.array([-1 if x is None else index[str(x)] for x in decisions.label], dtype=int)
    matrix = cost.costs
    paid = np.where(given >= 0, matrix[y, np.maximum(given, 0)], cost.review_cost)
    alone = matrix[y, cost.choose(P)[0]]
    n = len(y)
    return {
        "decisions": float(paid.mean()) if n else float("nan"),
        "decisions_se": float(paid.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
        "all_review": float(cost.review_cost),
        "model_only": float(alone.mean()) if n else float("nan"),
        "coverage": float(np.mean(decisions.kind == DecisionKind.ACCEPT)) if n else 0.0,
        "n": int(n),
    }


def held_out_costs(
    policy: CascadePolicy,
    P: ProbaMatrix,
    B: ProbaMatrix | None,
    y: EncodedLabels,
    in_distribution: BoolArray,
) -> dict[str, float] | None:
    """:func:`cost_summary` of ``policy`` on held-out rows (OOD ones go to review), with the
    least and the largest expected cost of answering an in-distribution row
    (``answer_cost_min``, ``answer_cost_max``)."""
    if policy.cost_policy is None:
        return None
    names = [str(i) for i in range(P.shape[1])]
    flagged = dataclasses.replace(policy, ood_threshold=0.5)
    decisions = decide(
        flagged,
        classes=names,
        primary_proba=P,
        backup_proba=B,
        ood_score=np.where(in_distribution, 0.0, 1.0),
    )
    out = cost_summary(policy.cost_policy, decisions, P, y, names)
    answer = policy.cost_policy.choose(P[np.asarray(in_distribution, bool)])[1]
    if len(answer):  # what answering costs in expectation, against a review
        out |= {"answer_cost_min": float(answer.min()), "answer_cost_max": float(answer.max())}
    return out
