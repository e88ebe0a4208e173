"""The default decision policy: which label each model gives, and when it answers alone.

Labels. Each model gives the class of highest ``probability / prior ** power`` (training
class shares). With power 1, on calibrated probabilities, this is the rule that maximises
balanced accuracy, so a rare class is predicted where its probability is high relative to how
rare it is, instead of never; the power (0 = plain argmax) is chosen on held-out rows. The
confidence shown with a label stays the calibrated probability of that label: the chance it
is right.

When to answer. By default a *review budget* (:data:`REVIEW_BUDGET`, 15%): at most that share
of in-distribution rows goes to review, in a new batch as large as the held-out rows with
probability ``1 - delta`` — the OOD detector's false alarms (``ood_fpr``, 5% by default) count
against it, the least confident of the rest fill it; when the folds' models send shares
that differ beyond their noise, the model that ships (another training) is allowed the same
spread. The accuracy of what is
then accepted is measured on held-out rows and promised as its lower confidence bound. A
user who knows the accuracy they need sets ``target_accuracy`` instead (Learn-Then-Test), or
a cost matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from prudent._format import at_least
from prudent._typing import BoolArray, EncodedLabels, FloatArray, IntArray, ProbaMatrix
from prudent.models._cascade import CascadePolicy
from prudent.models._cost_summary import held_out_costs
from prudent.models._learn_then_test import largest_targets, select_threshold
from prudent.models._review_budget import budget_threshold
from prudent.models._spread import realization_spread, shares_by_group
from prudent.models._thresholds import CostPolicy, ThresholdChoice, reachable_accuracy

__all__ = [
    "MEANINGFUL_COVERAGE",
    "REVIEW_BUDGET",
    "PolicyRequest",
    "backup_role",
    "balanced_class_weights",
    "choose_class_weights",
    "decision_policy",
]

REVIEW_BUDGET = 0.15
"""The default largest share of in-distribution rows sent to review."""
MEANINGFUL_COVERAGE = 0.1
"""Below this validation coverage a requested accuracy target is reported as out of reach."""
POWERS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""Candidate strengths of the prior correction (see :func:`choose_class_weights`)."""


@dataclass(frozen=True)
class PolicyRequest:
    """What the user asked of the decisions.

    Parameters
    ----------
    target_accuracy
        Accuracy the accepted predictions must reach, or ``None`` for the review budget.
    review_budget
        The largest share of in-distribution rows sent to review (without a target).
    delta
        Allowed probability that a promised accuracy is not reached.
    costs, review_cost
        A cost matrix replacing the accept threshold, and the cost of a review.
    ood_over_rules
        Send out-of-distribution rows to review even when a rule matches them.
    """

    target_accuracy: float | None = None
    review_budget: float = REVIEW_BUDGET
    delta: float = 0.1
    costs: tuple[tuple[float, ...], ...] | None = None
    review_cost: float | None = None
    ood_over_rules: bool = False


def balanced_class_weights(
    y: EncodedLabels, n_classes: int, power: float = 1.0
) -> tuple[float, ...]:
    """``prior ** -power`` per class, scaled to mean 1 (a class never seen gets weight 1).

    Examples
    --------
    >>> balanced_class_weights(np.array([0, 0, 0, 1]), 2)
    (0.5, 1.5)
    """
    counts = np.bincount(y, minlength=n_classes).astype(float)
    prior = np.where(counts > 0, counts / max(len(y), 1), 1.0)
    w = prior**-power
    return tuple(float(x) for x in np.round(w / w.mean(), 12))


def _balanced_accuracy(idx: Any, y: EncodedLabels) -> float:
    present = np.unique(y)
    return float(np.mean([(idx[y == c] == c).mean() for c in present]))


def choose_class_weights(
    P: ProbaMatrix, y: EncodedLabels, powers: tuple[float, ...] = POWERS
) -> tuple[tuple[float, ...] | None, dict[str, Any]]:
    """The label rule of highest balanced accuracy on held-out rows.

    Candidates weight each class by ``prior ** -power``: 0 is the plain argmax, 1 the rule
    that maximises balanced accuracy when the probabilities are calibrated to the training
    priors. Choosing the power on held-out probabilities also covers a model already
    trained with class weights (whose probabilities need less correction). Ties go to the
    smaller power.

    Parameters
    ----------
    P
        Held-out (cross-fitted, calibrated) probabilities.
    y
        Their labels.
    powers
        The candidate powers.

    Returns
    -------
    tuple
        The weights (``None`` for the plain argmax) and ``{"power", "balanced_accuracy"}``.
    """
    scores = {}
    for power in powers:
        rule = CascadePolicy(np.inf, class_weights=balanced_class_weights(y, P.shape[1], power))
        scores[power] = _balanced_accuracy(rule.label_index(P), y)
    best = max(powers, key=lambda p: (round(scores[p], 6), -p))
    info = {"power": best, "balanced_accuracy": {str(p): s for p, s in scores.items()}}
    if best == 0:
        return None, info
    return balanced_class_weights(y, P.shape[1], best), info


