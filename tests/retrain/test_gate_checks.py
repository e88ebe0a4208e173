"""The gate's paired checks on generated scores with a known answer."""

from __future__ import annotations

import numpy as np

from prudent.retrain import GateOptions
from prudent.retrain._gate_checks import (
    accuracy_check,
    calibration_check,
    latency_check,
    log_loss_check,
    promise_check,
)

OPTS = GateOptions(n_boot=300)
RNG = np.random.default_rng(0)
Y = RNG.integers(0, 2, 600)


def _proba(right: float, confidence: float) -> np.ndarray:
    """Probabilities whose top label is right on a ``right`` share of rows."""
    ok = RNG.uniform(size=len(Y)) < right
    top = np.where(ok, Y, 1 - Y)
    P = np.full((len(Y), 2), 1 - confidence)
    P[np.arange(len(Y)), top] = confidence
    return P


def test_accuracy_check_tells_better_worse_and_same() -> None:
    good, bad = _proba(0.9, 0.9).argmax(1) == Y, _proba(0.7, 0.9).argmax(1) == Y
    assert accuracy_check("t", (bad, good), Y, OPTS).verdict == "better"
    assert accuracy_check("t", (good, bad), Y, OPTS).verdict == "worse"
    assert accuracy_check("t", (good, good), Y, OPTS).verdict == "same"


def test_log_loss_check_needs_non_inferiority_within_the_margin() -> None:
    P = _proba(0.85, 0.85)
    assert log_loss_check("t", P, P, Y, OPTS).verdict == "same"
    sharper = np.where(P > 0.5, 0.95, 0.05)  # overconfident: far higher log loss
    assert log_loss_check("t", P, sharper, Y, OPTS).verdict == "worse"
    assert log_loss_check("t", sharper, P, Y, OPTS).verdict == "better"


def test_calibration_check_is_worse_only_when_the_challenger_alone_fails() -> None:
    calibrated, overconfident = _proba(0.8, 0.8), _proba(0.8, 0.99)
    assert calibration_check("t", calibrated, overconfident, Y, OPTS).verdict == "worse"
    assert calibration_check("t", overconfident, calibrated, Y, OPTS).verdict == "better"


def test_promise_check_fails_only_when_the_whole_interval_is_below() -> None:
    ok = np.r_[np.ones(80, bool), np.zeros(20, bool)]
    assert promise_check("t", ok, 0.95, None).verdict == "worse"  # 0.80, interval < 0.87
    assert promise_check("t", ok, 0.85, None).verdict == "same"
    assert promise_check("t", ok, None, None).verdict == "not measured"


def test_latency_check_allows_a_ratio_and_a_floor() -> None:
    assert latency_check(0.2, 0.5, 100, OPTS).verdict == "same"  # +0.3 ms: under the floor
    assert latency_check(1.0, 2.0, 100, OPTS).verdict == "worse"
