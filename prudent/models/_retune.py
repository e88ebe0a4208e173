"""Set a fitted model's decision thresholds again, from the evidence its fit kept.

A fit sets the thresholds on held-out rows the models and the OOD detector never saw (their
out-of-fold probabilities, through the calibrators that ship), then measures them once on the
locked test set. Both sets of rows leave compact evidence in
the bundle's ``artifacts.npz``: per row the calibrated probabilities of the primary and the
backup, the OOD score and the label (and, on the test rows, the first rule that matched).
That is all the decision needs: :func:`retune_policy` runs the same search as the fit
(:func:`~prudent.models.decision_policy`) on the held-out rows for a new request, and
:func:`decide_evidence` decides the test rows under any policy without the models.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from prudent._typing import EncodedLabels, FloatArray, IntArray, ProbaMatrix
from prudent.errors import BundleError
from prudent.models._cascade import CascadePolicy, decide
from prudent.models._decision_policy import PolicyRequest, decision_policy
from prudent.models._decisions import Decisions

__all__ = [
    "DecisionEvidence",
    "decide_evidence",
    "policy_evidence",
    "retune_policy",
    "test_evidence",
]

_POLICY_KEYS = (
    "policy_primary_calibrated",
    "policy_backup_calibrated",
    "policy_ood_score",
    "policy_y",
)
_TEST_KEYS = ("test_proba", "test_backup_proba", "test_ood_score", "y_test")


@dataclass(frozen=True)
class DecisionEvidence:
    """Rows a policy is chosen on or measured on: what :func:`decide` reads, and the labels.

    Parameters
    ----------
    primary
        Calibrated probabilities of the primary model, shape ``(n, k)``.
    backup
        Calibrated probabilities of the backup model, or ``None``.
    ood_score
        One OOD score per row, or ``None`` (no detector).
    y
        The encoded labels.
    rule_index
        Per row, the index of the first rule that matched (-1: none), or ``None``.
    fold
        Per row, the cross-validation fold whose model scored it, or ``None`` (the locked
        test's rows, or a bundle saved before it was kept).
    """

    primary: ProbaMatrix
    backup: ProbaMatrix | None
    ood_score: FloatArray | None
    y: EncodedLabels
    rule_index: IntArray | None = None
    fold: IntArray | None = None


def _evidence(arrays: Mapping[str, Any], keys: Sequence[str]) -> DecisionEvidence:
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise BundleError(
            f"This bundle does not keep the evidence its thresholds were set on (no {missing} "
            "in artifacts.npz; it was saved by an older prudent); refit it to retune it."
        )
    primary, backup, score, y = (np.asarray(arrays[k]) for k in keys)
    return DecisionEvidence(
        primary=primary.astype(float),
        backup=backup.astype(float),
        ood_score=score.astype(float),
        y=y.astype(np.int64),
    )


def policy_evidence(arrays: Mapping[str, Any]) -> DecisionEvidence:
    """The held-out rows the fit set its thresholds on, from ``artifacts.npz`` (with the
    fold that scored each, when the bundle keeps it).

    Raises
    ------
    BundleError
        The arrays do not hold that evidence (a bundle saved before it was kept).
    """
    rows = _evidence(arrays, _POLICY_KEYS)
    fold = arrays.get("policy_fold")
    if fold is None:
        return rows
    return replace(rows, fold=np.asarray(fold, dtype=np.int64))


def test_evidence(arrays: Mapping[str, Any]) -> DecisionEvidence:
    """The locked test rows, as the fit's final look scored them, from ``artifacts.npz``.

    Raises
    ------
    BundleError
        The arrays do not hold that evidence (a bundle saved before it was kept).
    """
    rows = _evidence(arrays, _TEST_KEYS)
    index = arrays.get("test_rule_index")
    if index is None:
        return rows
    return replace(rows, rule_index=np.asarray(index, dtype=np.int64))


def retune_policy(
    request: PolicyRequest, held_out: DecisionEvidence, policy: CascadePolicy
) -> tuple[CascadePolicy, dict[str, Any]]:
    """Search the thresholds again for ``request``, keeping the rest of ``policy``.

    The OOD threshold, the label rule (class weights) and whether the backup must agree are
    kept; the accept and backup thresholds (or the cost policy) are chosen by
    :func:`~prudent.models.decision_policy` on ``held_out``, exactly as at fit time.

    Parameters
    ----------
    request
        The new target accuracy, review budget or costs.
    held_out
        The rows the fit set its thresholds on (:func:`policy_evidence`).
    policy
        The policy in force.

    Returns
    -------
    tuple
        The new policy and what it was chosen from (as :func:`decision_policy`).
    """
    score = held_out.ood_score
    in_dist = (
        np.ones(len(held_out.y), dtype=bool)
        if score is None or math.isinf(policy.ood_threshold)
        else np.asarray(score < policy.ood_threshold, dtype=bool)
    )
    new, info = decision_policy(
        request,
        held_out.primary,
        held_out.backup,
        held_out.y,
        in_distribution=in_dist,
        ood_threshold=policy.ood_threshold,
        class_weights=policy.class_weights,
        groups=held_out.fold,
    )
    new = replace(
        new, backup_must_agree=policy.backup_must_agree, ood_over_rules=policy.ood_over_rules
    )
    return new, info | {"policy": new.to_dict()}


def decide_evidence(
    policy: CascadePolicy, classes: Sequence[str], rows: DecisionEvidence, rules: Any = None
) -> Decisions:
    """The decisions of ``rows`` under ``policy`` (rules from ``rows.rule_index``, if any)."""
    matches = None
    if rules is not None and len(rules) and rows.rule_index is not None:
        matches = rules.matches(rows.rule_index)
    return decide(
        policy,
        classes=classes,
        primary_proba=rows.primary,
        backup_proba=rows.backup,
        ood_score=rows.ood_score,
        rule_matches=matches,
    )
