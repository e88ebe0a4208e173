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

Up to :data:`_ROW_DRAWS` labelled rows (an hour of a busy log) both are drawn row by row, which
is the same distribution drawn with cheaper numbers: a bin's ``Binomial(n, c)`` is the sum of
its ``n`` rows' ``Bernoulli(c)`` (a uniform below ``c``), and a cell's ``Poisson(k)`` the sum of
its ``k`` rows' ``Poisson(1)`` weights (a uniform read through the Poisson(1) CDF). Larger
windows draw per bin, whose cost does not grow with the rows.

Every window's generator starts from the same seed, so a window of ``n`` rows draws the first
``2 * n_resamples * n`` numbers of one stream: the null's uniforms, then the weights' (a
generator's uniforms are its stream read in order, whatever the shape asked for). The start of
that stream and its Poisson(1) weights are drawn once per seed and sliced for each window
(:func:`_stream`): the same numbers, so the same figures, without drawing and converting a
hundred thousand uniforms per window (a month of hours has 720 windows).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

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
        cdf = self._cdf
        at = np.minimum(np.searchsorted(cdf, ranks, side="left"), FINE_BINS - 1)
        point, low, high = (self._at_rank(cdf, int(i), r) for i, r in zip(at, ranks, strict=True))
        return Estimate(point, low, high, total)

    @functools.cached_property
    def _cdf(self) -> FloatArray:
        """Rows up to and including each bin (computed once: each quantile reads it)."""
        cdf: FloatArray = np.cumsum(self.n)
        return cdf

    def _at_rank(self, cdf: FloatArray, i: int, rank: float) -> float:
        """The confidence of ``rank`` (1-based, fractional), in bin ``i`` (its first bin whose
        cumulative count reaches the rank)."""
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
        cells = _Cells(counts, ok, mean_c, starts)
        if n <= _ROW_DRAWS:
            null, boot = _per_row(_stream(seed, 2 * n_resamples * n), n_resamples, cells)
        else:
            null, boot = _per_bin(np.random.default_rng(seed), n_resamples, cells)
        p = (1 + int(np.count_nonzero(null >= observed - 1e-12))) / (n_resamples + 1)
        low, high = np.quantile(boot, [0.025, 0.975])
        return Calibration(Estimate(observed, float(low), float(high), n), float(p))


_ROW_DRAWS = 2000
"""Most labelled rows whose resamples are drawn row by row (a resamples × rows array)."""
_POISSON_1_CDF = np.cumsum([math.exp(-1) / math.factorial(k) for k in range(19)])
"""The Poisson(1) CDF up to 18, where it is 1 in double precision."""

_Draws = tuple[FloatArray, FloatArray]


class _Cells(NamedTuple):
    """The labelled fine bins: rows, right ones, mean confidence; where each ECE bin starts."""

    counts: FloatArray
    ok: FloatArray
    mean_c: FloatArray
    starts: IntArray


def _poisson_1(uniform: FloatArray) -> IntArray:
    """Poisson(1) draws from uniforms through the CDF: three comparisons place 92% of them,
    a search the rest."""
    cdf = _POISSON_1_CDF
    drawn: IntArray = (uniform >= cdf[0]).astype(np.int64)
    drawn += uniform >= cdf[1]
    drawn += uniform >= cdf[2]
    flat, values = drawn.reshape(-1), uniform.reshape(-1)
    tail = np.flatnonzero(values >= cdf[2])
    flat[tail] = np.searchsorted(cdf, values[tail], side="right")
    return drawn


def _per_bin(rng: np.random.Generator, size: int, cells: _Cells) -> _Draws:
    """The null and bootstrap ECEs, each bin's counts drawn whole (Binomial and Poisson)."""
    counts, ok, mean_c, starts = cells
    n = int(counts.sum())
    drawn = rng.binomial(counts.astype(np.int64), mean_c, size=(size, counts.size))
    null = _ece(drawn - counts * mean_c, starts, n)
    right = rng.poisson(ok, size=(size, counts.size))
    wrong = rng.poisson(counts - ok, size=(size, counts.size))
    sizes = np.maximum((right + wrong).sum(axis=1), 1)
    return null, _ece(right * (1 - mean_c) - wrong * mean_c, starts, sizes)


_CACHED = 2 * 500 * _ROW_DRAWS
"""Most numbers of a seed's stream kept (what the default 500 resamples of the largest window
drawn row by row use: 16 MB of uniforms, 2 MB of weights)."""

_Stream = tuple[FloatArray, npt.NDArray[np.integer[Any]]]


@functools.lru_cache(maxsize=4)
def _cached(seed: int, length: int) -> _Stream:
    uniform = np.random.default_rng(seed).random(length)
    weights = _poisson_1(uniform).astype(np.int8)  # at most 18
    uniform.flags.writeable = weights.flags.writeable = False
    return uniform, weights


def _stream(seed: int, length: int) -> _Stream:
    """The first ``length`` uniforms of ``default_rng(seed)``, and each read as a Poisson(1)
    draw: sliced from the numbers kept for the seed (as many as the next power of two, so
    that windows of similar sizes share them), or drawn afresh past :data:`_CACHED`."""
    if length > _CACHED:
        uniform = np.random.default_rng(seed).random(length)
        return uniform, _poisson_1(uniform)
    uniform, weights = _cached(seed, 1 << max(length - 1, 0).bit_length())
    return uniform[:length], weights[:length]


def _per_row(stream: _Stream, size: int, cells: _Cells) -> _Draws:
    """The null and bootstrap ECEs, drawn row by row (the same distributions, see the module
    notes): each row a Bernoulli of its bin's mean confidence, and a Poisson(1) weight; the
    uniforms and weights are ``stream``'s (:func:`_stream`), the null's first, then the
    weights' (what one generator of that seed draws for ``size`` resamples of these rows)."""
    counts, ok, mean_c, starts = cells
    per_bin = counts.astype(np.int64)
    bin_of = np.repeat(np.arange(counts.size), per_bin)
    first = np.cumsum(per_bin) - per_bin
    right = (np.arange(bin_of.size) - first[bin_of]) < ok[bin_of]  # the first ok rows of a bin
    c = mean_c[bin_of]
    row_starts = first[starts]
    n = bin_of.size
    uniform, poisson = stream
    null = _ece((uniform[: size * n].reshape(size, n) < c) - c, row_starts, n)
    weights = poisson[size * n : 2 * size * n].reshape(size, n)
    sizes = np.maximum(weights.sum(axis=1), 1)
    return null, _ece(weights * (right - c), row_starts, sizes)


def _ece(gaps: FloatArray, starts: IntArray, n: FloatArray | int) -> FloatArray:
    """ECE from per-fine-bin sums of ``correct - confidence`` (last axis); ``starts`` opens each
    ECE bin's run of fine bins."""
    sums = np.add.reduceat(np.asarray(gaps, dtype=float), starts, axis=-1)
    result: FloatArray = np.abs(sums).sum(axis=-1) / n
    return result
