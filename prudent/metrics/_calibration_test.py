"""Top-label expected calibration error and its consistency-resampling test.

ECE bins the rows by top-label confidence into ``n_bins`` equal-width bins
``((m-1)/M, m/M]`` (Guo et al. 2017) and averages ``|accuracy - confidence|`` over the bins,
weighted by bin count. Written with ``d = correct - confidence`` it is
``(1/n) * sum_m |sum_{i in bin m} d_i|``, which is how it is computed here: one ``bincount``
gives the ECE of many resamples at once, for the bootstrap and for the test.

The test (Bröcker & Smith 2007, "consistency resampling") asks whether a perfectly
calibrated model, with the same confidences, would often show an ECE as large as the one
observed: it keeps the confidences, draws correctness ~ Bernoulli(confidence), and recomputes
the ECE each time.

Rows that come in groups (``groups``: a person's visits, whose outcomes rise and fall
together) make the observed ECE vary more than independent rows would: the calibrated
worlds' ECEs are then widened by the square root of the design effect of the rows' gaps
around their bins' means (:func:`design_effect`), as a bin's gap's standard error is.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from prudent._typing import FloatArray, IntArray
from prudent.errors import ConfigError
from prudent.metrics._results import TestResult
from prudent.metrics._validation import check_confidence_correct, check_n_bins

__all__ = [
    "bin_index",
    "design_effect",
    "ece_consistency_test",
    "ece_from_confidence",
    "grouped_ece",
]

_CELLS_PER_CHUNK = 2_000_000  # resamples are drawn in blocks of about this many cells


def bin_index(confidence: FloatArray, n_bins: int) -> IntArray:
    """Return the equal-width bin of each confidence, bins closed on the right.

    Examples
    --------
    >>> import numpy as np
    >>> bin_index(np.array([0.0, 0.2, 0.21, 1.0]), 5).tolist()
    [0, 0, 1, 4]
    """
    raw = np.ceil(confidence * n_bins).astype(np.int64) - 1
    return np.clip(raw, 0, n_bins - 1)


def grouped_ece(
    groups: IntArray, bins: IntArray, gaps: FloatArray, n_groups: int, n_bins: int
) -> FloatArray:
    """Return the ECE of each of ``n_groups`` equally sized samples at once.

    Parameters
    ----------
    groups
        The sample each cell belongs to, shape ``(n_groups, n)`` or broadcastable to it.
    bins
        The bin of each cell, same shape.
    gaps
        ``correct - confidence`` of each cell, same shape.
    n_groups
        The number of samples.
    n_bins
        The number of bins.

    Returns
    -------
    ndarray
        The ECE of each sample, shape ``(n_groups,)``.

    Examples
    --------
    >>> import numpy as np
    >>> grouped_ece(np.zeros((1, 2), int), np.array([[0, 0]]), np.array([[0.2, 0.2]]), 1, 2)
    array([0.2])
    """
    gaps_b = np.broadcast_to(gaps, np.broadcast_shapes(groups.shape, bins.shape, gaps.shape))
    n = gaps_b.shape[-1]
    keys = (groups * n_bins + bins).ravel()
    sums = np.bincount(keys, weights=gaps_b.ravel(), minlength=n_groups * n_bins)
    result: FloatArray = np.abs(sums.reshape(n_groups, n_bins)).sum(axis=1) / n
    return result


def ece_from_confidence(
    confidence: npt.ArrayLike, correct: npt.ArrayLike, n_bins: int = 15
) -> float:
    """Return the top-label expected calibration error from confidences and correctness.

    Parameters
    ----------
    confidence
        The top-label probability of each row, in ``[0, 1]``.
    correct
        Whether each row's top label is right.
    n_bins
        The number of equal-width confidence bins.

    Returns
    -------
    float
        The count-weighted mean of ``|accuracy - confidence|`` over the bins, in ``[0, 1]``.

    Raises
    ------
    DataError
        When the arrays are empty, of different lengths, or hold invalid values.
    ConfigError
        When ``n_bins`` is not a positive integer.

    Examples
    --------
    >>> round(ece_from_confidence([0.9, 0.9, 0.6, 0.6], [1, 0, 1, 1]), 3)
    0.4
    """
    conf, ok = check_confidence_correct(confidence, correct)
    m = check_n_bins(n_bins)
    bins = bin_index(conf, m)
    gaps = ok - conf
    return float(grouped_ece(np.zeros_like(bins), bins, gaps, 1, m)[0])


def ece_consistency_test(
    confidence: npt.ArrayLike,
    correct: npt.ArrayLike,
    n_bins: int = 15,
    n_resamples: int = 1000,
    seed: int = 0,
    groups: npt.ArrayLike | None = None,
) -> TestResult:
    """Test whether the observed ECE is larger than a calibrated model would show.

    Parameters
    ----------
    confidence
        The top-label probability of each row, in ``[0, 1]``.
    correct
        Whether each row's top label is right.
    n_bins
        The number of equal-width confidence bins.
    n_resamples
        How many calibrated worlds to draw.
    seed
        Seed of the random generator.
    groups
        Each row's group, when rows come in groups whose outcomes go together: the
        calibrated worlds' ECEs are widened by the square root of :func:`design_effect`.

    Returns
    -------
    TestResult
        ``statistic`` is the observed ECE; ``p_value`` is
        ``(1 + #{null ECE >= observed}) / (n_resamples + 1)``. A small p-value means the
        model is miscalibrated beyond what chance and binning explain.

    Raises
    ------
    DataError
        When the arrays are empty, of different lengths, or hold invalid values.
    ConfigError
        When ``n_bins`` or ``n_resamples`` is not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> conf = np.full(200, 0.9)
    >>> overconfident = ece_consistency_test(conf, np.arange(200) % 2 == 0, n_resamples=200)
    >>> overconfident.p_value < 0.01
    True
    """
    conf, ok = check_confidence_correct(confidence, correct)
    m = check_n_bins(n_bins)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 1:
        raise ConfigError(
            f"n_resamples must be a positive integer, but is {n_resamples!r}; pass e.g. 1000."
        )
    bins = bin_index(conf, m)
    observed = float(grouped_ece(np.zeros_like(bins), bins, ok - conf, 1, m)[0])
    null = _null_eces(conf, bins, m, n_resamples, np.random.default_rng(seed))
    if groups is not None:
        null = null * np.sqrt(design_effect(ok - conf, bins, groups))
    exceed = int(np.count_nonzero(null >= observed - 1e-12))
    return TestResult(
        name="ECE consistency resampling",
        statistic=observed,
        p_value=(1 + exceed) / (n_resamples + 1),
    )


def design_effect(gaps: npt.ArrayLike, bins: npt.ArrayLike, groups: npt.ArrayLike) -> float:
    """How much more a bin's summed gap varies with the rows in ``groups`` than with rows
    drawn alone: the groups' summed squared sums of the gaps around their bins' means over
    the rows' summed squares (at least 1). Centred in each bin, so that a miscalibration
    every group shares does not pass for correlation.

    Examples
    --------
    >>> import numpy as np
    >>> gaps = np.repeat([0.3, -0.3] * 10, 5)  # groups of five rows alike
    >>> bins = np.zeros(100, dtype=int)
    >>> round(design_effect(gaps, bins, np.repeat(np.arange(20), 5)), 6)
    5.0
    >>> design_effect(gaps, bins, np.arange(100))
    1.0
    """
    d = np.asarray(gaps, dtype=np.float64)
    b = np.asarray(bins, dtype=np.int64)
    _, g = np.unique(np.asarray(groups), return_inverse=True)
    mean = np.bincount(b, weights=d) / np.maximum(np.bincount(b), 1)
    e = d - mean[b]
    total = float((e**2).sum())
    if total <= 0:
        return 1.0
    return max(1.0, float((np.bincount(g, weights=e) ** 2).sum()) / total)


def _null_eces(
    conf: FloatArray, bins: IntArray, n_bins: int, n_resamples: int, rng: np.random.Generator
) -> FloatArray:
    """Return ECEs of ``n_resamples`` draws of correctness ~ Bernoulli(confidence)."""
    n = conf.shape[0]
    chunk = max(1, _CELLS_PER_CHUNK // n)
    out = np.empty(n_resamples)
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        gaps = (rng.random((size, n)) < conf) - conf
        groups = np.arange(size)[:, None]
        out[start : start + size] = grouped_ece(groups, bins[None, :], gaps, size, n_bins)
    return out
