"""Diversity-aware ensembles: greedy ensemble selection and stacking, scored honestly.

Both ensembles are built from the candidates' out-of-fold (OOF) probabilities, so no model
is refitted while choosing. Greedy selection (Caruana et al., 2004) adds, with replacement,
the member that most lowers the ensemble's loss; stacking fits a multinomial logistic
regression on the members' log-probabilities. :func:`choose_ensemble` scores both by
cross-validation over the OOF rows and keeps an ensemble only when it beats the best single
model by a margin. :class:`WeightedEnsemble` and :class:`StackedEnsemble` turn the choice
into estimators over already fitted members.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils import assert_all_finite, check_random_state, get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from prudent._typing import EncodedLabels, FloatArray, IntArray, Labels, ProbaMatrix
from prudent.errors import ConfigError, DataError, NotFittedError, TargetError

__all__ = [
    "EnsembleChoice",
    "StackedEnsemble",
    "WeightedEnsemble",
    "choose_ensemble",
    "ensemble_from_choice",
    "greedy_ensemble_selection",
    "stacking_oof",
]

_EPS = float(np.finfo(np.float64).eps)
_LOG_FLOOR = 1e-3
"""Stacking features are ``log(max(p, 1e-3))``: overconfident zeros do not become -36.

On digits (4 members, 10 classes) floors of 1e-6 / 1e-4 / 1e-3 gave a nested-CV log loss
of 0.19 / 0.12 / 0.09: a lower floor lets a few extreme rows dominate the meta-model.
"""
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


def _splitter(y: Labels, cv: int, random_state: RandomState) -> StratifiedKFold:
    """Stratified folds, as many as ``cv`` but no more than the smallest class allows."""
    if cv < 2:
        raise ConfigError(f"cv={cv} is invalid; expected an integer of at least 2 folds.")
    smallest = int(np.unique(np.asarray(y).ravel(), return_counts=True)[1].min())
    if smallest < 2:
        raise TargetError(
            f"The smallest class in y has {smallest} sample(s); cross-validation needs at "
            "least 2 per class. Collect more rows of that class or drop it."
        )
    return StratifiedKFold(min(cv, smallest), shuffle=True, random_state=random_state)


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


def stacking_oof(
    oof_probas: Sequence[ProbaMatrix],
    y: Labels,
    *,
    cv: int = 5,
    C: float = 1.0,
    random_state: RandomState = 0,
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

    Returns
    -------
    proba : numpy.ndarray
        The meta-model's own cross-validated probabilities: each row predicted by a
        meta-model that never saw it, so their score is an honest validation score.
    meta : sklearn.linear_model.LogisticRegression
        The meta-model refitted on all rows.

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
    _encode(y, stack.shape[1], stack.shape[2])
    features = _stack_features(list(stack))
    proba = np.empty(stack.shape[1:])
    for train, test in _splitter(y, cv, random_state).split(features, y):
        proba[test] = _fit_meta(features[train], y[train], C).predict_proba(features[test])
    return proba, _fit_meta(features, y, C)


@dataclass(frozen=True, eq=False)
class EnsembleChoice:
    """The outcome of :func:`choose_ensemble`.

    Parameters
    ----------
    kind
        ``"greedy"``, ``"stacking"`` or ``"single"``.
    weights
        Member name → weight (zero weights dropped). For stacking, each member's share of
        the meta-model's absolute coefficients: a measure of reliance, not a mixing weight.
    members
        The members the ensemble needs, in the order of ``names``.
    oof_proba
        The chosen combination's cross-validated probabilities on the OOF rows.
    log_loss
        Validation log loss per option: ``single`` (best member), ``single_stacked`` (best
        member recalibrated by the stacking meta-model, fed ``m`` copies of it), ``greedy``
        and ``stacking``.
    best_single
        Name of the member with the lowest OOF log loss.
    best_single_log_loss
        Its log loss.
    gain
        Log loss improvement of the chosen ensemble over its baseline (0 for ``single``).
    meta
        The refitted stacking meta-model when ``kind == "stacking"``.
    """

    kind: Literal["greedy", "stacking", "single"]
    weights: dict[str, float]
    members: tuple[str, ...]
    oof_proba: ProbaMatrix
    log_loss: dict[str, float]
    best_single: str
    best_single_log_loss: float
    gain: float
    meta: LogisticRegression | None = None


def _greedy_cv(
    stack: FloatArray, y_idx: EncodedLabels, n_iter: int, folds: Any, rng: Any
) -> FloatArray:
    """Greedy weights fitted on k-1 folds of the OOF rows, applied to the held-out fold."""
    out = np.empty(stack.shape[1:])
    for train, test in folds.split(stack[0], y_idx):
        w = _greedy_counts(stack[:, train], y_idx[train], n_iter, 1, "log_loss", rng)
        out[test] = np.tensordot(w / w.sum(), stack[:, test], axes=1)
    return out


def _meta_shares(meta: LogisticRegression, n_members: int) -> FloatArray:
    """Each member's share of the meta-model's absolute coefficients."""
    blocks = np.abs(meta.coef_).reshape(meta.coef_.shape[0], n_members, -1)
    mass = blocks.sum(axis=(0, 2))
    return np.asarray(mass / mass.sum(), dtype=np.float64)


def choose_ensemble(
    names: Sequence[str],
    oof_probas: Sequence[ProbaMatrix],
    y: Labels,
    *,
    n_iter: int = 50,
    cv: int = 5,
    min_gain: float = 1e-3,
    random_state: RandomState = 0,
) -> EnsembleChoice:
    """Choose between the best single model, greedy selection and stacking, honestly.

    Every option is scored on rows it was not tuned on: single models by their OOF log loss,
    greedy selection by weights fitted on k-1 folds of the OOF rows and scored on the
    held-out fold, stacking by nested cross-validation. Stacking recalibrates as it combines,
    so its baseline is the best member recalibrated the same way (``single_stacked``); greedy
    selection's baseline is the best raw member. (The stacking baseline feeds the meta-model
    ``m`` copies of one member, so that copies gain nothing from weaker effective
    regularisation.) Of the ensembles that beat their baseline by
    at least ``min_gain``, the one with the lowest log loss wins; if none does, the best
    single model is kept.

    Parameters
    ----------
    names
        Member names, one per probability matrix.
    oof_probas
        Out-of-fold probabilities, columns in the sorted order of the labels in ``y``.
    y
        The true labels of the rows.
    n_iter
        Greedy steps (see :func:`greedy_ensemble_selection`).
    cv
        Folds used to score greedy selection and stacking.
    min_gain
        Log loss improvement an ensemble needs over its baseline to be chosen.
    random_state
        Seed of the fold shuffling and tie-breaking.

    Returns
    -------
    EnsembleChoice
        The choice, its weights, OOF probabilities and the log loss of every option.

    Raises
    ------
    ConfigError
        If ``names`` is duplicated or does not match ``oof_probas``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.repeat([0, 1], 10)
    >>> p = np.where(np.eye(2)[y] == 1, 0.8, 0.2)
    >>> choose_ensemble(["a", "b"], [p, p.copy()], y).kind
    'single'
    """
    stack = _as_stack(oof_probas)
    if len(names) != len(stack) or len(set(names)) != len(names):
        raise ConfigError(
            f"choose_ensemble got names {list(names)} for {len(stack)} probability matrices; "
            "pass one unique name per matrix."
        )
    y = np.asarray(y)
    y_idx = _encode(y, stack.shape[1], stack.shape[2])
    single = _losses(stack, y_idx, "log_loss")
    best = int(np.argmin(single))
    base = {
        "kind": "single",
        "weights": {names[best]: 1.0},
        "members": (names[best],),
        "oof_proba": stack[best],
        "best_single": names[best],
        "best_single_log_loss": float(single[best]),
        "gain": 0.0,
    }
    if len(stack) == 1:
        return EnsembleChoice(log_loss={"single": float(single[best])}, **base)
    return _compare(list(names), stack, y, y_idx, base, n_iter, cv, min_gain, random_state)


def _score_options(
    stack: FloatArray,
    y: Labels,
    y_idx: EncodedLabels,
    base: dict[str, Any],
    n_iter: int,
    cv: int,
    random_state: RandomState,
) -> tuple[dict[str, FloatArray], LogisticRegression | None, dict[str, float]]:
    """Cross-validated probabilities of both ensembles, the meta-model, and every log loss.

    Stacking is left out (no ``stacking`` key) when members x classes exceeds
    :data:`MAX_STACKING_INPUTS`.
    """
    folds = _splitter(y, cv, random_state)
    rng = check_random_state(random_state)
    oof = {"greedy": _greedy_cv(stack, y_idx, n_iter, folds, rng)}
    loss = {"single": base["best_single_log_loss"]}
    if stack.shape[0] * stack.shape[2] > MAX_STACKING_INPUTS:
        # the multinomial meta-model's cost grows with (members x classes)^2: skip it
        loss["greedy"] = float(_losses(oof["greedy"][None], y_idx, "log_loss")[0])
        return oof, None, loss
    oof["stacking"], meta = stacking_oof(list(stack), y, cv=cv, random_state=random_state)
    # The meta-model on m copies of one member equals it on one copy with C * m (L2 splits
    # the weight evenly between copies): the same regularisation, no diversity.
    m = len(stack)
    recal = [stacking_oof([p], y, cv=cv, C=m, random_state=random_state)[0] for p in stack]
    loss["single_stacked"] = float(np.min(_losses(np.stack(recal), y_idx, "log_loss")))
    loss |= {k: float(_losses(v[None], y_idx, "log_loss")[0]) for k, v in oof.items()}
    return oof, meta, loss


def _compare(
    names: list[str],
    stack: FloatArray,
    y: Labels,
    y_idx: EncodedLabels,
    base: dict[str, Any],
    n_iter: int,
    cv: int,
    min_gain: float,
    random_state: RandomState,
) -> EnsembleChoice:
    """Score greedy selection and stacking against their baselines and pick the winner."""
    oof, meta, loss = _score_options(stack, y, y_idx, base, n_iter, cv, random_state)
    gains = {"greedy": loss["single"] - loss["greedy"]}
    if "stacking" in loss:
        gains["stacking"] = loss["single_stacked"] - loss["stacking"]
    eligible = [k for k, g in gains.items() if g >= min_gain]
    if not eligible:
        return EnsembleChoice(log_loss=loss, **base)
    kind: Literal["greedy", "stacking"] = "greedy" if "greedy" in eligible else "stacking"
    if len(eligible) == 2 and loss["stacking"] < loss["greedy"]:
        kind = "stacking"
    if kind == "greedy":
        w = greedy_ensemble_selection(list(stack), y, n_iter=n_iter, random_state=random_state)
        meta = None
    else:
        w = _meta_shares(meta, len(names))
    weights = {n: float(v) for n, v in zip(names, w, strict=True) if v > 0}
    members = tuple(weights) if kind == "greedy" else tuple(names)  # the meta needs them all
    return EnsembleChoice(
        kind=kind,
        weights=weights,
        members=members,
        oof_proba=oof[kind],
        log_loss=loss,
        best_single=base["best_single"],
        best_single_log_loss=loss["single"],
        gain=gains[kind],
        meta=meta,
    )


class _MemberEnsemble(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Shared plumbing: fitted members, their classes aligned, ``predict`` from probabilities."""

    estimators: list[tuple[str, Any]]
    estimators_: list[Any]
    classes_: Labels

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        members = [get_tags(est).input_tags for _, est in self.estimators]
        tags.input_tags.sparse = all(t.sparse for t in members)
        tags.input_tags.allow_nan = all(t.allow_nan for t in members)
        return tags

    def _set_members(self, fitted: list[Any], classes: Labels) -> None:
        self.estimators_ = fitted
        self.classes_ = np.asarray(classes)
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(fitted[0], attr):
                setattr(self, attr, getattr(fitted[0], attr))

    def _member_probas(self, X: Any) -> list[FloatArray]:
        """Each member's ``predict_proba``, columns aligned on ``classes_``."""
        check_is_fitted(self, "estimators_")
        out = []
        for est in self.estimators_:
            p = np.asarray(est.predict_proba(X), dtype=np.float64)
            if not np.array_equal(est.classes_, self.classes_):
                aligned = np.zeros((len(p), len(self.classes_)))
                aligned[:, np.searchsorted(self.classes_, est.classes_)] = p
                p = aligned
            out.append(p)
        return out

    def predict(self, X: Any) -> Labels:
        """The class with the highest probability for each row of ``X``."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])

    def predict_proba(self, X: Any) -> ProbaMatrix:  # pragma: no cover - overridden
        raise NotImplementedError


def _check_fitted_members(owner: str, estimators: Sequence[tuple[str, Any]]) -> list[Any]:
    """The member estimators of ``estimators``, each checked to be fitted."""
    if not estimators:
        raise ConfigError(f"{owner} got no estimators; pass a list of (name, estimator) pairs.")
    for name, est in estimators:
        try:
            check_is_fitted(est)
        except SklearnNotFittedError as exc:
            raise NotFittedError(
                f"Member {name!r} of {owner} is not fitted; fit it first or call fit(X, y)."
            ) from exc
    return [est for _, est in estimators]


class WeightedEnsemble(_MemberEnsemble):
    """A weighted average of the members' probabilities.

    Parameters
    ----------
    estimators
        ``(name, classifier)`` pairs; each must have ``predict_proba``.
    weights
        One non-negative weight per member (normalised to sum 1); ``None`` for equal weights.

    Attributes
    ----------
    estimators_
        The fitted members.
    weights_
        The normalised weights.
    classes_
        The union of the members' classes, sorted.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> X, y = load_iris(return_X_y=True)
    >>> ens = WeightedEnsemble([("lr", LogisticRegression(max_iter=500)), ("nb", GaussianNB())],
    ...                        weights=[3, 1]).fit(X, y)
    >>> ens.weights_.tolist(), ens.predict(X[:2]).tolist()
    ([0.75, 0.25], [0, 0])
    """

    def __init__(
        self, estimators: list[tuple[str, Any]], weights: Sequence[float] | None = None
    ) -> None:
        self.estimators = estimators
        self.weights = weights

    def _checked_weights(self) -> FloatArray:
        m = len(self.estimators)
        w = np.ones(m) if self.weights is None else np.asarray(self.weights, dtype=np.float64)
        if w.shape != (m,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ConfigError(
                f"WeightedEnsemble got weights {self.weights!r} for {m} estimators; expected "
                f"{m} non-negative finite numbers with a positive sum."
            )
        return np.asarray(w / w.sum(), dtype=np.float64)

    def fit(self, X: Any, y: Any) -> WeightedEnsemble:
        """Fit clones of the members.

        Parameters
        ----------
        X
            Training inputs, in the form the members accept.
        y
            Training labels.

        Returns
        -------
        WeightedEnsemble
            ``self``.
        """
        self.weights_ = self._checked_weights()
        fitted = [clone(est).fit(X, y) for _, est in self.estimators]
        self._set_members(fitted, np.unique(np.concatenate([e.classes_ for e in fitted])))
        return self

    @classmethod
    def from_fitted(
        cls, estimators: Sequence[tuple[str, Any]], weights: Sequence[float] | None = None
    ) -> WeightedEnsemble:
        """Assemble an ensemble from already fitted members, without refitting them.

        Parameters
        ----------
        estimators
            ``(name, fitted classifier)`` pairs.
        weights
            One non-negative weight per member; ``None`` for equal weights.

        Returns
        -------
        WeightedEnsemble
            A fitted ensemble whose ``estimators_`` are the given objects.

        Raises
        ------
        NotFittedError
            If a member is not fitted.
        """
        fitted = _check_fitted_members(cls.__name__, estimators)
        ens = cls(list(estimators), weights)
        ens.weights_ = ens._checked_weights()
        ens._set_members(fitted, np.unique(np.concatenate([e.classes_ for e in fitted])))
        return ens

    def predict_proba(self, X: Any) -> ProbaMatrix:
        """The weighted average of the members' probabilities.

        Parameters
        ----------
        X
            Inputs, in the form the members accept.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_samples, n_classes)``, columns in ``classes_``.
        """
        probas = self._member_probas(X)
        return np.asarray(np.tensordot(self.weights_, np.stack(probas), axes=1))


class StackedEnsemble(_MemberEnsemble):
    """A meta-model over the members' log-probabilities.

    Parameters
    ----------
    estimators
        ``(name, classifier)`` pairs; each must have ``predict_proba``.
    meta
        The meta classifier; ``None`` for the logistic regression of :func:`stacking_oof`.
    cv
        Folds of ``cross_val_predict`` producing the meta-model's training inputs.
    random_state
        Seed of the fold shuffling.

    Attributes
    ----------
    estimators_
        The fitted members.
    meta_
        The fitted meta-model.
    classes_
        The meta-model's classes.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> ens = StackedEnsemble([("nb", GaussianNB()), ("dt", DecisionTreeClassifier())]).fit(X, y)
    >>> ens.predict_proba(X[:1]).shape
    (1, 3)
    """

    def __init__(
        self,
        estimators: list[tuple[str, Any]],
        meta: Any = None,
        *,
        cv: int = 5,
        random_state: RandomState = 0,
    ) -> None:
        self.estimators = estimators
        self.meta = meta
        self.cv = cv
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> StackedEnsemble:
        """Fit the meta-model on cross-validated member probabilities, then the members.

        Parameters
        ----------
        X
            Training inputs, in the form the members accept.
        y
            Training labels.

        Returns
        -------
        StackedEnsemble
            ``self``.
        """
        if y is None:
            raise ValueError("StackedEnsemble requires y to be passed, but the target y is None.")
        y = column_or_1d(y, warn=True)
        if y.dtype.kind == "f":
            assert_all_finite(y, input_name="y")
        check_classification_targets(y)
        folds = _splitter(y, self.cv, self.random_state)
        members = [clone(est) for _, est in self.estimators]
        oof = [cross_val_predict(m, X, y, cv=folds, method="predict_proba") for m in members]
        features = _stack_features(oof)
        self.meta_ = _fit_meta(features, y, 1.0) if self.meta is None else clone(self.meta)
        if self.meta is not None:
            self.meta_.fit(features, y)
        self._set_members([m.fit(X, y) for m in members], self.meta_.classes_)
        return self

    @classmethod
    def from_fitted(cls, estimators: Sequence[tuple[str, Any]], meta: Any) -> StackedEnsemble:
        """Assemble from fitted members and a meta-model fitted on their stacked OOF inputs.

        Parameters
        ----------
        estimators
            ``(name, fitted classifier)`` pairs, in the order the meta-model was fitted on.
        meta
            The fitted meta-model, for example the one :func:`stacking_oof` returns.

        Returns
        -------
        StackedEnsemble
            A fitted ensemble; nothing is refitted.

        Raises
        ------
        NotFittedError
            If a member or the meta-model is not fitted.
        """
        fitted = _check_fitted_members(cls.__name__, [*estimators, ("meta", meta)])
        ens = cls(list(estimators), meta)
        ens.meta_ = meta
        ens._set_members(fitted[:-1], meta.classes_)
        return ens

    def predict_proba(self, X: Any) -> ProbaMatrix:
        """The meta-model's probabilities over the members' log-probabilities.

        Parameters
        ----------
        X
            Inputs, in the form the members accept.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_samples, n_classes)``, columns in ``classes_``.
        """
        features = _stack_features(self._member_probas(X))
        return np.asarray(self.meta_.predict_proba(features), dtype=np.float64)


def ensemble_from_choice(choice: EnsembleChoice, fitted: Mapping[str, Any]) -> Any:
    """The estimator an :class:`EnsembleChoice` describes, over already fitted members.

    Parameters
    ----------
    choice
        The outcome of :func:`choose_ensemble`.
    fitted
        Member name → fitted estimator.

    Returns
    -------
    object
        The single fitted member, a :class:`WeightedEnsemble` or a :class:`StackedEnsemble`.
    """
    if choice.kind == "single":
        return fitted[choice.best_single]
    pairs = [(name, fitted[name]) for name in choice.members]
    if choice.kind == "greedy":
        return WeightedEnsemble.from_fitted(pairs, [choice.weights[n] for n in choice.members])
    return StackedEnsemble.from_fitted(pairs, choice.meta)
