"""Tests of the one function that decides."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from prudent.errors import ConfigError, DataError
from prudent.models._cascade import CascadePolicy, decide
from prudent.models._cascade_reasons import _pair
from prudent.models._decisions import Decision, DecisionKind, DeferReason
from prudent.models._learn_then_test import select_threshold
from prudent.models._rules import RuleMatches, RuleSet
from prudent.models._thresholds import CostPolicy

CLASSES = ["ham", "spam"]
POLICY = CascadePolicy(accept_threshold=0.9, backup_threshold=0.8, ood_threshold=0.95)


def _matches(names: list[str | None], outcomes: list[str | None]) -> RuleMatches:
    index = np.array([-1 if n is None else i for i, n in enumerate(names)], dtype=np.int64)
    return RuleMatches(index, np.array(names, dtype=object), np.array(outcomes, dtype=object))


def _one(policy=POLICY, *, p, b=None, ood=None, rule=(None, None)):
    """The decision for a single row."""
    return decide(
        policy,
        classes=CLASSES,
        primary_proba=[p],
        backup_proba=None if b is None else [b],
        ood_score=None if ood is None else [ood],
        rule_matches=None if rule[0] is None else _matches([rule[0]], [rule[1]]),
    )[0]


def test_decide_accepts_confident_primary():
    d = _one(p=[0.05, 0.95], b=[0.5, 0.5], ood=0.1)
    reason = "confidence 0.95 ≥ threshold 0.90"
    assert d == Decision("spam", DecisionKind.ACCEPT, reason, None, 0.95)
    assert not d.deferred


def test_decide_rule_label_beats_confident_primary():
    d = _one(p=[0.01, 0.99], ood=0.5, rule=("allow-list", "ham"))
    assert (d.label, d.kind, d.reason, d.defer_reason) == (
        "ham", DecisionKind.RULE, "rule 'allow-list'", None,
    )  # fmt: skip
    assert math.isnan(d.confidence)


def test_decide_rule_on_an_out_of_distribution_row_says_so():
    d = _one(p=[0.01, 0.99], ood=0.99, rule=("allow-list", "ham"))
    assert (d.label, d.kind) == ("ham", DecisionKind.RULE)
    assert d.reason == "rule 'allow-list'; the row is also out of distribution (score 0.99 ≥ 0.95)"


def test_decide_ood_over_rules_sends_the_row_to_review():
    policy = CascadePolicy(0.9, ood_threshold=0.95, ood_over_rules=True)
    d = _one(policy, p=[0.01, 0.99], ood=0.99, rule=("allow-list", "ham"))
    assert (d.label, d.defer_reason) == (None, DeferReason.OUT_OF_DISTRIBUTION)
    assert d.reason == "out of distribution (score 0.99 ≥ 0.95); over rule 'allow-list'"
    inside = _one(policy, p=[0.01, 0.99], ood=0.5, rule=("allow-list", "ham"))
    assert (inside.label, inside.kind) == ("ham", DecisionKind.RULE)
    assert CascadePolicy.from_dict(policy.to_dict()) == policy


def test_decide_rule_review_beats_everything():
    d = _one(p=[0.01, 0.99], b=[0.0, 1.0], rule=("minors", "review"))
    assert (d.label, d.kind, d.defer_reason) == (None, DecisionKind.REVIEW, DeferReason.RULE)
    assert d.reason == "rule 'minors' sends to review"
    assert d.deferred


def test_decide_ood_beats_confident_primary_and_backup():
    d = _one(p=[0.0, 1.0], b=[0.0, 1.0], ood=0.99)
    assert (d.label, d.kind) == (None, DecisionKind.REVIEW)
    assert d.defer_reason is DeferReason.OUT_OF_DISTRIBUTION
    assert d.reason == "out of distribution (score 0.99 ≥ 0.95)"
    assert d.confidence == 1.0


def test_decide_ood_threshold_is_inclusive_and_inf_disables():
    assert _one(p=[0.0, 1.0], ood=0.95).kind is DecisionKind.REVIEW
    off = CascadePolicy(0.9)
    assert _one(off, p=[0.0, 1.0], ood=math.inf).kind is DecisionKind.ACCEPT


def test_decide_backup_answers_when_primary_unsure_and_backup_agrees():
    d = _one(p=[0.39, 0.61], b=[0.1, 0.9])
    assert (d.label, d.kind, d.defer_reason) == ("spam", DecisionKind.BACKUP, None)
    assert d.reason == (
        "primary unsure (confidence 0.61 < threshold 0.90); backup confident (0.90 ≥ 0.80) "
        "and agrees"
    )
    assert d.confidence == 0.9


def test_decide_confident_backup_that_disagrees_defers():
    d = _one(p=[0.39, 0.61], b=[0.9, 0.1])
    assert (d.label, d.kind) == (None, DecisionKind.REVIEW)
    assert d.defer_reason is DeferReason.STAGE_DISAGREEMENT
    assert d.reason == (
        "primary unsure (confidence 0.61 < threshold 0.90) and backup disagrees ('spam' vs 'ham')"
    )


def test_decide_backup_may_answer_alone_when_agreement_not_required():
    policy = CascadePolicy(0.9, backup_threshold=0.8, backup_must_agree=False)
    d = _one(policy, p=[0.39, 0.61], b=[0.9, 0.1])
    assert (d.label, d.kind) == ("ham", DecisionKind.BACKUP)
    assert d.reason.endswith("backup confident (0.90 ≥ 0.80)")


def test_decide_low_confidence_with_and_without_backup():
    d = _one(p=[0.39, 0.61], b=[0.3, 0.7])
    assert d.defer_reason is DeferReason.LOW_CONFIDENCE
    assert d.reason == "confidence 0.61 < threshold 0.90; backup unsure (0.70 < 0.80)"
    alone = _one(p=[0.39, 0.61])
    assert (alone.kind, alone.defer_reason) == (DecisionKind.REVIEW, DeferReason.LOW_CONFIDENCE)
    assert alone.reason == "confidence 0.61 < threshold 0.90"


def test_decide_unsure_backup_that_disagrees_is_disagreement():
    d = _one(p=[0.39, 0.61], b=[0.7, 0.3])
    assert d.defer_reason is DeferReason.STAGE_DISAGREEMENT


def test_decide_infeasible_threshold_never_accepts():
    policy = CascadePolicy(math.inf)
    d = _one(policy, p=[0.0, 1.0])
    assert d.kind is DecisionKind.REVIEW
    assert d.reason == "confidence 1.00; no accept threshold: the model never auto-accepts"


def test_decide_never_shows_inf_in_a_reason():
    policy = CascadePolicy(math.inf, backup_threshold=math.inf)
    d = _one(policy, p=[0.17, 0.83], b=[0.17, 0.83])
    assert "inf" not in d.reason
    assert d.reason.endswith("the backup only stands in for a failed primary")


def test_decide_cost_policy_replaces_accept_threshold():
    cost = CostPolicy([[0, 1], [20, 0]], review_cost=0.5)  # missing spam costs 20
    policy = CascadePolicy(0.99, cost_policy=cost)
    sure = _one(policy, p=[0.98, 0.02])  # below the 0.99 threshold, but cheap enough
    assert (sure.label, sure.kind) == ("ham", DecisionKind.ACCEPT)
    assert sure.reason == "expected cost 0.40 ≤ review cost 0.50"
    cheap_spam = _one(policy, p=[0.6, 0.4])  # ham more likely, spam cheaper: 0.6 < 8.0
    assert (cheap_spam.kind, cheap_spam.reason) == (
        DecisionKind.REVIEW, "expected cost 0.60 > review cost 0.50",
    )  # fmt: skip
    flagged = _one(policy, p=[0.7, 0.3], b=[0.99, 0.01])  # spam cheapest vs the backup's ham
    assert flagged.defer_reason is DeferReason.STAGE_DISAGREEMENT
    assert "primary unsure (expected cost 0.70 > review cost 0.50)" in flagged.reason
    spam = _one(policy, p=[0.45, 0.55])  # ham would cost 11, spam 0.45
    assert (spam.label, spam.kind, spam.confidence) == ("spam", DecisionKind.ACCEPT, 0.55)
    assert spam.reason == "expected cost 0.45 ≤ review cost 0.50"


def test_pair_shows_order_when_rounding_would_hide_it():
    assert _pair(0.9099, 0.91) == ("0.9099", "0.9100")
    assert _pair(0.91, 0.91) == ("0.91", "0.91")
    assert _pair(0.93, 0.91) == ("0.93", "0.91")
    assert _pair(math.inf, 0.5) == ("inf", "0.50")


def _comparable(d: Decision) -> tuple:
    """The decision's fields, with nan as None so that equal decisions compare equal."""
    return (
        d.label,
        d.kind,
        d.reason,
        d.defer_reason,
        None if math.isnan(d.confidence) else d.confidence,
    )


