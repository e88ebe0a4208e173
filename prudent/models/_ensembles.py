"""Ensemble estimators over already fitted members: weighted averaging and stacking.

:class:`WeightedEnsemble` and :class:`StackedEnsemble` keep the scikit-learn contract;
:func:`ensemble_from_choice` turns an :class:`EnsembleChoice` into one of them. How the
ensemble is chosen lives in ``_ensemble_choice`` (re-exported here), greedy selection in
``_ensemble_greedy`` and stacking in ``_ensemble_stacking``. The estimator classes stay in
this module: saved bundles name them by this path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.model_selection import cross_val_predict
from sklearn.utils import assert_all_finite, get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from prudent._typing import FloatArray, Labels, ProbaMatrix
from prudent.errors import ConfigError, NotFittedError
from prudent.models._ensemble_choice import EnsembleChoice, choose_ensemble
from prudent.models._ensemble_greedy import RandomState, greedy_ensemble_selection
from prudent.models._ensemble_stacking import _fit_meta, _splitter, _stack_features, stacking_oof
from prudent.models._shared_inputs import member_outputs, shared_groups

__all__ = [
    "EnsembleChoice",
    "StackedEnsemble",
    "WeightedEnsemble",
    "choose_ensemble",
    "ensemble_from_choice",
    "greedy_ensemble_selection",
    "stacking_oof",
]


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

    def member_outputs(self, X: Any) -> list[FloatArray]:
        """Each member's ``predict_proba(X)``, in its own class order.

        Members fitted with equal preprocessing transform ``X`` once
        (:func:`~prudent.models._shared_inputs.member_outputs`); the probabilities are those
        of each member's own ``predict_proba``.

        Parameters
        ----------
        X
            Inputs, in the form the members accept.

        Returns
        -------
        list of numpy.ndarray
            One probability matrix per member of ``estimators_``.
        """
        check_is_fitted(self, "estimators_")
        return member_outputs(self.estimators_, X, shared_groups(self.estimators_))

    def _aligned(self, outputs: list[FloatArray]) -> list[FloatArray]:
        """Member probabilities with their columns aligned on ``classes_``."""
        out = []
        for est, p in zip(self.estimators_, outputs, strict=True):
            if not np.array_equal(est.classes_, self.classes_):
                aligned = np.zeros((len(p), len(self.classes_)))
                aligned[:, np.searchsorted(self.classes_, est.classes_)] = p
                p = aligned
            out.append(p)
        return out

    def predict_proba(self, X: Any) -> ProbaMatrix:
        """The ensemble's probabilities: :meth:`combine` of :meth:`member_outputs`.

        Parameters
        ----------
        X
            Inputs, in the form the members accept.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_samples, n_classes)``, columns in ``classes_``.
        """
        return self.combine(self.member_outputs(X))

    def combine(self, outputs: list[FloatArray]) -> ProbaMatrix:  # pragma: no cover - overridden
        """The ensemble's probabilities from its members' (:meth:`member_outputs`)."""
        raise NotImplementedError

    def predict(self, X: Any) -> Labels:
        """The class with the highest probability for each row of ``X``."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])


def _unfitted(estimators: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Unfitted clones for the ``estimators`` parameter: skops does not share objects, so
    keeping the fitted members there too saved each twice (a 34.5 MB stacked ensemble of
    18 MB of members)."""
    return [(name, clone(est)) for name, est in estimators]


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
        ens = cls(_unfitted(estimators), weights)
        ens.weights_ = ens._checked_weights()
        ens._set_members(fitted, np.unique(np.concatenate([e.classes_ for e in fitted])))
        return ens

    def combine(self, outputs: list[FloatArray]) -> ProbaMatrix:
        """The weighted average of the members' probabilities.

        Parameters
        ----------
        outputs
            Each member's probabilities, as :meth:`member_outputs` gives them.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_samples, n_classes)``, columns in ``classes_``.
        """
        probas = self._aligned(outputs)
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
        ens = cls(_unfitted(estimators), meta)
        ens.meta_ = meta
        ens._set_members(fitted[:-1], meta.classes_)
        return ens

    def combine(self, outputs: list[FloatArray]) -> ProbaMatrix:
        """The meta-model's probabilities over the members' log-probabilities.

        Parameters
        ----------
        outputs
            Each member's probabilities, as :meth:`member_outputs` gives them.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_samples, n_classes)``, columns in ``classes_``.
        """
        features = _stack_features(self._aligned(outputs))
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
