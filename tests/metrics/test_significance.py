"""Tests of McNemar's test, Holm's adjustment and the comparison with a baseline."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from prudent.errors import ConfigError, DataError
from prudent.metrics import Verdict, compare_to_baseline, holm, mcnemar


def _pairs(n11, n10, n01, n00):
    """Correctness vectors of models A and B with the given contingency counts."""
    a = np.r_[np.ones(n11 + n10), np.zeros(n01 + n00)].astype(bool)
    b = np.r_[np.ones(n11), np.zeros(n10), np.ones(n01), np.zeros(n00)].astype(bool)
    return a, b


@pytest.mark.parametrize("n01", range(0, 13, 3))
@pytest.mark.parametrize("n10", range(0, 13, 4))
def test_mcnemar_exact_matches_scipy_binomtest(n01, n10):
    a, b = _pairs(5, n10, n01, 3)
    result = mcnemar(a, b)
    assert (result.n01, result.n10) == (n01, n10)
    assert result.name == "McNemar (exact binomial)"
    expected = 1.0 if n01 + n10 == 0 else stats.binomtest(n01, n01 + n10, 0.5).pvalue
    assert result.p_value == pytest.approx(expected, rel=1e-9)


def test_mcnemar_switches_to_chi_squared_at_25_discordant():
    assert mcnemar(*_pairs(10, 12, 12, 5)).name == "McNemar (exact binomial)"
    result = mcnemar(*_pairs(10, 15, 10, 5))
    assert result.name == "McNemar (chi-squared, continuity-corrected)"
    assert result.statistic == pytest.approx((abs(10 - 15) - 1) ** 2 / 25)
    assert result.p_value == pytest.approx(stats.chi2.sf(16 / 25, df=1))


def test_mcnemar_chi_squared_close_to_exact_for_many_pairs():
    result = mcnemar(*_pairs(500, 130, 90, 80))
    assert result.p_value == pytest.approx(stats.binomtest(90, 220, 0.5).pvalue, abs=0.005)


def test_mcnemar_is_symmetric_in_its_models():
    a, b = _pairs(20, 7, 2, 4)
    forward, backward = mcnemar(a, b), mcnemar(b, a)
    assert (forward.n01, forward.n10) == (backward.n10, backward.n01)
    assert forward.p_value == backward.p_value


def test_mcnemar_without_discordant_rows_has_p_one():
    result = mcnemar([1, 0, 1], [1, 0, 1])
    assert (result.p_value, result.n01, result.n10) == (1.0, 0, 0)


def test_mcnemar_rejects_length_mismatch():
    with pytest.raises(DataError, match=r"same length, but have shapes \(3,\) and \(2,\)"):
        mcnemar([1, 0, 1], [1, 0])


def test_mcnemar_rejects_non_boolean():
    with pytest.raises(DataError, match="correct_b must hold booleans or 0/1"):
        mcnemar([1, 0], [1, 3])


def test_holm_hand_worked_example():
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> running max 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_keeps_single_value():
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    assert holm([0.2]) == pytest.approx([0.2])
    assert holm([]).shape == (0,)


def _holm_rejections(p, alpha):
    """Holm's procedure by its definition: step down until the first non-rejection."""
    m = len(p)
    rejected = np.zeros(m, dtype=bool)
    for rank, i in enumerate(np.argsort(p, kind="stable")):
        if p[i] > alpha / (m - rank):
            break
        rejected[i] = True
    return rejected


@pytest.mark.parametrize("seed", range(20))
def test_holm_properties_on_random_p_values(seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=rng.integers(1, 15)) ** 3
    adjusted = holm(p)
    assert np.all(adjusted >= p) and np.all(adjusted <= 1.0)
    order = np.argsort(p)
    assert np.all(np.diff(adjusted[order]) >= 0)
    for alpha in (0.01, 0.05, 0.1, 0.3):
        assert np.array_equal(adjusted <= alpha, _holm_rejections(p, alpha))


def test_holm_rejects_nan():
    with pytest.raises(DataError, match=r"p_values must lie in \[0, 1\], but include nan"):
        holm([0.1, np.nan])


def test_compare_to_baseline_verdicts_on_real_data(real_oof):
    y, p = real_oof["breast_cancer"]
    prior = np.bincount(y) / y.shape[0]
    majority = np.tile(prior, (y.shape[0], 1))
    result = compare_to_baseline(
        y, majority, {"logistic": p, "inverted": p[:, ::-1], "same": majority.copy()}
    )
    assert list(result) == ["logistic", "inverted", "same"]
    assert result["logistic"].verdict is Verdict.BETTER
    assert result["inverted"].verdict is Verdict.WORSE
    assert result["same"].verdict is Verdict.NOT_BETTER
    assert result["same"].p_value == 1.0


def test_compare_to_baseline_differences_and_holm(real_oof):
    y, p = real_oof["wine"]
    base = np.full_like(p, 1 / 3)
    base[:, 0] += 1e-3
    base[:, 1:] -= 5e-4
    noisy = np.roll(p, 1, axis=1) * 0.2 + p * 0.8
    result = compare_to_baseline(y, base, {"logistic": p, "blurred": noisy})
    raw = [c.p_value for c in result.values()]
    assert [c.p_adjusted for c in result.values()] == pytest.approx(holm(raw))
    logistic = result["logistic"]
    assert logistic.accuracy_diff == pytest.approx(
        np.mean(p.argmax(1) == y) - np.mean(base.argmax(1) == y)
    )
    assert logistic.accuracy_diff == pytest.approx((logistic.test.n01 - logistic.test.n10) / len(y))
    assert logistic.balanced_accuracy_diff > 0


def test_compare_to_baseline_not_better_when_difference_is_small():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    base = np.eye(2)[np.where(rng.uniform(size=200) < 0.8, y, 1 - y)] * 0.8 + 0.1
    flip = rng.choice(200, 3, replace=False)
    cand_pred = base.argmax(1).copy()
    cand_pred[flip] = 1 - cand_pred[flip]
    result = compare_to_baseline(y, base, {"near": np.eye(2)[cand_pred] * 0.8 + 0.1})
    assert result["near"].verdict is Verdict.NOT_BETTER
    assert result["near"].test.n01 + result["near"].test.n10 == 3


def test_compare_to_baseline_with_no_candidates_is_empty():
    assert compare_to_baseline([0, 1], [[0.6, 0.4], [0.3, 0.7]], {}) == {}


def test_compare_to_baseline_rejects_other_class_count():
    with pytest.raises(DataError, match="Candidate 'three' has probabilities of shape"):
        compare_to_baseline([0, 1], [[0.6, 0.4], [0.3, 0.7]], {"three": np.full((2, 3), 1 / 3)})


def test_compare_to_baseline_rejects_bad_alpha():
    with pytest.raises(ConfigError, match="alpha must lie strictly between 0 and 1, but is 5"):
        compare_to_baseline([0], [[0.6, 0.4]], {}, alpha=5)


def test_verdict_values():
    assert [v.value for v in Verdict] == ["better", "not_better", "worse"]
