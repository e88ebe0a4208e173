"""Figures from a window's fine confidence histogram: quantiles, and ECE with its test.

The database returns, per bin of width ``1/FINE_BINS``, the rows in it and (in a second query)
among the labelled top-label rows, their count, the sum of their confidences and how many were
right. Quantiles
interpolate inside a bin (error below 1/1500); their interval is the distribution-free one
between the order statistics of rank ``nq ± 1.96 sqrt(nq(1-q))``. The 15 ECE bins are unions of
100 fine bins, so the ECE is the one :func:`prudent.metrics.ece_from_confidence` gives (up to a
confidence lying exactly on a bin edge). Its consistency test (Bröcker & Smith 2007) draws each
fine bin's correct count from ``Binomial(n, mean confidence)``; its interval is a Poisson
bootstrap (each (bin, right/wrong) cell's count redrawn from a Poisson of that mean, the fast
large-sample stand-in for the multinomial).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from prudent._typing import FloatArray, IntArray
from prudent.monitor._figures import Z95, Estimate, Figure, NotEnoughData
from prudent.monitor._sql import FINE_BINS

__all__ = ["Calibration", "ConfidenceHistogram"]

_ECE_BINS = 15
_PER_ECE_BIN = FINE_BINS // _ECE_BINS


@dataclass(frozen=True)
class Calibration:
    """The top-label ECE of a window's labelled rows, and the consistency test's p-value.

    Parameters
    ----------
    ece
        The ECE with its bootstrap interval, or not enough data.
    p_value
        Chance of an ECE this large from a perfectly calibrated model with the same
        confidences; None with not enough data.
    """

    ece: Figure
    p_value: float | None


@dataclass(frozen=True)
class ConfidenceHistogram:
    """One window's fine confidence histogram (arrays of length ``FINE_BINS``).

    Parameters
    ----------
    n
        Rows per bin.
    n_cal
        Labelled top-label rows per bin.
    sum_c_cal
        Sum of their confidences per bin.
    n_ok
        How many of them were right, per bin.
    """

    n: FloatArray
    n_cal: FloatArray
    sum_c_cal: FloatArray
    n_ok: FloatArray

    @classmethod
    def from_rows(
        cls,
        counts: Sequence[tuple[int, int]] | IntArray,
        labelled: Sequence[tuple[int, int, float, int]] | FloatArray = (),
    ) -> ConfidenceHistogram:
        """Build from ``(bin, n)`` rows and the labelled top-label rows' ``(bin, n_cal,
        sum_c_cal, n_ok)`` (bins past either end are clipped into the first or last).

        Examples
        --------
        >>> h = ConfidenceHistogram.from_rows([(1499, 2), (1500, 1)], [(1499, 2, 1.9, 1)])
        >>> float(h.n[-1]), float(h.n_cal[-1]), float(h.sum_c_cal[-1])
        (3.0, 2.0, 1.9)
        """
        arrays = np.zeros((4, FINE_BINS))
        for rows, first in ((counts, 0), (labelled, 1)):
            if len(rows):
                table = np.asarray(rows, dtype=float)
                at = np.clip(table[:, 0].astype(np.int64), 0, FINE_BINS - 1)
                for k in range(1, table.shape[1]):
                    np.add.at(arrays[first + k - 1], at, table[:, k])
        return cls(*arrays)

    def quantile(self, q: float, minimum: int) -> Figure:
        """Return the ``q`` quantile of the confidences with its order-statistic interval."""
        total = int(self.n.sum())
        if total < minimum:
            return NotEnoughData(total, minimum)
        half = Z95 * math.sqrt(total * q * (1 - q))
        ranks = np.clip([q * total, q * total - half, q * total + half], 0, total)
        point, low, high = (self._at_rank(r) for r in ranks)
        return Estimate(point, low, high, total)

    def _at_rank(self, rank: float) -> float:
        cdf = np.cumsum(self.n)
        i = int(np.searchsorted(cdf, rank, side="left"))
        i = min(i, FINE_BINS - 1)
        before = cdf[i - 1] if i > 0 else 0.0
        inside = (rank - before) / self.n[i] if self.n[i] > 0 else 0.0
        return float((i + min(max(inside, 0.0), 1.0)) / FINE_BINS)

    def calibration(self, minimum: int, n_resamples: int = 500, seed: int = 0) -> Calibration:
        """Return the ECE of the labelled rows, its bootstrap interval and its test's p-value."""
        n = int(self.n_cal.sum())
        if n < minimum:
            return Calibration(NotEnoughData(n, minimum), None)
        used = self.n_cal > 0
        counts, ok = self.n_cal[used], self.n_ok[used]
        mean_c = self.sum_c_cal[used] / counts
        coarse = np.flatnonzero(used) // _PER_ECE_BIN  # sorted, so each coarse bin is a run
        starts = np.flatnonzero(np.r_[True, coarse[1:] != coarse[:-1]])
        observed = float(_ece(ok - counts * mean_c, starts, n))
        rng = np.random.default_rng(seed)
        drawn = rng.binomial(counts.astype(np.int64), mean_c, size=(n_resamples, counts.size))
        null = _ece(drawn - counts * mean_c, starts, n)
        p = (1 + int(np.count_nonzero(null >= observed - 1e-12))) / (n_resamples + 1)
        right = rng.poisson(ok, size=(n_resamples, counts.size))
        wrong = rng.poisson(counts - ok, size=(n_resamples, counts.size))
        sizes = np.maximum((right + wrong).sum(axis=1), 1)
        boot = _ece(right * (1 - mean_c) - wrong * mean_c, starts, sizes)
        low, high = np.quantile(boot, [0.025, 0.975])
        return Calibration(Estimate(observed, float(low), float(high), n), float(p))


def _ece(gaps: FloatArray, starts: IntArray, n: FloatArray | int) -> FloatArray:
    """ECE from per-fine-bin sums of ``correct - confidence`` (last axis); ``starts`` opens each
    ECE bin's run of fine bins."""
    sums = np.add.reduceat(np.asarray(gaps, dtype=float), starts, axis=-1)
    result: FloatArray = np.abs(sums).sum(axis=-1) / n
    return result