def _labelled(policy: CascadePolicy, P: ProbaMatrix, y: EncodedLabels) -> tuple[Any, Any]:
    idx = policy.given_index(P)
    return P[np.arange(len(idx)), idx], idx == y


def _accept(
    request: PolicyRequest, conf: FloatArray, ok: BoolArray, flagged: int, spread: float = 0.0
) -> ThresholdChoice:
    if request.target_accuracy is not None:
        return select_threshold(
            conf, ok, target_accuracy=request.target_accuracy, delta=request.delta
        )
    return budget_threshold(
        conf, ok, review_share=request.review_budget, delta=request.delta, flagged=flagged,
        spread=spread,
    )  # fmt: skip


def _budget_accept(
    request: PolicyRequest,
    rows: tuple[FloatArray, BoolArray],
    in_distribution: BoolArray,
    groups: IntArray | None,
) -> tuple[ThresholdChoice, dict[str, Any] | None]:
    """The accept threshold; under a review budget, widened by the folds' spread.

    The share each fold sends to review at the first threshold shows how much another
    training moves it (:func:`~prudent.models._spread.realization_spread`); the threshold is
    then set again with that spread allowed for, since the model that ships is one more
    training. Without ``groups``, or with a target accuracy or costs, the first threshold
    stands.
    """
    conf, ok = rows
    flagged = int((~in_distribution).sum())
    accept = _accept(request, conf, ok, flagged)
    if groups is None or request.target_accuracy is not None or request.costs is not None:
        return accept, None
    review = ~in_distribution
    review[in_distribution] = conf < accept.threshold
    spread = realization_spread(review, groups)
    by_fold = {str(k): v for k, v in shares_by_group(review, groups).items()}
    info = {"spread": spread, "review_share_by_fold": by_fold}
    if spread > 0:
        accept = _accept(request, conf, ok, flagged, spread)
    return accept, info


def _cost_policy(request: PolicyRequest) -> CostPolicy | None:
    if request.costs is None:
        return None
    costs = np.asarray(request.costs, dtype=float)
    review = request.review_cost if request.review_cost is not None else np.max(costs) / 2
    return CostPolicy(costs, review_cost=float(review))


def _backup_choice(
    request: PolicyRequest,
    rule: CascadePolicy,
    rows: tuple[ProbaMatrix, ProbaMatrix, EncodedLabels],
    accept: ThresholdChoice,
) -> ThresholdChoice | None:
    """The backup's threshold, set where it could answer: rows the primary leaves on which
    both models give the same label (the backup must agree), at the accepted rows' accuracy."""
    P, B, y = rows
    if not 0.0 < accept.target_accuracy < 1.0:
        return None
    p_idx = rule.given_index(P)
    unsure = P[np.arange(len(P)), p_idx] < accept.threshold
    left = unsure & (rule.given_index(B) == p_idx)
    if not left.any():
        return None
    bconf, bok = _labelled(rule, B[left], y[left])
    return select_threshold(bconf, bok, target_accuracy=accept.target_accuracy, delta=request.delta)


def _with_targets(
    reachable: list[dict[str, float]], conf: FloatArray, ok: BoolArray, delta: float
) -> list[dict[str, float]]:
    """Each reachable accuracy with ``promisable``: the largest accuracy target whose
    threshold (:func:`largest_targets`, as the fit and ``retune`` choose it) still accepts
    that share of the rows. The plain accuracy at a coverage is not a target that keeps it:
    '0.912 at 80%' asked as a target kept 21%."""
    targets = largest_targets(conf, ok, tuple(r["coverage"] for r in reachable), delta=delta)
    return [r | {"promisable": t} for r, t in zip(reachable, targets, strict=True)]


