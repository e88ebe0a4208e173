"""Tests of the diversity measures on hand-built error patterns and real predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prudent.errors import DataError
from prudent.metrics import (
    Diversity,
    disagreement,
    diversity_report,
    double_fault,
    error_correlation,
    yules_q,
)

Y = np.zeros(10, dtype=int)


def _model(wrong_rows):
    """Binary probabilities that are wrong exactly on ``wrong_rows`` (the truth is class 0)."""
    pred = np.zeros(10, dtype=int)
    pred[list(wrong_rows)] = 1
    return np.eye(2)[pred] * 0.8 + 0.1


def test_identical_errors():
    probas = {"a": _model([0, 1, 2]), "b": _model([0, 1, 2])}
    d = diversity_report(Y, probas)
    assert d.error_correlation.loc["a", "b"] == pytest.approx(1.0)
    assert d.disagreement.loc["a", "b"] == 0.0
    assert d.double_fault.loc["a", "b"] == pytest.approx(0.3)
    assert d.yules_q.loc["a", "b"] == pytest.approx(1.0)
    assert d.unique_signal["rows"].tolist() == [0, 0]


def test_disjoint_errors():
    # n11 = 6, n10 = 2, n01 = 2, n00 = 0
    probas = {"a": _model([0, 1]), "b": _model([2, 3])}
    d = diversity_report(Y, probas)
    assert d.error_correlation.loc["a", "b"] == pytest.approx((0 - 0.2 * 0.2) / (0.2 * 0.8))
    assert d.disagreement.loc["a", "b"] == pytest.approx(0.4)
    assert d.double_fault.loc["a", "b"] == 0.0
    assert d.yules_q.loc["a", "b"] == pytest.approx(-1.0)
    assert d.unique_signal.loc["a", "rows"] == 2
    assert d.unique_signal.loc["b", "share"] == pytest.approx(0.2)


def test_model_without_errors_has_zero_correlation_and_q():
    probas = {"perfect": _model([]), "b": _model([4, 5])}
    corr = error_correlation(Y, probas)
    q = yules_q(Y, probas)
    assert corr.loc["perfect", "b"] == 0.0 and q.loc["perfect", "b"] == 0.0
    assert corr.loc["perfect", "perfect"] == 1.0 and q.loc["b", "b"] == 1.0


def test_unique_signal_counts_rows_only_one_model_gets_right():
    probas = {"a": _model([0, 1, 2, 3]), "b": _model([0, 1, 4]), "c": _model([1, 2, 3, 4])}
    d = diversity_report(Y, probas)
    # row 0: only c right; row 1: nobody; rows 2, 3: only b; row 4: only a
    assert d.unique_signal["rows"].to_dict() == {"a": 1, "b": 2, "c": 1}
    assert d.unique_signal.index.name == "model"


def test_single_model_unique_signal_is_its_right_rows():
    d = diversity_report(Y, {"only": _model([7])})
    assert d.unique_signal.loc["only", "rows"] == 9


def test_measures_match_direct_computation_on_real_predictions(real_oof):
    y, p = real_oof["digits"]
    rng = np.random.default_rng(0)
    noisy = {f"m{i}": 0.6 * p + 0.4 * rng.dirichlet(np.ones(10), size=len(y)) for i in range(4)}
    wrong = np.array([m.argmax(1) != y for m in noisy.values()])
    corr = error_correlation(y, noisy).to_numpy()
    assert corr == pytest.approx(np.corrcoef(wrong))
    dis = disagreement(y, noisy).to_numpy()
    assert dis[0, 1] == pytest.approx(np.mean(wrong[0] != wrong[1]))
    assert double_fault(y, noisy).to_numpy()[2, 3] == pytest.approx(np.mean(wrong[2] & wrong[3]))
    n11 = np.sum(~wrong[1] & ~wrong[3])
    n00 = np.sum(wrong[1] & wrong[3])
    n10 = np.sum(~wrong[1] & wrong[3])
    n01 = np.sum(wrong[1] & ~wrong[3])
    q = (n11 * n00 - n01 * n10) / (n11 * n00 + n01 * n10)
    assert yules_q(y, noisy).to_numpy()[1, 3] == pytest.approx(q)


def test_report_matrices_are_symmetric_frames_named_by_model(real_oof):
    y, p = real_oof["wine"]
    probas = {"lr": p, "flat": np.full_like(p, 1 / 3), "rolled": np.roll(p, 1, axis=1)}
    d = diversity_report(y, probas)
    assert isinstance(d, Diversity)
    for frame in (d.error_correlation, d.disagreement, d.double_fault, d.yules_q):
        assert isinstance(frame, pd.DataFrame)
        assert list(frame.index) == list(frame.columns) == ["lr", "flat", "rolled"]
        assert np.allclose(frame.to_numpy(), frame.to_numpy().T)
    assert d.double_fault.loc["lr", "lr"] == pytest.approx(np.mean(p.argmax(1) != y))
    assert (d.disagreement.to_numpy().diagonal() == 0).all()


def test_diversity_rejects_empty_probas():
    with pytest.raises(DataError, match="probas is empty"):
        diversity_report(Y, {})


def test_diversity_rejects_mismatched_rows():
    with pytest.raises(DataError, match="y has 10 rows but proba has 3"):
        disagreement(Y, {"a": np.full((3, 2), 0.5)})
