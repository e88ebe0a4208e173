"""The decision policy a fit's options ask for, set on held-out calibrated rows.

One function for every place that sets thresholds from a :class:`FitSpec`: the fit's trust
stage and ``prudent retrain`` / ``prudent recalibrate``, so that an option (a review budget,
a target accuracy, costs, the OOD check before the rules) means the same in both.
"""

from __future__ import annotations

from typing import Any

from prudent._typing import BoolArray, EncodedLabels, IntArray, ProbaMatrix
from prudent.models._cascade import CascadePolicy
from prudent.models._decision_policy import PolicyRequest, choose_class_weights, decision_policy
from prudent.pipeline._spec import FitSpec

__all__ = ["tune_policy"]


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
    return policy, info | {"label_rule": labels}
