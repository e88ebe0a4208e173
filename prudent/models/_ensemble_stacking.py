"""Stacking: a multinomial logistic regression on the members' log-probabilities.

:func:`stacking_oof` scores the meta-model by nested cross-validation over the out-of-fold
rows, so its probabilities are an honest validation score.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from prudent._costs import recorded_cost
from prudent._typing import EncodedLabels, FloatArray, IntArray, Labels, ProbaMatrix
from prudent.errors import ConfigError, TargetError
from prudent.models._ensemble_greedy import RandomState, _as_stack, _encode
from prudent.models._splitters import GroupFolds

__all__ = ["MAX_STACKING_INPUTS", "StackingCost", "stacking_cost", "stacking_oof"]

_LOG_FLOOR = 1e-3
"""Stacking features are ``log(max(p, 1e-3))``: overconfident zeros do not become -36.

On digits (4 members, 10 classes) floors of 1e-6 / 1e-4 / 1e-3 gave a nested-CV log loss
of 0.19 / 0.12 / 0.09: a lower floor lets a few extreme rows dominate the meta-model.
"""


def _splitter(
    y: Labels, cv: int, random_state: RandomState, groups: IntArray | None = None
) -> StratifiedKFold | GroupFolds:
    """Stratified folds, as many as ``cv`` but no more than the smallest class (and, with
    ``groups``, the groups) allow; with ``groups``, each group in one fold."""
    if cv < 2:
        raise ConfigError(f"cv={cv} is invalid; expected an integer of at least 2 folds.")
    smallest = int(np.unique(np.asarray(y).ravel(), return_counts=True)[1].min())
    if smallest < 2:
        raise TargetError(
            f"The smallest class in y has {smallest} sample(s); cross-validation needs at "
            "least 2 per class. Collect more rows of that class or drop it."
        )
    n_splits = min(cv, smallest)
    by_group = GroupFolds.at_most(n_splits, random_state, groups)
    return by_group or StratifiedKFold(n_splits, shuffle=True, random_state=random_state)


MAX_STACKING_INPUTS = 64
"""Stacking is tried only when members x classes is at most this (meta-model cost)."""


def _stack_features(probas: Sequence[ProbaMatrix]) -> FloatArray:
    """The meta-model's inputs: every member's clipped log-probabilities side by side."""
    return np.hstack([np.log(np.clip(np.asarray(p, np.float64), _LOG_FLOOR, 1.0)) for p in probas])


def _fit_meta(features: FloatArray, y: Labels, C: float) -> LogisticRegression:
    """Fit the multinomial logistic meta-model on the stacked log-probabilities.

    The columns are centred while fitting and the intercept shifted back afterwards: the
    same optimum (the intercept is not penalised), reached in a third of the lbfgs
    iterations. Newton's method serves few inputs, where near-separable rows stall lbfgs.
    """
    solver = "newton-cholesky" if features.shape[1] <= 32 else "lbfgs"
    meta = LogisticRegression(C=C, solver=solver, max_iter=1000)
    mean = features.mean(axis=0)
    meta.fit(features - mean, y)
    meta.intercept_ = meta.intercept_ - meta.coef_ @ mean
    return meta


def _stratified_rows(y_idx: EncodedLabels, n: int, least: int, seed: int) -> IntArray:
    """About ``n`` of the rows, each class in proportion but with at least ``least`` rows
    (or all it has), drawn at random, in order."""
    rng = np.random.default_rng(seed)
    share = n / len(y_idx)
    picked = []
    for c in range(int(y_idx.max()) + 1):
        rows = np.flatnonzero(y_idx == c)
        k = min(len(rows), max(least, round(len(rows) * share)))
        picked.append(rng.choice(rows, k, replace=False))
    return np.sort(np.concatenate(picked))


@dataclass(frozen=True)
class StackingCost:
    """Projected seconds of :func:`stacking_oof` on every member and of its single-member
    baselines, as a fixed part and a part per row, from two timed pilot fits of each."""

    fixed: float
    per_row: float

    def seconds(self, rows: int) -> float:
        """Projected seconds when the meta-models see ``rows`` rows."""
        return self.fixed + self.per_row * rows

    def rows_within(self, seconds: float) -> int:
        """The most rows whose projection stays within ``seconds`` (0: not even the fixed part)."""
        if seconds <= self.fixed:
            return 0
        return int((seconds - self.fixed) / max(self.per_row, 1e-12))


def _timed_meta(features: FloatArray, y: Labels, rows: IntArray) -> float:
    # CPU seconds, as the fit's budget plans: another process's turn does not count
    t0 = time.process_time()
    _fit_meta(features[rows], y[rows], 1.0)
    return recorded_cost("stacking-pilot", time.process_time() - t0)


def stacking_cost(
    oof_probas: Sequence[ProbaMatrix], y: Labels, *, cv: int = 5, random_state: int = 0
) -> StackingCost:
    """The cost of stacking these members, projected from pilot fits on a few rows.

    The meta-model on every member and on the first member alone are each fitted on two
    stratified samples (about 1/20 and 1/10 of the rows); the line through both timings
    gives a fixed cost and a cost per row (the engine's pilot does the same for a family),
    scaled to what :func:`choose_ensemble` fits: ``cv`` folds and a refit, for the stack
    and for each member's own baseline.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 500)
    >>> p = rng.dirichlet([1, 1], size=1000)
    >>> cost = stacking_cost([p, p[::-1]], y)
    >>> cost.seconds(1000) >= cost.seconds(100) >= 0
    True
    """
    y = np.asarray(y)
    stack = _as_stack(oof_probas)
    y_idx = _encode(y, stack.shape[1], stack.shape[2])
    n, m = stack.shape[1], stack.shape[0]
    small_n = min(n // 2, max(100, n // 20))
    small = _stratified_rows(y_idx, small_n, 2, random_state)
    large = _stratified_rows(y_idx, 2 * small_n, 2, random_state + 1)
    fixed = per_row = 0.0
    for probas, copies in ((list(stack), 1), (list(stack[:1]), m)):
        features = _stack_features(probas)
        t1, t2 = (_timed_meta(features, y, rows) for rows in (small, large))
        slope = max(t2 - t1, 0.0) / max(len(large) - len(small), 1)
        fixed += copies * (cv + 1) * max(t1 - slope * len(small), 0.0)
        per_row += copies * cv * slope  # cv folds of (cv - 1) / cv of the rows, and a refit
    return StackingCost(fixed=fixed, per_row=per_row)


def stacking_oof(
    oof_probas: Sequence[ProbaMatrix],
    y: Labels,
    *,
    cv: int = 5,
    C: float = 1.0,
    random_state: RandomState = 0,
    max_rows: int | None = None,
    groups: IntArray | None = None,
) -> tuple[ProbaMatrix, LogisticRegression]:
    """Stack members with a multinomial logistic regression on their log-probabilities.

    Parameters
    ----------
    oof_probas
        One out-of-fold probability matrix per member (see :func:`greedy_ensemble_selection`).
    y
        The true labels of the rows.
    cv
        Folds of the nested cross-validation over the OOF rows.
    C
        Inverse regularisation strength of the meta-model.
    random_state
        Seed of the fold shuffling.
    max_rows
        Fit the meta-models on a stratified sample of about this many rows (the time limit's
        cheaper stacking): the sample's rows are cross-validated as usual, the other rows
        predicted by the meta-model refitted on the sample, which never saw them either.
    groups
        Each row's group (``--group``): each group's rows fall in one fold.

    Returns
    -------
    proba : numpy.ndarray
        The meta-model's own cross-validated probabilities: each row predicted by a
        meta-model that never saw it, so their score is an honest validation score.
    meta : sklearn.linear_model.LogisticRegression
        The meta-model refitted on all rows (on the sample, with ``max_rows``).

    Raises
    ------
    TargetError
        If a class has fewer than 2 rows.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 20)
    >>> p = np.clip(np.eye(2)[y] * 0.6 + rng.uniform(0, 0.4, (40, 2)), 0, 1)
    >>> proba, meta = stacking_oof([p / p.sum(1, keepdims=True)], y)
    >>> proba.shape, meta.classes_.tolist()
    ((40, 2), [0, 1])
    """
    stack = _as_stack(oof_probas)
    y = np.asarray(y)
    y_idx = _encode(y, stack.shape[1], stack.shape[2])
    features = _stack_features(list(stack))
    rows = np.arange(len(y))
    if max_rows is not None and max_rows < len(y):
        seed = random_state if isinstance(random_state, int) else 0
        rows = _stratified_rows(y_idx, max_rows, cv, seed)
    proba = np.empty(stack.shape[1:])
    within = None if groups is None else np.asarray(groups)[rows]
    folds = _splitter(y[rows], cv, random_state, within)
    classes = np.unique(y)
    for train, test in folds.split(features[rows], y[rows]):
        meta = _fit_meta(features[rows[train]], y[rows[train]], C)
        # a fold that keeps groups whole may train without a rare class: it gets 0 there
        fold = np.zeros((len(test), len(classes)))
        fold[:, np.searchsorted(classes, meta.classes_)] = meta.predict_proba(features[rows[test]])
        proba[rows[test]] = fold
    meta = _fit_meta(features[rows], y[rows], C)
    rest = np.setdiff1d(np.arange(len(y)), rows, assume_unique=True)
    if len(rest):
        proba[rest] = meta.predict_proba(features[rest])
    return proba, meta
