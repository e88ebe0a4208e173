"""The default decision policy on data whose right answers are known: probabilities that are
calibrated by construction (the label is drawn from them)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from prudent._format import at_least
from prudent.models import CascadePolicy, decide
from prudent.models._decision_policy import (
    REVIEW_BUDGET,
    PolicyRequest,
    balanced_class_weights,
    choose_class_weights,
    decision_policy,
)


def _calibrated(n: int, minority: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Binary rows with P(y=1 | p) = p and a mean of ``minority``."""
    rng = np.random.default_rng(seed)
    p = rng.beta(2 * minority / (1 - minority), 2, n)
    y = (rng.uniform(size=n) < p).astype(np.int64)
    return np.column_stack([1 - p, p]), y


def _policy(P, y, **request):
    in_dist = np.random.default_rng(1).uniform(size=len(y)) > 0.05  # ~5% OOD false alarms
    return decision_policy(
        PolicyRequest(**request),
        P,
        None,
        y,
        in_distribution=in_dist,
        ood_threshold=np.inf,
        class_weights=balanced_class_weights(y, 2),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_review_budget_holds_and_the_promised_accuracy_is_kept_on_fresh_rows(seed):
    P, y = _calibrated(3000, 0.3, seed)
    policy, info = _policy(P, y)
    assert info["review_budget"] == REVIEW_BUDGET and info["accept"]["feasible"]
    P_new, y_new = _calibrated(5000, 0.3, seed + 100)
    d = decide(policy, classes=["a", "b"], primary_proba=P_new)
    review = d.deferred.mean()
    # the OOD alarms (5%) count against the budget, so the low-confidence share is ~10%
    assert REVIEW_BUDGET - 0.05 - 0.03 <= review <= REVIEW_BUDGET - 0.05 + 0.02
    given = np.array(["a", "b"])[y_new]
    accepted = ~d.deferred
    promised = info["accept"]["target_accuracy"]  # kept within 2 standard errors, as stated
    tolerance = 2 * np.sqrt(promised * (1 - promised) / accepted.sum())
    assert (d.label[accepted] == given[accepted]).mean() >= promised - tolerance


def test_class_weights_predict_the_minority_class_and_raise_balanced_accuracy():
    P, y = _calibrated(20000, 0.04, 0)
    plain = CascadePolicy(0.0)
    weighted = CascadePolicy(0.0, class_weights=balanced_class_weights(y, 2))

    def balanced(policy: CascadePolicy) -> float:
        idx = policy.label_index(P)
        return float(np.mean([(idx[y == c] == c).mean() for c in (0, 1)]))

    assert balanced(weighted) > balanced(plain) + 0.1
    assert (weighted.label_index(P) == 1).mean() > 0.04
    # the confidence shown is the calibrated probability of the label given: it is right
    # that often (calibrated by construction)
    d = decide(weighted, classes=["no", "yes"], primary_proba=P)
    right = d.label == np.array(["no", "yes"])[y]
    for lo, hi in ((0.0, 0.5), (0.5, 0.9), (0.9, 1.01)):
        band = (d.confidence >= lo) & (d.confidence < hi)
        c = d.confidence[band].mean()
        assert band.sum() >= 100
        assert abs(right[band].mean() - c) < 3 * np.sqrt(c * (1 - c) / band.sum())


def test_an_unreachable_target_is_reported_with_what_is_reachable():
    P, y = _calibrated(2000, 0.4, 0)
    _, info = _policy(P, y, target_accuracy=0.999)
    assert not info["meaningful"] and info["review_budget"] is None
    coverages = [r["coverage"] for r in info["reachable"]]
    assert coverages == sorted(coverages) and coverages[-1] == 1.0
    accuracies = [r["accuracy"] for r in info["reachable"]]
    assert accuracies[0] > accuracies[-1]


def test_balanced_class_weights_are_inverse_priors():
    y = np.array([0] * 90 + [1] * 10)
    w = balanced_class_weights(y, 3)  # class 2 never seen: weight 1 before scaling
    assert w[1] / w[0] == pytest.approx(9.0)


def test_cascade_policy_class_weights_round_trip_and_check():
    policy = CascadePolicy(0.8, class_weights=(0.5, 2.0))
    data = json.loads(json.dumps(policy.to_dict(), allow_nan=False))
    assert CascadePolicy.from_dict(data) == policy
    with pytest.raises(Exception, match="class_weights must be finite and > 0"):
        CascadePolicy(0.8, class_weights=(1.0, 0.0))
    with pytest.raises(Exception, match="one weight per class"):
        policy.label_index(np.full((2, 3), 1 / 3))


def test_choose_class_weights_corrects_calibrated_priors_but_not_balanced_probabilities():
    P, y = _calibrated(20000, 0.05, 3)
    weights, info = choose_class_weights(P, y)
    assert weights is not None and info["power"] >= 0.75
    # probabilities already shifted to balanced priors (a class-weighted model): no more
    prior = np.bincount(y) / len(y)
    shifted = P / prior
    shifted /= shifted.sum(1, keepdims=True)
    _, info2 = choose_class_weights(shifted, y)
    assert info2["power"] <= 0.25
    assert info2["balanced_accuracy"]["0.0"] >= info["balanced_accuracy"]["0.0"]


def _two_views(n: int, backup_sure: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Half the rows the primary reads at 0.97 and the backup at 0.6; on the other half the
    primary reads at 0.7 and the backup at ``backup_sure`` (each confidence is its accuracy)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    hard = rng.uniform(size=n) < 0.5
    p_acc, b_acc = np.where(hard, 0.7, 0.97), np.where(hard, backup_sure, 0.6)

    def view(acc):
        said = np.where(rng.uniform(size=n) < acc, y, 1 - y)
        return np.column_stack(
            [np.where(said == 0, acc, 1 - acc), np.where(said == 1, acc, 1 - acc)]
        )

    return view(p_acc), view(b_acc), y


def _backup_policy(backup_sure: float, seed: int, target: float | None = 0.95):
    P, B, y = _two_views(4000, backup_sure, seed)
    return decision_policy(
        PolicyRequest(target_accuracy=target),
        P,
        B,
        y,
        in_distribution=np.ones(len(y), bool),
        ood_threshold=np.inf,
        class_weights=None,
    )


def test_a_backup_sure_where_the_primary_is_not_decides_with_its_own_accuracy():
    policy, info = _backup_policy(0.99, seed=0)
    assert info["backup_role"]["role"] == "decides" and np.isfinite(policy.backup_threshold)
    assert "decided" in info["backup_role"]["text"]
    P, B, y = _two_views(6000, 0.99, seed=1)
    d = decide(policy, classes=["a", "b"], primary_proba=P, backup_proba=B)
    by_backup = np.array([str(k) == "backup" for k in d.kind])
    assert by_backup.mean() > 0.2  # about a third of the rows: hard ones where both agree
    right = d.label[by_backup] == np.array(["a", "b"])[y[by_backup]]
    assert right.mean() >= info["backup"]["target_accuracy"]


def test_a_backup_no_surer_than_the_primary_is_plainly_the_fallback():
    policy, info = _backup_policy(0.7, seed=0)
    assert info["backup_role"]["role"] == "fallback" and policy.backup_threshold == np.inf
    assert "only when the primary model fails" in info["backup_role"]["text"]
    assert "reached the target accuracy (0.95)" in info["backup_role"]["text"]
    P, B, _ = _two_views(3000, 0.7, seed=1)
    d = decide(policy, classes=["a", "b"], primary_proba=P, backup_proba=B)
    assert not any(str(k) == "backup" for k in d.kind)


def test_under_the_review_budget_the_fallback_names_the_accuracy_it_missed():
    # no accuracy was asked for: the backup had to reach the accepted rows' promised one
    _, info = _backup_policy(0.7, seed=0, target=None)
    promised = info["accept"]["target_accuracy"]
    assert info["backup_role"]["role"] == "fallback" and 0.5 < promised < 1
    said = f"the accepted rows' promised accuracy (≥ {at_least(promised)})"
    assert said in info["backup_role"]["text"]
    assert "accuracy target" not in info["backup_role"]["text"]


def test_a_target_the_reachable_list_calls_promisable_is_promised_at_that_coverage():
    """The list named plain validation accuracies ('0.912 at 80%'), which a target must beat
    with its test's margin: a retune to 0.91 gave 21% coverage. Each row's ``promisable``
    target, asked for, is promised with that coverage (within a row of rounding)."""
    P, y = _calibrated(2000, 0.4, 0)
    _, info = _policy(P, y, target_accuracy=0.999)
    for row in info["reachable"][:-1]:
        assert row["promisable"] < row["accuracy"]
        _, asked = _policy(P, y, target_accuracy=row["promisable"] - 1e-9)
        assert asked["accept"]["coverage"] >= row["coverage"] - 0.002, row