def backup_role(
    backup: ThresholdChoice | None, goal: str | None = "the accuracy target"
) -> dict[str, str]:
    """Whether the backup model decides rows the primary is unsure of, in plain words.

    ``goal`` names the accuracy the backup had to reach, as the reader knows it (the target
    asked for, or the accuracy promised for the accepted rows under a review budget); ``None``
    when a cost matrix decides, which promises no accuracy for the backup to reach.

    Examples
    --------
    >>> backup_role(None)["role"]
    'fallback'
    >>> "≥ 0.917" in backup_role(None, "the accepted rows' promised accuracy (≥ 0.917)")["text"]
    True
    """
    if goal is None:
        return {
            "role": "fallback",
            "text": "The backup model (the logistic baseline) decides no row the primary is "
            "unsure of: with a cost matrix the primary's cheapest label, or a review, decides "
            "every row. It answers only when the primary model fails or passes its deadline.",
        }
    if backup is None or not backup.feasible or backup.n_accepted == 0:
        return {
            "role": "fallback",
            "text": "The backup model (the logistic baseline) decides no row the primary is "
            f"unsure of: on validation, no backup threshold reached {goal} on the rows the "
            "primary leaves where both models agree. It answers only when the primary model "
            "fails or passes its deadline.",
        }
    return {
        "role": "decides",
        "text": f"The backup model (the logistic baseline) answers a row the primary is unsure "
        f"of when its own confidence is ≥ {backup.threshold:.3f} and it agrees with the "
        f"primary; on validation it decided {backup.n_accepted} such rows at accuracy "
        f"{backup.accuracy:.3f}. It also answers alone when the primary fails.",
    }


def _backup_goal(request: PolicyRequest, accept: ThresholdChoice) -> str | None:
    """The accuracy the backup had to reach, named as the reader knows it; ``None`` with a
    cost matrix (no accuracy is promised)."""
    if request.costs is not None:
        return None
    if request.target_accuracy is not None:
        return f"the target accuracy ({request.target_accuracy:g})"
    if not 0.0 < accept.target_accuracy < 1.0:
        return "an accuracy it could be held to"
    return f"the accepted rows' promised accuracy (≥ {at_least(accept.target_accuracy)})"


def decision_policy(
    request: PolicyRequest,
    P: ProbaMatrix,
    B: ProbaMatrix | None,
    y: EncodedLabels,
    *,
    in_distribution: BoolArray,
    ood_threshold: float,
    class_weights: tuple[float, ...] | None,
    groups: IntArray | None = None,
) -> tuple[CascadePolicy, dict[str, Any]]:
    """Set the thresholds on held-out rows the models and detectors never saw.

    The probabilities are the models' out-of-fold ones through the calibrators that ship, so
    that a threshold falls where the shipped model's confidences fall: a cross-fitted isotonic
    map has its steps elsewhere, and a threshold on one of its steps moved the review share of
    new rows by a fifth (.10 on the held-out rows, .12 on the locked test).

    Parameters
    ----------
    request
        The user's target, budget or costs.
    P, B
        Calibrated probabilities of the primary and the backup on the held-out rows.
    y
        Their labels.
    in_distribution
        Per row, whether the OOD detector lets it through.
    ood_threshold
        The detector's threshold, stored in the policy.
    class_weights
        The label rule's weights (see :func:`balanced_class_weights`), or ``None``.
    groups
        Per row, the cross-validation fold whose model scored it, or ``None``. Under a
        review budget, a share sent to review that differs between folds beyond binomial
        noise widens the budget's margin (see :func:`_budget_accept`).

    Returns
    -------
    tuple
        The policy, and what it was chosen from: ``accept`` and ``backup`` (threshold
        choices), ``reachable`` (accuracy at several coverages), ``review_budget``,
        ``meaningful`` (whether a requested target leaves meaningful coverage), ``policy``,
        and with ``groups`` under a budget ``review_spread`` (the spread between folds and
        each fold's share at the threshold before it).
    """
    # the labels the policy gives: with a cost matrix, the cheapest
    rule = CascadePolicy(np.inf, class_weights=class_weights, cost_policy=_cost_policy(request))
    conf, ok = _labelled(rule, P[in_distribution], y[in_distribution])
    fold = None if groups is None else np.asarray(groups)
    accept, spread = _budget_accept(request, (conf, ok), np.asarray(in_distribution, bool), fold)
    backup = None
    if B is not None and request.costs is None:  # with costs the backup only stands in
        rows = (P[in_distribution], B[in_distribution], y[in_distribution])
        backup = _backup_choice(request, rule, rows, accept)
    policy = CascadePolicy(
        accept.threshold,
        backup_threshold=backup.threshold if backup else np.inf,
        ood_threshold=ood_threshold,
        cost_policy=_cost_policy(request),
        class_weights=class_weights,
        ood_over_rules=request.ood_over_rules,
    )
    info = {
        "accept": accept.to_dict(),
        "backup": backup.to_dict() if backup else None,
        "backup_role": backup_role(backup, _backup_goal(request, accept)),
        "reachable": _with_targets(reachable_accuracy(conf, ok), conf, ok, request.delta),
        "review_budget": None if request.target_accuracy is not None else request.review_budget,
        "meaningful": accept.feasible and accept.coverage >= MEANINGFUL_COVERAGE,
        "policy": policy.to_dict(),
        "costs": held_out_costs(policy, P, B, y, in_distribution),
    }
    if spread is not None:
        info["review_spread"] = spread
    return policy, info
