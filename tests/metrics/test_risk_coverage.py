"""Tests of the risk-coverage curve, AURC and selective accuracy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prudent.errors import ConfigError, DataError
from prudent.metrics import aurc, risk_coverage_curve, selective_accuracy


def _random(n, seed):
    rng = np.random.default_rng(seed)
    conf = np.round(rng.uniform(0.3, 1.0, n), 2)  # rounding makes ties
    return conf, rng.uniform(size=n) < conf


@pytest.mark.parametrize("seed", range(5))
def test_curve_is_monotone_and_ends_at_full_coverage(seed):
    conf, correct = _random(500, seed)
    coverage, risk, thresholds = risk_coverage_curve(conf, correct)
    assert np.all(np.diff(coverage) > 0) and coverage[-1] == 1.0
    assert np.all(np.diff(thresholds) < 0)
    assert len(thresholds) == len(np.unique(conf))
    assert risk[-1] == pytest.approx(1 - correct.mean())


@pytest.mark.parametrize("seed", range(3))
def test_curve_agrees_with_selective_accuracy_at_every_threshold(seed):
    conf, correct = _random(300, seed)
    coverage, risk, thresholds = risk_coverage_curve(conf, correct)
    for cov, r, t in zip(coverage, risk, thresholds, strict=True):
        acc, cov_direct = selective_accuracy(conf, correct, float(t))
        assert (acc, cov_direct) == pytest.approx((1 - r, cov))


def test_ties_are_one_step():
    coverage, risk, thresholds = risk_coverage_curve([0.7, 0.7, 0.7, 0.9], [1, 0, 0, 1])
    assert coverage.tolist() == [0.25, 1.0]
    assert risk.tolist() == pytest.approx([0.0, 0.5])
    assert thresholds.tolist() == [0.9, 0.7]


def test_aurc_of_uninformative_confidence_is_error_rate():
    correct = np.array([1, 0, 1, 1, 0, 1, 1, 1])
    assert aurc(np.full(8, 0.6), correct) == pytest.approx(0.25)


def test_aurc_of_perfect_ranking_matches_hand_formula():
    n, errors = 100, 20
    conf = np.linspace(1.0, 0.5, n)
    correct = np.r_[np.ones(n - errors), np.zeros(errors)]
    by_hand = sum((k - (n - errors)) / k for k in range(n - errors + 1, n + 1)) / n
    assert aurc(conf, correct) == pytest.approx(by_hand)


def test_aurc_orders_rankings():
    conf = np.linspace(1.0, 0.5, 100)
    best = np.r_[np.ones(80), np.zeros(20)]
    worst = best[::-1]
    middle = np.random.default_rng(0).permutation(best)
    assert aurc(conf, best) < aurc(conf, middle) < aurc(conf, worst)


def test_aurc_of_real_model_beats_error_rate(real_oof):
    y, p = real_oof["digits"]
    correct = p.argmax(1) == y
    assert aurc(p.max(1), correct) < 0.5 * (1 - correct.mean())


def test_selective_accuracy_with_nothing_accepted_is_nan():
    acc, cov = selective_accuracy([0.6, 0.7], [1, 0], threshold=0.9)
    assert math.isnan(acc) and cov == 0.0


def test_selective_accuracy_threshold_is_inclusive():
    assert selective_accuracy([0.6, 0.7], [1, 0], threshold=0.7) == (0.0, 0.5)


def test_selective_accuracy_rejects_nan_threshold():
    with pytest.raises(ConfigError, match="threshold must be a finite number, but is nan"):
        selective_accuracy([0.6], [1], threshold=float("nan"))


def test_risk_coverage_rejects_empty_input():
    with pytest.raises(DataError, match="must be non-empty 1-D arrays"):
        risk_coverage_curve([], [])
