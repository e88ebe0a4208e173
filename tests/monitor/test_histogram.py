"""The ECE test and interval drawn row by row follow the same distributions as per bin."""

from __future__ import annotations

import numpy as np
import pytest

from prudent.monitor import _histogram
from prudent.monitor._histogram import ConfidenceHistogram


@pytest.mark.parametrize("shift", [0.0, 0.1])
def test_calibration_drawn_per_row_agrees_with_per_bin(
    shift: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(5)
    conf = np.clip(0.5 + 0.5 * rng.beta(4, 1.5, 300), 0.5, 0.999)
    right = rng.random(300) < conf - shift
    bins = (conf * 1500).astype(int) // 3 * 3  # some bins hold several rows
    hist = ConfidenceHistogram.from_rows(
        [(b, 1) for b in bins],
        [(b, 1, c, int(r)) for b, c, r in zip(bins, conf, right, strict=True)],
    )
    per_row = hist.calibration(30, 20_000, seed=1)
    monkeypatch.setattr(_histogram, "_ROW_DRAWS", 0)
    per_bin = hist.calibration(30, 20_000, seed=1)
    assert per_row.ece.point == per_bin.ece.point
    assert per_row.p_value == pytest.approx(per_bin.p_value, abs=0.015)
    assert per_row.ece.low == pytest.approx(per_bin.ece.low, abs=0.003)
    assert per_row.ece.high == pytest.approx(per_bin.ece.high, abs=0.003)


def test_poisson_1_draws_follow_the_cdf() -> None:
    uniform = np.random.default_rng(0).random(200_000)
    drawn = _histogram._poisson_1(uniform)
    assert (drawn == np.searchsorted(_histogram._POISSON_1_CDF, uniform, side="right")).all()
    assert drawn.mean() == pytest.approx(1.0, abs=0.01)
    assert drawn.var() == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("length", [1, 10, 1025, 3_000_000])
def test_stream_is_the_generator_s_first_draws(length: int) -> None:
    uniform, weights = _histogram._stream(3, length)
    expected = np.random.default_rng(3).random(length)
    assert (uniform == expected).all()
    assert (weights == _histogram._poisson_1(expected)).all()


def test_calibration_draws_as_a_fresh_generator_of_the_seed() -> None:
    rng = np.random.default_rng(2)
    conf = np.clip(0.5 + 0.5 * rng.beta(4, 1.5, 200), 0.5, 0.999)
    bins = (conf * 1500).astype(int)
    hist = ConfidenceHistogram.from_rows(
        [(b, 1) for b in bins],
        [(b, 1, c, int(r)) for b, c, r in zip(bins, conf, rng.random(200) < conf, strict=True)],
    )
    first, again = hist.calibration(30, 300, seed=4), hist.calibration(30, 300, seed=4)
    used = hist.n_cal > 0
    cells = _histogram._Cells(
        hist.n_cal[used], hist.n_ok[used], hist.sum_c_cal[used] / hist.n_cal[used],
        np.flatnonzero(np.r_[True, np.diff(np.flatnonzero(used) // 100) != 0]),
    )  # fmt: skip
    fresh = np.random.default_rng(4).random(2 * 300 * 200)
    null, boot = _histogram._per_row((fresh, _histogram._poisson_1(fresh)), 300, cells)
    observed = first.ece.point
    assert first == again
    assert first.p_value == (1 + np.count_nonzero(null >= observed - 1e-12)) / 301
    assert (first.ece.low, first.ece.high) == tuple(np.quantile(boot, [0.025, 0.975]))
