"""Learn-Then-Test threshold selection from scratch, in plain Python, for reading.

The production version is :func:`prudent.models._learn_then_test.select_threshold`; this one
gives the same threshold (a test checks it) with loops instead of arrays and no scipy.

The idea in four steps:

1. Sort the distinct confidences from high to low: these are the candidate thresholds.
2. For a threshold ``t``, the rows with confidence ≥ ``t`` are accepted. Suppose their true
   error rate were above ``alpha = 1 - target_accuracy``. Then seeing as few errors as we
   saw would be unlikely: the p-value is P(Binomial(n_accepted, alpha) ≤ errors).
3. Walk the candidates from the highest down. While the p-value is ≤ ``delta``, we may claim
   "error rate ≤ alpha" for that threshold and go on; at the first that fails, stop.
   (Skip thresholds that accept too few rows to ever pass.)
4. The last threshold that passed is the answer; with probability ≥ ``1 - delta`` its error
   rate is ≤ ``alpha``. If none passed, accept nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["binomial_cdf", "ltt_threshold"]


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X ≤ k) for X ~ Binomial(n, p), summing the terms in log space (no overflow).

    Examples
    --------
    >>> round(binomial_cdf(0, 100, 0.05), 6)  # 0.95 ** 100
    0.005921
    """
    if n == 0 or k >= n:
        return 1.0
    total = 0.0
    for i in range(k + 1):
        log_term = (
            math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
            + i * math.log(p) + (n - i) * math.log1p(-p)
        )  # fmt: skip
        total += math.exp(log_term)
    return min(total, 1.0)


def ltt_threshold(
    confidence: Sequence[float],
    correct: Sequence[bool],
    target_accuracy: float = 0.95,
    delta: float = 0.1,
    min_accept: int = 1,
) -> float:
    """The lowest threshold whose accepted rows are accurate enough, or ``inf``.

    Examples
    --------
    >>> conf = [0.99] * 60 + [0.7] * 40
    >>> correct = [True] * 60 + [True] * 20 + [False] * 20
    >>> ltt_threshold(conf, correct, target_accuracy=0.95, delta=0.1)
    0.99
    """
    alpha = 1.0 - target_accuracy
    rows = sorted(zip(confidence, correct, strict=True), key=lambda row: -row[0])
    best = math.inf
    for t in sorted(set(confidence), reverse=True):
        accepted = [ok for c, ok in rows if c >= t]
        n, errors = len(accepted), accepted.count(False)
        if n < min_accept or binomial_cdf(0, n, alpha) > delta:
            continue  # too few rows: even zero errors would not be evidence enough
        if binomial_cdf(errors, n, alpha) > delta:
            break
        best = t
    return best
