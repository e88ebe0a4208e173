"""Order-statistic and binomial bounds: how many rows a threshold may leave on its far side.

:func:`tail_rows` bounds the population share beyond a threshold set among exchangeable
scores, :func:`batch_tail_rows` the share of a new batch (with a model that moves from one
training to the next), and :func:`accuracy_lower_bound` an accuracy (Clopper–Pearson). The
review budget and the OOD detector's flag rate rest on them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import beta, betabinom

__all__ = ["accuracy_lower_bound", "batch_tail_rows", "tail_rows"]

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(24)
"""Gauss–Hermite nodes and weights for the expectation over a standard normal deviate."""
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def accuracy_lower_bound(n_correct: int, n: int, delta: float) -> float:
    """The one-sided Clopper–Pearson lower bound on an accuracy, at level ``1 - delta``.

    Examples
    --------
    >>> round(accuracy_lower_bound(90, 100, 0.1), 3)
    0.85
    """
    if n <= 0 or n_correct <= 0:
        return 0.0
    return float(beta.ppf(delta, n_correct, n - n_correct + 1))


def tail_rows(n: int, share: float, delta: float) -> int:
    """The most of ``n`` rows that a threshold set among them may leave on its far side
    (itself included) so that the population share there stays within ``share`` with
    probability ``1 - delta`` (0 when even one row is too many).

    The share of the population at or below the ``k``-th smallest of ``n`` exchangeable
    scores is distributed Beta(k, n - k + 1) (and, by symmetry, the share at or above the
    ``k``-th largest): the count is the largest ``k`` whose ``1 - delta`` quantile stays
    within ``share``. A plain ``share`` quantile keeps the share only on average, and new
    rows exceed it about half of the time.

    Examples
    --------
    >>> tail_rows(2000, 0.15, 0.1), int(0.15 * 2000)  # about 1.3 standard errors fewer
    (280, 300)
    >>> tail_rows(400, 0.05, 0.1), tail_rows(10, 0.15, 0.1)
    (15, 0)
    """
    # beyond k = share * (n + 1) + 1 even the mean of Beta(k, n - k + 1) exceeds the share,
    # so no larger k can fit
    k = np.arange(1, min(n, int(share * (n + 1)) + 1) + 1)
    fits = np.flatnonzero(beta.ppf(1.0 - delta, k, n - k + 1) <= share)
    return int(fits[-1]) + 1 if fits.size else 0


def batch_tail_rows(n: int, share: float, delta: float, batch: int, spread: float = 0.0) -> int:
    """The most of ``n`` rows that a threshold set among them may leave on its far side
    (itself included) so that, of a new batch of ``batch`` rows, more than ``share`` land
    there with probability at most ``delta`` (0 when even one row is too many).

    The batch's count there is Binomial(batch, U) with U ~ Beta(k, n - k + 1) (see
    :func:`tail_rows`): Beta-binomial. Against :func:`tail_rows`, which bounds the population
    share, this also allows for the batch's own sampling noise, so a user who counts the share
    on a batch as large as the rows that set the threshold finds it within ``share`` with
    probability ``1 - delta`` (about 1.8 standard errors of margin where the population
    bound keeps 1.3).

    ``spread`` allows besides for a model whose share moves from one training to the next
    (:func:`~prudent.models._spread.realization_spread`): the new batch is scored by another
    training, whose share is shifted by a normal deviate of that standard deviation
    (integrated by Gauss–Hermite quadrature). With ``spread`` 0 the bound is the one above.

    Examples
    --------
    >>> batch_tail_rows(2000, 0.15, 0.1, 2000), tail_rows(2000, 0.15, 0.1)
    (272, 280)
    >>> batch_tail_rows(2000, 0.15, 0.1, 10**7) == tail_rows(2000, 0.15, 0.1)
    True
    >>> batch_tail_rows(2000, 0.15, 0.1, 2000, spread=0.02)  # a spread of 2 points
    242
    """
    limit = math.floor(share * batch + 1e-9)  # more than this many is over the share
    # the counts beyond which the batch goes over, under each shift of the training's share
    limits = np.floor(limit - batch * spread * _NODES + 1e-9) if spread > 0 else limit

    def keeps(k: int) -> bool:
        over = betabinom.sf(limits, batch, k, n - k + 1)
        return bool(np.dot(_WEIGHTS, over) <= delta if spread > 0 else over <= delta)

    lo, hi = 0, min(n, int(share * (n + 1)) + 1)  # keeps(lo) (none), keeps(hi) unknown
    if hi >= 1 and keeps(hi):
        return hi
    while hi - lo > 1:  # the chance of going over grows with k: bisect
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if keeps(mid) else (lo, mid)
    return lo
