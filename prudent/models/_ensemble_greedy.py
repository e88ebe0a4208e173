"""Greedy ensemble selection (Caruana et al., 2004) over out-of-fold probabilities.

The member that most lowers the averaged probabilities' loss is added, with replacement,
until the steps run out; a member's weight is its share of the picks at the best step.
The input checks here (:func:`_as_stack`, :func:`_encode`) and the loss (:func:`_losses`)
serve stacking and the honest choice too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from prudent._typing import EncodedLabels, FloatArray, IntArray, Labels, ProbaMatrix
from prudent.errors import ConfigError, DataError, TargetError

__all__ = ["RandomState", "greedy_ensemble_selection"]

_EPS = float(np.finfo(np.float64).eps)
_METRICS = ("log_loss", "brier")
RandomState = int | np.random.RandomState | None


def _as_stack(oof_probas: Sequence[ProbaMatrix]) -> FloatArray:
    """Stack members' probabilities into shape ``(n_members, n_samples, n_classes)``."""
    arrays = [np.asarray(p, dtype=np.float64) for p in oof_probas]
    if not arrays:
        raise DataError("oof_probas is empty; pass one (n_samples, n_classes) array per model.")
    shape = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.ndim != 2 or a.shape != shape:
            raise DataError(
                f"oof_probas[{i}] has shape {a.shape}, but oof_probas[0] has shape {shape}; "
                "every member needs (n_samples, n_classes) probabilities for the same rows."
            )
        if not np.isfinite(a).all():
            raise DataError(f"oof_probas[{i}] holds NaN or infinite values; recompute it.")
    return np.stack(arrays)


def _encode(y: Labels, n_samples: int, n_classes: int) -> EncodedLabels:
    """Class indices of ``y`` into its sorted unique labels, checked against the columns."""
    y = np.asarray(y)
    if y.shape != (n_samples,):
        raise DataError(f"y has shape {y.shape}, but the probabilities have {n_samples} rows.")
    classes, idx = np.unique(y, return_inverse=True)
    if len(classes) != n_classes:
        raise TargetError(
            f"y has {len(classes)} classes, but the probabilities have {n_classes} columns; "
            "pass the labels the out-of-fold probabilities were computed for."
        )
    return idx.astype(np.int64)


def _losses(candidates: FloatArray, y_idx: EncodedLabels, metric: str) -> FloatArray:
    """Loss of each candidate ensemble; ``candidates`` has shape ``(c, n_samples, n_classes)``."""
    if metric == "log_loss":
        p = candidates[:, np.arange(len(y_idx)), y_idx]
        return np.asarray(-np.mean(np.log(np.clip(p, _EPS, 1.0)), axis=1))
    onehot = np.eye(candidates.shape[2])[y_idx]
    return np.asarray(np.mean(np.sum((candidates - onehot) ** 2, axis=2), axis=1))


def _greedy_counts(
    stack: FloatArray, y_idx: EncodedLabels, n_iter: int, n_init: int, metric: str, rng: Any
) -> IntArray:
    """How often each member is picked at the best iteration of greedy selection."""
    if metric == "log_loss":  # only the true class's probability matters: keep that column
        stack = stack[:, np.arange(len(y_idx)), y_idx][:, :, None]
        y_idx = np.zeros(len(y_idx), dtype=np.int64)
    counts = np.zeros(len(stack), dtype=np.int64)
    counts[np.argsort(_losses(stack, y_idx, metric), kind="stable")[:n_init]] = 1
    running = np.tensordot(counts.astype(np.float64), stack, axes=1)
    best_counts = counts.copy()
    best_loss = _losses(running[None] / counts.sum(), y_idx, metric)[0]
    for _ in range(n_iter):
        losses = _losses((running[None] + stack) / (counts.sum() + 1), y_idx, metric)
        ties = np.flatnonzero(losses <= losses.min() * (1 + 1e-12))
        j = int(ties[0] if len(ties) == 1 else rng.choice(ties))
        counts[j] += 1
        running += stack[j]
        if losses[j] < best_loss:
            best_loss, best_counts = losses[j], counts.copy()
    return best_counts


def greedy_ensemble_selection(
    oof_probas: Sequence[ProbaMatrix],
    y: Labels,
    *,
    n_iter: int = 50,
    n_init: int = 1,
    metric: str = "log_loss",
    random_state: RandomState = 0,
) -> FloatArray:
    """Greedy ensemble selection with replacement (Caruana et al., 2004).

    Starts from the ``n_init`` best single models, then ``n_iter`` times adds the member
    whose addition most lowers the loss of the averaged probabilities. A member may be added
    many times; its weight is its share of the picks at the best iteration seen.

    Parameters
    ----------
    oof_probas
        One ``(n_samples, n_classes)`` out-of-fold probability matrix per member, columns in
        the sorted order of the labels in ``y``.
    y
        The true labels of the rows.
    n_iter
        Greedy steps after initialisation.
    n_init
        How many of the best single models start the ensemble (each with one pick).
    metric
        ``"log_loss"`` or ``"brier"`` (multi-class Brier score).
    random_state
        Seed used only to break exact ties between candidates (for example identical copies).

    Returns
    -------
    numpy.ndarray
        Non-negative weights, one per member, summing to 1.

    Raises
    ------
    ConfigError
        If ``n_iter``, ``n_init`` or ``metric`` is invalid.
    DataError
        If the probability matrices differ in shape or ``y`` does not match them.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 1, 1, 0])
    >>> good = np.array([[0.8, 0.2], [0.3, 0.7], [0.2, 0.8], [0.7, 0.3]])
    >>> bad = np.array([[0.4, 0.6], [0.6, 0.4], [0.5, 0.5], [0.5, 0.5]])
    >>> greedy_ensemble_selection([bad, good], y).tolist()
    [0.0, 1.0]
    """
    stack = _as_stack(oof_probas)
    y_idx = _encode(y, stack.shape[1], stack.shape[2])
    if n_iter < 0 or not 1 <= n_init <= len(stack) or metric not in _METRICS:
        raise ConfigError(
            f"greedy_ensemble_selection got n_iter={n_iter}, n_init={n_init}, metric={metric!r}; "
            f"expected n_iter >= 0, 1 <= n_init <= {len(stack)} members, metric in {_METRICS}."
        )
    counts = _greedy_counts(stack, y_idx, n_iter, n_init, metric, check_random_state(random_state))
    return np.asarray(counts / counts.sum(), dtype=np.float64)
