"""Tests of ECE from confidences and of the consistency-resampling test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from prudent.errors import ConfigError, DataError
from prudent.metrics import ece_consistency_test, ece_from_confidence, expected_calibration_error


def _calibrated(n, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    conf = rng.uniform(0.3, 1.0, n)
    return conf, rng.uniform(size=n) < conf - shift


def test_ece_from_confidence_equals_expected_calibration_error(real_oof):
    y, p = real_oof["wine"]
    conf, correct = p.max(axis=1), p.argmax(axis=1) == y
    assert ece_from_confidence(conf, correct) == expected_calibration_error(y, p)


def test_ece_from_confidence_one_bin_is_gap_of_means():
    conf, correct = _calibrated(1000, seed=0, shift=0.2)
    assert ece_from_confidence(conf, correct, n_bins=1) == pytest.approx(
        abs(correct.mean() - conf.mean())
    )


def test_ece_from_confidence_puts_bin_edges_on_the_left_bin():
    # 0.5 falls in (0.25, 0.5], 0.75 in (0.5, 0.75]; each bin holds one right, one wrong row
    conf = np.array([0.5, 0.5, 0.75, 0.75])
    correct = np.array([1, 0, 1, 0])
    assert ece_from_confidence(conf, correct, n_bins=4) == pytest.approx((0.0 + 0.25) / 2)


def test_consistency_statistic_is_the_observed_ece():
    conf, correct = _calibrated(500, seed=3)
    result = ece_consistency_test(conf, correct, n_resamples=100)
    assert result.statistic == ece_from_confidence(conf, correct)
    assert result.name == "ECE consistency resampling"


def test_consistency_p_roughly_uniform_under_null():
    p_values = [
        ece_consistency_test(*_calibrated(400, seed), n_resamples=200, seed=seed).p_value
        for seed in range(60)
    ]
    assert stats.kstest(p_values, "uniform").pvalue > 0.01
    assert np.mean(np.array(p_values) < 0.05) < 0.15


def _grouped(groups: int, size: int, seed: int, shift: float = 0.0):
    """Groups whose rows share one confidence and one outcome: calibrated per group
    (``shift=0``), but a group's rows rise and fall together."""
    rng = np.random.default_rng(seed)
    conf = rng.uniform(0.5, 0.95, groups)
    hit = rng.uniform(size=groups) < conf - shift
    return np.repeat(conf, size), np.repeat(hit, size), np.repeat(np.arange(groups), size)


def test_consistency_with_groups_counts_what_the_groups_are_worth():
    """Counted as independent rows, calibrated groups look miscalibrated most of the time;
    with their groups, about as often as the level says; overconfidence is still found."""
    rows, grouped = [], []
    for seed in range(30):
        conf, correct, groups = _grouped(60, 8, seed)
        rows.append(ece_consistency_test(conf, correct, n_resamples=200, seed=seed).p_value)
        grouped.append(
            ece_consistency_test(conf, correct, n_resamples=200, seed=seed, groups=groups).p_value
        )
    assert np.mean(np.array(rows) < 0.1) > 0.5
    assert np.mean(np.array(grouped) < 0.1) <= 0.25
    found = 0
    for seed in range(10):
        conf, correct, groups = _grouped(300, 8, seed, shift=0.3)
        found += ece_consistency_test(conf, correct, seed=seed, groups=groups).p_value < 0.1
    assert found >= 9


def test_consistency_detects_overconfidence():
    conf, correct = _calibrated(2000, seed=4, shift=0.08)
    result = ece_consistency_test(conf, correct, n_resamples=500)
    assert result.p_value == pytest.approx(1 / 501)


def test_consistency_same_seed_same_p_value():
    conf, correct = _calibrated(300, seed=5, shift=0.03)
    first = ece_consistency_test(conf, correct, n_resamples=300, seed=7)
    again = ece_consistency_test(conf, correct, n_resamples=300, seed=7)
    assert first == again


def test_consistency_blocks_do_not_change_the_null(monkeypatch):
    import prudent.metrics._calibration_test as module

    conf, correct = _calibrated(300, seed=6, shift=0.02)
    whole = ece_consistency_test(conf, correct, n_resamples=50, seed=1)
    monkeypatch.setattr(module, "_CELLS_PER_CHUNK", 300 * 7)  # 7 resamples per block
    blocked = ece_consistency_test(conf, correct, n_resamples=50, seed=1)
    assert 0.0 < whole.p_value < 1.0
    assert blocked.statistic == whole.statistic
    # draws differ with the block size, but both estimate the same p-value
    assert blocked.p_value == pytest.approx(whole.p_value, abs=0.3)


def test_consistency_rejects_bad_resamples():
    with pytest.raises(ConfigError, match="n_resamples must be a positive integer, but is 0"):
        ece_consistency_test([0.9], [1], n_resamples=0)


def test_ece_from_confidence_rejects_confidence_above_one():
    with pytest.raises(DataError, match=r"confidence must lie in \[0, 1\]"):
        ece_from_confidence([1.2], [1])


def test_ece_from_confidence_rejects_length_mismatch():
    with pytest.raises(DataError, match=r"same length, but have shapes \(2,\) and \(1,\)"):
        ece_from_confidence([0.5, 0.6], [1])


def test_ece_from_confidence_rejects_non_boolean_correct():
    with pytest.raises(DataError, match="correct must hold booleans or 0/1"):
        ece_from_confidence([0.5, 0.6], [1, 2])