def _random_inputs(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet([0.3, 0.3, 0.3], n)
    b = rng.dirichlet([0.3, 0.3, 0.3], n)
    ood = rng.uniform(size=n)
    names = [rng.choice([None, None, None, "r1", "r2"]) for _ in range(n)]
    outcomes = [None if x is None else ("review" if x == "r1" else "b") for x in names]
    return p, b, ood, names, outcomes


@pytest.mark.parametrize("cost", [None, CostPolicy([[0, 1, 2], [1, 0, 5], [1, 1, 0]], 0.3)])
def test_decide_vectorised_equals_row_by_row(cost):
    policy = CascadePolicy(0.8, backup_threshold=0.7, ood_threshold=0.9, cost_policy=cost)
    classes = ["a", "b", "c"]
    p, b, ood, names, outcomes = _random_inputs(300)
    batch = decide(
        policy, classes=classes, primary_proba=p, backup_proba=b, ood_score=ood,
        rule_matches=_matches(names, outcomes),
    )  # fmt: skip
    rows = [
        decide(
            policy, classes=classes, primary_proba=p[i : i + 1], backup_proba=b[i : i + 1],
            ood_score=ood[i : i + 1], rule_matches=_matches(names[i : i + 1], outcomes[i : i + 1]),
        )[0]
        for i in range(300)
    ]  # fmt: skip
    assert [_comparable(d) for d in batch.to_list()] == [_comparable(d) for d in rows]
    kinds = {d.kind for d in rows}
    reasons = {d.defer_reason for d in rows}
    assert kinds == set(DecisionKind)  # every route is reached
    assert reasons == set(DeferReason) - {DeferReason.MODELS_FAILED} | {None}  # and every reason


def test_decide_empty_input_gives_empty_output():
    for proba in (np.empty((0, 2)), []):
        d = decide(
            POLICY, classes=CLASSES, primary_proba=proba, backup_proba=np.empty((0, 2)),
            ood_score=[], rule_matches=_matches([], []),
        )  # fmt: skip
        assert len(d) == 0 and d.to_list() == []
        assert d.to_frame().shape == (0, 5)


def test_decisions_frame_and_deferred():
    d = decide(POLICY, classes=CLASSES, primary_proba=[[0.95, 0.05], [0.5, 0.5]])
    frame = d.to_frame()
    assert list(frame.columns) == ["label", "kind", "reason", "defer_reason", "confidence"]
    assert frame["kind"].tolist() == ["accept", "review"]
    assert frame["defer_reason"].tolist() == [None, "low_confidence"]
    assert d.deferred.tolist() == [False, True]
    assert DecisionKind.ACCEPT == "accept" and DeferReason.RULE == "rule"  # str values


def test_decide_works_with_real_rules_and_models():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_fit, X_rest, y_fit, y_rest = train_test_split(X, y, train_size=0.5, random_state=0)
    X_cal, X_test, y_cal, y_test = train_test_split(X_rest, y_rest, train_size=0.5, random_state=0)
    primary = make_pipeline(StandardScaler(), LogisticRegression(C=0.1)).fit(X_fit, y_fit)
    backup = GaussianNB().fit(X_fit, y_fit)
    classes = [str(c) for c in primary.classes_]
    choices = [
        select_threshold(m.predict_proba(X_cal).max(1), m.predict(X_cal) == y_cal)
        for m in (primary, backup)
    ]
    policy = CascadePolicy(choices[0].threshold, backup_threshold=choices[1].threshold)
    rules = RuleSet.from_yaml(
        "rules:\n  - name: huge\n    when: '`mean area` > 1500'\n    then: '0'\n",
        columns=list(X.columns),
        classes=classes,
    )
    d = decide(
        policy, classes=classes, primary_proba=primary.predict_proba(X_test),
        backup_proba=backup.predict_proba(X_test), rule_matches=rules.evaluate(X_test),
    )  # fmt: skip
    answered = ~d.deferred
    assert (d.kind == "rule").sum() == (X_test["mean area"] > 1500).sum() > 0
    assert answered.mean() > 0.5
    truth = y_test.astype(str).to_numpy()
    assert (d.label[answered] == truth[answered]).mean() >= 0.95
    accepted = d.kind == "accept"
    conf = primary.predict_proba(X_test).max(1)
    assert (conf[accepted] >= policy.accept_threshold).all()


def test_cascade_policy_round_trips_as_json():
    cost = CostPolicy([[0, 1], [5, 0]], 0.4)
    for policy in (POLICY, CascadePolicy(math.inf), CascadePolicy(0.5, cost_policy=cost)):
        data = json.loads(json.dumps(policy.to_dict(), allow_nan=False))
        assert CascadePolicy.from_dict(data) == policy
    assert CascadePolicy(math.inf).to_dict()["accept_threshold"] is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"accept_threshold": math.nan}, "accept_threshold is nan; give a number, or inf"),
        ({"accept_threshold": "high"}, "accept_threshold must be a number; got 'high'"),
        ({"accept_threshold": 0.9, "cost_policy": {"costs": []}}, "must be a CostPolicy or None"),
    ],
)
def test_cascade_policy_rejects_bad_values(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        CascadePolicy(**kwargs)


def test_cascade_policy_from_dict_rejects_unknown_keys():
    with pytest.raises(ConfigError, match=r"Unknown CascadePolicy keys \['accept'\]"):
        CascadePolicy.from_dict({"accept": 0.9})


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"primary_proba": [[0.5, 0.3, 0.2]]}, DataError, r"shape \(n, 2\), .* got \(1, 3\)"),
        ({"primary_proba": [0.5, 0.5]}, DataError, r"primary_proba must have shape"),
        ({"primary_proba": [[np.nan, 1.0]]}, DataError, "finite probabilities ≥ 0; row 0"),
        ({"backup_proba": [[0.5, 0.5]] * 2}, DataError, r"backup_proba must have shape \(1, 2\)"),
        ({"ood_score": [np.nan]}, DataError, "ood_score must hold 1 numbers, none nan"),
        ({"ood_score": [0.1, 0.2]}, DataError, r"got shape \(2,\)"),
        ({"rule_matches": _matches(["a", "b"], ["ham", "ham"])}, DataError, "has 2 rows"),
        ({"rule_matches": _matches(["a"], ["eggs"])}, ConfigError, r"labels \['eggs'\]"),
        ({"classes": ["ham", "ham"]}, ConfigError, "classes must be distinct"),
    ],
)
def test_decide_rejects_bad_inputs(kwargs, error, match):
    args = {"classes": CLASSES, "primary_proba": [[0.5, 0.5]], **kwargs}
    with pytest.raises(error, match=match):
        decide(POLICY, **args)


