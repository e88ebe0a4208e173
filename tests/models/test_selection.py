"""Which model ships: the primary chosen against the logistic baseline."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression

from prudent.metrics import balanced_accuracy
from prudent.models._selection import FALLBACK, choose_primary


def test_baseline_is_compared_at_each_models_best_label_rule():
    """On a 10% minority, a calibrated model predicts the minority class rarely at its argmax;
    the class-weighted logistic baseline often. The policy ships each with its own label rule
    (probability / prior ** power), so that is where their balanced accuracies are compared:
    the better-calibrated, sharper model ships, not the baseline."""
    rng = np.random.default_rng(0)
    n = 3000
    score = rng.normal(size=n)
    p_true = expit(2.0 * score - 3.0)
    y = (rng.random(n) < p_true).astype(np.int64)
    sharp = p_true
    weighted = expit(logit(p_true) * 0.6 + np.log(9.0) + rng.normal(scale=0.8, size=n))
    oof = {
        FALLBACK: np.c_[1 - weighted, weighted],
        "lightgbm": np.c_[1 - sharp, sharp],
    }
    assert balanced_accuracy(y, oof["lightgbm"]) < balanced_accuracy(y, oof[FALLBACK])
    X = score[:, None]
    fitted = {name: LogisticRegression().fit(X, y) for name in oof}
    _, proba, info = choose_primary(fitted, oof, y, base=FALLBACK)
    assert info["primary"] != FALLBACK, info["reason"]
    assert -np.log(proba[np.arange(n), y]).mean() < -np.log(oof[FALLBACK][np.arange(n), y]).mean()


def test_a_kept_baseline_says_which_model_lost_and_both_balanced_accuracies():
    """The reason names the loser by the measure that chose it (validation log loss), with
    both balanced accuracies as the comparison made them (each at its best label rule)."""
    from prudent.metrics import Verdict
    from prudent.models._selection import _keep_fallback

    info = {"primary": "linear_svm", "reason": "chosen on log loss"}
    kept = _keep_fallback(info, Verdict.NOT_BETTER, (0.498, 0.529))
    assert kept["primary"] == FALLBACK and kept["members"] == {FALLBACK: 1.0}
    assert kept["reason"] == (
        "the model of lowest validation log loss (linear_svm, balanced accuracy 0.498 at its "
        "best label rule) does not beat the logistic baseline's 0.529, so the logistic "
        "baseline is kept"
    )
    worse = _keep_fallback(info, Verdict.WORSE, (0.498, 0.529))["reason"]
    assert "is significantly worse than the logistic baseline (McNemar on accuracy)" in worse
