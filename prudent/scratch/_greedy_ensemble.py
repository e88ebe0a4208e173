"""Greedy ensemble selection from scratch, with plain loops (Caruana et al., 2004).

Each candidate model has out-of-fold probabilities for the same rows. The ensemble is the
average of the probabilities of a multiset of models: start with the best single model,
then repeatedly add (with replacement) the model whose addition gives the lowest log loss.
Adding a model twice doubles its weight, so the multiset is a set of weights. The weights
kept are those of the step with the lowest loss, not the last step.

The production version is ``prudent.models._ensemble_greedy.greedy_ensemble_selection``, which
scores all candidates at once with array operations and breaks exact ties at random.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from prudent._typing import EncodedLabels, FloatArray, ProbaMatrix

__all__ = ["greedy_selection"]


def _log_loss(proba: ProbaMatrix, y: EncodedLabels) -> float:
    """Mean of ``-log p(true class)``, with probabilities floored at machine epsilon."""
    eps = float(np.finfo(np.float64).eps)
    total = 0.0
    for row, label in enumerate(y):
        total -= math.log(max(float(proba[row, label]), eps))
    return total / len(y)


def greedy_selection(
    probas: Sequence[ProbaMatrix], y: EncodedLabels, n_iter: int = 50
) -> FloatArray:
    """Return one weight per model, found by greedy forward selection with replacement.

    Parameters
    ----------
    probas
        One ``(n, k)`` probability matrix per model.
    y
        True class indices, shape ``(n,)``.
    n_iter
        Models added after the first.

    Returns
    -------
    numpy.ndarray
        Weights summing to 1.

    Examples
    --------
    >>> y = np.array([0, 1])
    >>> a = np.array([[0.9, 0.1], [0.6, 0.4]])  # sure and right, then unsure and wrong
    >>> b = np.array([[0.4, 0.6], [0.1, 0.9]])  # the reverse
    >>> greedy_selection([a, b], y, n_iter=3).tolist()
    [0.5, 0.5]
    """
    losses = [_log_loss(p, y) for p in probas]
    first = losses.index(min(losses))
    counts = [0] * len(probas)
    counts[first] = 1
    total = probas[first].copy()  # sum of the chosen models' probabilities
    best_loss, best_counts = losses[first], list(counts)
    for _ in range(n_iter):
        n_chosen = sum(counts)
        step_losses = [_log_loss((total + p) / (n_chosen + 1), y) for p in probas]
        pick = step_losses.index(min(step_losses))
        counts[pick] += 1
        total = total + probas[pick]
        if step_losses[pick] < best_loss:
            best_loss, best_counts = step_losses[pick], list(counts)
    return np.array(best_counts, dtype=np.float64) / sum(best_counts)
