"""How much a share moves from one training of a model to the next.

The thresholds are set on out-of-fold rows: each fold's rows are scored by a model trained
without them, so every fold is scored by a different training of the same recipe. The model
that ships is one more training (on every row). When the folds' shares of rows sent to review
differ by more than their binomial noise, the recipe itself moves the share from training to
training, and the shipped model's share on new rows moves with it — a shift no count of
held-out rows averages away. :func:`realization_spread` estimates that spread between folds,
as the between-study deviation of a random-effects meta-analysis (DerSimonian & Laird, 1986).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from prudent._typing import FloatArray

__all__ = ["realization_spread", "shares_by_group"]


def shares_by_group(flags: npt.ArrayLike, groups: npt.ArrayLike) -> dict[int, float]:
    """The share of flagged rows in each group.

    Examples
    --------
    >>> shares_by_group([True, False, True, True], [0, 0, 1, 1])
    {0: 0.5, 1: 1.0}
    """
    labels, _, share = _groups(flags, groups)
    return {int(k): float(s) for k, s in zip(labels, share, strict=True)}


def _groups(flags: npt.ArrayLike, groups: npt.ArrayLike) -> tuple[Any, FloatArray, FloatArray]:
    """The groups, their row counts and their shares of flagged rows."""
    f = np.asarray(flags, dtype=bool)
    labels, g = np.unique(np.asarray(groups), return_inverse=True)
    n = np.bincount(g, minlength=len(labels)).astype(np.float64)
    return labels, n, np.bincount(g, weights=f, minlength=len(labels)) / n


def realization_spread(flags: npt.ArrayLike, groups: npt.ArrayLike) -> float:
    """The standard deviation, beyond binomial noise, of the share of flagged rows across
    groups (each group scored by its own training of the model); 0 when none shows.

    DerSimonian–Laird's moment estimate: Cochran's ``Q`` of the groups' shares about their
    weighted mean, against its ``g - 1`` degrees of freedom when the groups share one share.
    With the pooled share's binomial variance per group, ``tau² = max(0, (Q - (g - 1)) /
    (W - sum(w²) / W))``. Five folds make it a rough estimate; it errs towards a wider
    margin, never towards ignoring a spread that shows.

    Parameters
    ----------
    flags
        Per row, whether it is flagged (e.g. sent to review).
    groups
        Per row, the group (fold) whose model scored it.

    Returns
    -------
    float
        ``tau``, on the scale of the share; 0 with fewer than two groups or a pooled share
        of 0 or 1.

    Examples
    --------
    Five folds of 1,000 rows whose models send 5%, 10%, ... 25% of rows to review (a
    standard deviation of .079), then five that all send 15% (their estimate is noise, within
    a fold's standard error of .011):

    >>> rng = np.random.default_rng(0)
    >>> groups = np.repeat(np.arange(5), 1000)
    >>> moved = rng.uniform(size=5000) < np.repeat([0.05, 0.10, 0.15, 0.20, 0.25], 1000)
    >>> round(realization_spread(moved, groups), 2)
    0.08
    >>> same = rng.uniform(size=5000) < 0.15
    >>> realization_spread(same, groups) < 0.011
    True
    """
    labels, n, share = _groups(flags, groups)
    pooled = float(np.sum(n * share) / n.sum()) if n.sum() else 0.0
    if len(labels) < 2 or pooled in (0.0, 1.0):
        return 0.0
    w = n / (pooled * (1.0 - pooled))
    mean = float(np.sum(w * share) / w.sum())
    q = float(np.sum(w * (share - mean) ** 2))
    scale = float(w.sum() - np.sum(w**2) / w.sum())
    return math.sqrt(max(0.0, (q - (len(labels) - 1)) / scale))
