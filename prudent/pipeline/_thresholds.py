"""The decision policy a fit's options ask for, set on held-out calibrated rows.

One function for every place that sets thresholds from a :class:`FitSpec`: the fit's trust
stage and ``prudent retrain`` / ``prudent recalibrate``, so that an option (a review budget,
a target accuracy, costs, the OOD check before the rules) means the same in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from prudent._typing import BoolArray, EncodedLabels, IntArray, ProbaMatrix
from prudent.models._cascade import CascadePolicy
from prudent.models._decision_policy import PolicyRequest, choose_class_weights, decision_policy
from prudent.pipeline._spec import FitSpec

__all__ = ["cost_notice", "tune_policy"]


def tune_policy(
    spec: FitSpec,
    P: ProbaMatrix,
    B: ProbaMatrix | None,
    y: EncodedLabels,
    *,
    in_distribution: BoolArray,
    ood_threshold: float,
    label_rows: tuple[ProbaMatrix, EncodedLabels] | None = None,
    groups: IntArray | None = None,
) -> tuple[CascadePolicy, dict[str, Any]]:
    """Choose the label rule and set the thresholds ``spec`` asks for on held-out rows.

    Parameters
    ----------
    spec
        The fit's options: review budget or target accuracy, delta, costs, review cost,
        whether the OOD check comes before the rules.
    P, B
        The primary's and the backup's calibrated probabilities on the rows (``B`` None
        without a backup).
    y
        The rows' class indices.
    in_distribution
        Which rows the OOD detector passes.
    ood_threshold
        The detector's threshold, carried into the policy.
    label_rows
        Held-out calibrated probabilities and labels to choose the label rule on, when more
        rows than these are available (the fit's every out-of-fold row, calibrated by
        cross-fitting: twice the rows the thresholds are set on, so a noisy choice between
        prior corrections on a small table is less likely); these rows by default.
    groups
        Per row, the cross-validation fold whose model scored it (see
        :func:`~prudent.models.decision_policy`), or ``None``.

    Returns
    -------
    tuple of (CascadePolicy, dict)
        The policy, and its evidence in the manifest's form (``label_rule`` included).
    """
    weights, labels = choose_class_weights(*(label_rows or (P, y)))
    request = PolicyRequest(
        target_accuracy=spec.target_accuracy,
        review_budget=spec.review_budget,
        delta=spec.delta,
        costs=spec.costs,
        review_cost=spec.review_cost,
        ood_over_rules=spec.ood_over_rules,
    )
    policy, info = decision_policy(
        request, P, B, y, in_distribution=in_distribution, ood_threshold=ood_threshold,
        class_weights=weights, groups=groups,
    )  # fmt: skip
    if info.get("costs") is not None:  # the share of rows the OOD alarms send to review
        info["costs"] = info["costs"] | {"ood_share": float(np.mean(~in_distribution))}
    return policy, info | {"label_rule": labels}


def _review_cost_notice(costs: Mapping[str, Any], review: float, how: str) -> str | None:
    """One line when the review cost leaves the choice to one side on every held-out row:
    no answer costs as much as a review (none goes to review for its cost), or every answer
    costs more (all go).

    Examples
    --------
    >>> print(_review_cost_notice({"answer_cost_min": 0.0, "answer_cost_max": 0.91}, 5.0, ""))
    ... # doctest: +NORMALIZE_WHITESPACE
    No row goes to review for its cost: answering costs less than a review (5) on every
    held-out row, 0.910 at most; a lower --review-cost sends the costliest answers to review.
    >>> _review_cost_notice({"answer_cost_min": 0.0, "answer_cost_max": 0.91}, 0.5, "") is None
    True
    """
    low, high = costs.get("answer_cost_min"), costs.get("answer_cost_max")
    if low is None or high is None:
        return None
    if high <= review:
        return (
            f"No row goes to review for its cost: answering costs less than a review "
            f"({review:g}{how}) on every held-out row, {high:.3f} at most; a lower "
            "--review-cost sends the costliest answers to review."
        )
    if low > review:
        return (
            f"Every row goes to review: a review ({review:g}{how}) costs less than answering "
            f"on every held-out row, {low:.3f} at least; a higher --review-cost lets the "
            "model answer where it is surest."
        )
    return None


def cost_notice(spec: FitSpec, thresholds: Mapping[str, Any]) -> str | None:
    """One line when the cost policy costs more per row on the held-out rows than answering
    every row with the model alone; the OOD alarms' part (their share times the review
    cost) named, with what to change.

    Every OOD alarm is charged a review, however cheap the model's answer would have been:
    on Default (costs '0,1;10,0') the default review cost of 5 on 5% of alarms made the
    policy cost 0.357 per row against 0.140 for the model alone.

    Examples
    --------
    >>> spec = FitSpec(target="y", costs=((0, 1), (10, 0)))
    >>> section = {"costs": {"decisions": 0.357, "model_only": 0.14, "ood_share": 0.05},
    ...            "policy": {"cost_policy": {"review_cost": 5.0}}}
    >>> print(cost_notice(spec, section))  # doctest: +NORMALIZE_WHITESPACE
    The cost policy costs 0.357 per row on validation, more than the model alone (0.140):
    0.250 of it is the OOD detector's alarms (5.0% of rows, each charged the review cost 5,
    by default half the largest cost); give a smaller --ood-fpr or a lower --review-cost.
    >>> section["costs"]["decisions"] = 0.1
    >>> cost_notice(spec, section) is None
    True
    """
    costs = thresholds.get("costs")
    if not costs:
        return None
    review = float(thresholds["policy"]["cost_policy"]["review_cost"])
    how = ", by default half the largest cost" if spec.review_cost is None else ""
    if round(costs["decisions"], 3) <= round(costs["model_only"], 3):
        return _review_cost_notice(costs, review, how)
    share = float(costs.get("ood_share", 0.0))
    head = (
        f"The cost policy costs {costs['decisions']:.3f} per row on validation, more than the "
        f"model alone ({costs['model_only']:.3f})"
    )
    if share * review < costs["decisions"] - costs["model_only"]:
        return (
            f"{head}: its reviews (review cost {review:g}{how}) cost more than the errors they "
            "avoid; give a lower --review-cost, or check the costs' order (rows: true class)."
        )
    return (
        f"{head}: {share * review:.3f} of it is the OOD detector's alarms ({share:.1%} of rows, "
        f"each charged the review cost {review:g}{how}); give a smaller --ood-fpr or a lower "
        "--review-cost."
    )
