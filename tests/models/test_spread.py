"""The spread of a share between trainings, estimated between folds."""

from __future__ import annotations

import numpy as np
import pytest

from prudent.models._spread import realization_spread, shares_by_group


def _draws(tau: float, seed: int, groups: int = 5, rows: int = 2000) -> tuple:
    rng = np.random.default_rng(seed)
    share = np.clip(0.15 + rng.normal(0.0, tau, groups), 0.0, 1.0)
    g = np.repeat(np.arange(groups), rows)
    return rng.uniform(size=g.size) < share[g], g


@pytest.mark.parametrize("tau", [0.02, 0.05])
def test_the_spread_between_folds_is_recovered_on_average(tau: float) -> None:
    """Five folds of 2,000 rows whose trainings send 15% ± tau to review: over 300 draws the
    estimate's median lies within a third of tau (few groups make it rough, and the truncation
    at 0 and the square root pull it down a little)."""
    est = [realization_spread(*_draws(tau, seed)) for seed in range(300)]
    assert abs(np.median(est) - tau) <= tau / 3, np.median(est)


def test_no_spread_reads_as_little_or_none() -> None:
    """One share for every fold: the estimate is 0 in about half of the draws (Cochran's Q
    below its degrees of freedom) and small in the rest."""
    est = np.array([realization_spread(*_draws(0.0, seed)) for seed in range(300)])
    assert 0.35 <= np.mean(est == 0.0) <= 0.8
    assert np.mean(est) < 0.005  # a fold's own standard error here is 0.008


def test_shares_by_group_and_the_degenerate_cases() -> None:
    assert shares_by_group([True, False, False, True], [3, 3, 7, 7]) == {3: 0.5, 7: 0.5}
    assert realization_spread([True, False], [0, 0]) == 0.0  # one group
    assert realization_spread([False] * 4, [0, 0, 1, 1]) == 0.0  # nothing flagged
    assert realization_spread([True, True, False, False], [0, 0, 1, 1]) > 0.4