def test_decide_label_matches_frame_dtype_of_classes():
    d = decide(CascadePolicy(0.5), classes=["0", "1"], primary_proba=[[0.2, 0.8]])
    assert d.label.tolist() == ["1"]
    assert isinstance(pd.Series(d.label).iloc[0], str)


def test_a_backup_standing_in_for_a_failed_primary_gives_the_cheapest_label():
    """A cost matrix decides the primary's label; the backup answering alone gives the label
    the cost matrix gives too, not its most probable one."""
    policy = CascadePolicy(0.99, cost_policy=CostPolicy([[0, 1], [20, 0]], review_cost=0.5))
    d = decide(policy, classes=["ham", "spam"], backup_proba=[[0.8, 0.2], [0.99, 0.01]],
               failure="primary timed out", n_rows=2)  # fmt: skip
    assert d.label.tolist() == ["spam", "ham"]
    assert d.confidence.tolist() == [0.2, 0.99]


def test_under_costs_the_backup_answers_only_as_cheaply_as_a_review_and_in_its_cheapest_label():
    """A confident backup answered a row the cost rule sends to review ('No' at expected
    cost 1.0 against a review's 0.5); and it 'disagreed' with the primary's cheapest label
    by comparing its most probable one."""
    costs = CostPolicy([[0, 1], [10, 0]], review_cost=0.5)
    policy = CascadePolicy(0.99, backup_threshold=0.6, cost_policy=costs)
    d = decide(policy, classes=["No", "Yes"], primary_proba=[[0.93, 0.07], [0.6, 0.4]],
               backup_proba=[[0.9, 0.1], [0.6, 0.4]])  # fmt: skip
    assert [str(k) for k in d.kind] == ["review", "review"]
    # the backup's cheapest label on the first row is 'Yes' (0.9 against 1.0): it disagrees
    assert d.defer_reason.tolist()[0] is DeferReason.STAGE_DISAGREEMENT
    # both models' cheapest label is 'Yes' on the second row: they agree, neither is sure
    assert d.defer_reason.tolist()[1] is DeferReason.LOW_CONFIDENCE
    sure = decide(policy, classes=["No", "Yes"], primary_proba=[[0.93, 0.07]],
                  backup_proba=[[0.97, 0.03]])  # fmt: skip
    assert (sure.label.tolist(), [str(k) for k in sure.kind]) == (["No"], ["backup"])
