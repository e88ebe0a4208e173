"""Tests of the classification scores, against scikit-learn and data with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from prudent.errors import ConfigError, DataError
from prudent.metrics import (
    SCORES,
    accuracy,
    balanced_accuracy,
    brier_score,
    expected_calibration_error,
    log_loss,
    macro_f1,
)

DATASETS = ["breast_cancer", "digits", "wine"]


@pytest.mark.parametrize("name", DATASETS)
def test_scores_agree_with_sklearn_on_real_oof(real_oof, name):
    y, p = real_oof[name]
    k = p.shape[1]
    pred = p.argmax(axis=1)
    assert accuracy(y, p) == pytest.approx(skm.accuracy_score(y, pred))
    assert balanced_accuracy(y, p) == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert macro_f1(y, p) == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert log_loss(y, p) == pytest.approx(skm.log_loss(y, p, labels=range(k)))
    expected_brier = (
        skm.brier_score_loss(y, p[:, 1]) if k == 2 else skm.brier_score_loss(y, p, labels=range(k))
    )
    assert brier_score(y, p) == pytest.approx(expected_brier)


def test_brier_multiclass_is_sum_over_classes():
    y = np.array([0, 2])
    p = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    by_hand = ((0.5**2 + 0.3**2 + 0.2**2) + (0.1**2 + 0.1**2 + 0.2**2)) / 2
    assert brier_score(y, p) == pytest.approx(by_hand)


def test_brier_binary_is_half_the_sum():
    y = np.array([1, 0, 1])
    p1 = np.array([0.9, 0.4, 0.3])
    p = np.column_stack([1 - p1, p1])
    assert brier_score(y, p) == pytest.approx(np.mean((p1 - y) ** 2))


def test_log_loss_clips_zero_probability():
    loss = log_loss([0], [[0.0, 1.0]])
    assert loss == pytest.approx(-np.log(1e-15))


def test_log_loss_uses_proba_columns_when_classes_absent_from_y():
    p = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1]])
    assert log_loss([0, 0], p) == pytest.approx(skm.log_loss([0, 0], p, labels=[0, 1, 2]))


def test_balanced_accuracy_ignores_predicted_class_absent_from_y():
    # class 2 is predicted once but never given: recall averages over classes 0 and 1 only
    y = np.array([0, 0, 1, 1])
    p = np.eye(3)[[0, 2, 1, 1]]
    assert balanced_accuracy(y, p) == pytest.approx((0.5 + 1.0) / 2)


def test_macro_f1_counts_never_predicted_class_as_zero():
    y = np.array([0, 0, 1, 1])
    p = np.eye(2)[[0, 0, 0, 0]]
    # class 0: precision 0.5, recall 1 -> F1 2/3; class 1 never predicted -> F1 0
    assert macro_f1(y, p) == pytest.approx((2 / 3 + 0) / 2)


def _calibrated_sample(n, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    conf = rng.uniform(0.5, 1.0, n)
    correct = rng.uniform(size=n) < conf - shift
    y = np.zeros(n, dtype=int)
    pred = np.where(correct, 0, 1)
    p = np.empty((n, 2))
    p[np.arange(n), pred] = conf
    p[np.arange(n), 1 - pred] = 1 - conf
    return y, p


def test_ece_small_for_calibrated_data():
    y, p = _calibrated_sample(20_000, seed=1)
    assert expected_calibration_error(y, p) < 0.015


def test_ece_finds_known_overconfidence():
    y, p = _calibrated_sample(20_000, seed=2, shift=0.1)
    assert expected_calibration_error(y, p) == pytest.approx(0.1, abs=0.015)


def test_ece_matches_explicit_bin_loop(real_oof):
    y, p = real_oof["digits"]
    conf, correct = p.max(axis=1), p.argmax(axis=1) == y
    edges = np.linspace(0, 1, 11)
    bins = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, 9)
    by_hand = sum(
        np.mean(bins == b) * abs(correct[bins == b].mean() - conf[bins == b].mean())
        for b in range(10)
        if np.any(bins == b)
    )
    assert expected_calibration_error(y, p, n_bins=10) == pytest.approx(by_hand)


def test_ece_rejects_bad_n_bins():
    with pytest.raises(ConfigError, match="n_bins must be a positive integer, but is 0"):
        expected_calibration_error([0], [[0.6, 0.4]], n_bins=0)


def test_scores_registry_order_and_direction():
    assert list(SCORES) == ["accuracy", "balanced_accuracy", "macro_f1", "log_loss", "brier", "ece"]
    assert [s.higher_is_better for s in SCORES.values()] == [True, True, True, False, False, False]
    assert all(name == s.name for name, s in SCORES.items())


def test_scores_reject_rows_mismatch():
    with pytest.raises(DataError, match="y has 3 rows but proba has 2"):
        accuracy([0, 1, 0], [[0.5, 0.5], [0.5, 0.5]])


def test_scores_reject_label_out_of_range():
    with pytest.raises(DataError, match=r"y holds class index 2, but proba has 2 columns"):
        accuracy([0, 2], [[0.5, 0.5], [0.5, 0.5]])


def test_scores_reject_string_labels():
    with pytest.raises(DataError, match="y must hold integer class indices, but has dtype <U1"):
        accuracy(["a", "b"], [[0.5, 0.5], [0.5, 0.5]])


def test_scores_reject_rows_not_summing_to_one():
    with pytest.raises(DataError, match=r"proba rows must sum to 1, but one is off by 0\.2"):
        log_loss([0], [[0.6, 0.2]])


def test_scores_reject_one_dimensional_proba():
    with pytest.raises(DataError, match=r"proba must be a 2-D array .* but has shape \(2,\)"):
        brier_score([0, 1], [0.2, 0.8])


def test_scores_reject_nan_proba():
    with pytest.raises(DataError, match="proba holds negative, NaN or infinite values"):
        macro_f1([0], [[np.nan, 1.0]])


def test_scores_accept_float_labels_that_are_integral():
    assert accuracy(np.array([0.0, 1.0]), [[0.9, 0.1], [0.1, 0.9]]) == 1.0
