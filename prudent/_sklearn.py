"""The scikit-learn face: :class:`PrudentClassifier`, prudent's whole fit as one estimator.

It goes into a ``Pipeline``, ``cross_val_score`` or ``GridSearchCV`` like any classifier;
its fitted state holds the bundle (``bundle_``), which saves, serves and reports as usual.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import assert_all_finite
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d, validate_data

from prudent._compat import check_is_fitted
from prudent._json import plain_scalar
from prudent._library import fit
from prudent.bundle import Bundle
from prudent.errors import PrudentWarning

__all__ = ["PrudentClassifier"]

TARGET = "__prudent_target__"
"""The name the labels take in the table handed to the fit (never a feature name)."""


class PrudentClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """prudent's fit (baselines, candidates, calibration, OOD, thresholds) as an estimator.

    ``predict_proba`` gives the shipped model's calibrated probabilities and ``predict`` their
    most probable class; the deferral decisions (accept, review, …) are in
    ``bundle_.predict(X)``.

    Parameters
    ----------
    time_limit
        Seconds the whole fit may take.
    candidates
        Candidate families to try besides the baselines (``None``: all; ``()``: baselines only).
    n_folds
        Cross-validation folds (``None``: 5, or 3 from 20,000 training rows).
    test_size
        Share of rows locked away for the final test.
    target_accuracy
        Accuracy the accepted predictions must reach.
    alpha
        Conformal miscoverage.
    ood_fpr
        Share of in-distribution inputs flagged as out of distribution.
    text, categorical
        Columns (of a DataFrame ``X``) to treat as free text or categorical.
    seed
        Seed for every random choice.
    progress
        Draw progress bars (``None``: only in a terminal or notebook).

    Attributes
    ----------
    bundle_
        The fitted :class:`~prudent.Bundle`.
    classes_
        The class labels, sorted.
    n_features_in_
        Number of input columns.
    feature_names_in_
        Input column names, when ``X`` was a DataFrame with string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> clf = PrudentClassifier(time_limit=20, candidates=(), progress=False).fit(X, y)
    >>> clf.classes_.tolist(), clf.predict_proba(X.head(2)).shape
    ([0, 1, 2], (2, 3))
    """

    def __init__(
        self,
        *,
        time_limit: float = 120.0,
        candidates: Sequence[str] | None = None,
        n_folds: int | None = None,
        test_size: float = 0.2,
        target_accuracy: float = 0.95,
        alpha: float = 0.1,
        ood_fpr: float = 0.05,
        text: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        seed: int = 0,
        progress: bool | None = None,
    ) -> None:
        self.time_limit = time_limit
        self.candidates = candidates
        self.n_folds = n_folds
        self.test_size = test_size
        self.target_accuracy = target_accuracy
        self.alpha = alpha
        self.ood_fpr = ood_fpr
        self.text = text
        self.categorical = categorical
        self.seed = seed
        self.progress = progress

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing values are imputed by design
        tags.input_tags.string = True  # text and categorical columns are features
        tags.non_deterministic = False
        return tags

    def fit(self, X: Any, y: Any) -> PrudentClassifier:
        """Run prudent's fit on ``X`` and ``y``; keep the bundle in ``bundle_``.

        Parameters
        ----------
        X
            A DataFrame (any column roles) or a 2-D array of numbers.
        y
            The labels, one per row; rows whose label is missing (``None``, NaN) are left
            out with a :class:`~prudent.PrudentWarning`, as ``prudent.fit`` leaves them out.

        Returns
        -------
        PrudentClassifier
            ``self``.

        Raises
        ------
        ValueError
            Every label is missing, a label is infinite, or ``X`` and ``y`` differ in length.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        frame = self._frame(X, reset=True)
        labels = column_or_1d(y, warn=True)
        if len(labels) != len(frame):
            raise ValueError(f"X has {len(frame)} rows but y has {len(labels)} labels.")
        frame, labels = _labelled(frame, labels)
        if labels.dtype.kind in "fc":
            assert_all_finite(labels, input_name="y")
        check_classification_targets(labels)
        self.bundle_: Bundle = fit(
            frame.assign(**{TARGET: labels}),
            TARGET,
            time_limit=self.time_limit,
            candidates=self.candidates,
            n_folds=self.n_folds,
            test_size=self.test_size,
            target_accuracy=self.target_accuracy,
            alpha=self.alpha,
            ood_fpr=self.ood_fpr,
            text=self.text,
            categorical=self.categorical,
            seed=self.seed,
            progress=self.progress,
        )
        self.classes_ = np.unique(labels)
        position = {_key(c): i for i, c in enumerate(self.bundle_.model.classes)}
        self._order = np.array([position[_key(c)] for c in self.classes_])
        return self

    def predict_proba(self, X: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The shipped model's calibrated probabilities, columns in ``classes_`` order."""
        check_is_fitted(self)
        frame = self._frame(X, reset=False)
        out = self.bundle_.predict(frame)
        proba = out[[c for c in out.columns if c.startswith("proba_")]].to_numpy(np.float64)
        return proba[:, self._order]

    def predict(self, X: Any) -> np.ndarray[Any, Any]:
        """The most probable class of :meth:`predict_proba`."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[proba.argmax(axis=1)])

    def _frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        """``X`` as a DataFrame with string column names; checks features like sklearn."""
        if not isinstance(X, pd.DataFrame):
            X = check_array(X, dtype=None, ensure_all_finite="allow-nan", estimator=self)
        validate_data(self, X, reset=reset, skip_check_array=True)
        if isinstance(X, pd.DataFrame):
            return X.set_axis([str(c) for c in X.columns], axis=1).reset_index(drop=True)
        return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])


def _labelled(
    frame: pd.DataFrame, labels: np.ndarray[Any, Any]
) -> tuple[pd.DataFrame, np.ndarray[Any, Any]]:
    """The rows whose label is given, with a warning naming how many were left out.

    Raises
    ------
    ValueError
        Every label is missing.
    """
    missing = np.asarray(pd.isna(labels), dtype=bool)
    if not missing.any():
        return frame, labels
    if missing.all():
        raise ValueError(
            f"Input y contains NaN: all {len(labels)} labels are missing; pass the labels."
        )
    warnings.warn(
        f"{int(missing.sum())} of {len(labels)} rows have no label (None or NaN in y) and are "
        "left out of the fit, as prudent.fit leaves them out.",
        PrudentWarning,
        stacklevel=3,
    )
    kept = ~missing
    labels = labels[kept]
    if labels.dtype == object:  # the numbers left, as numbers (not 'unknown' labels)
        labels = np.asarray(pd.Series(labels).infer_objects())
    return frame[kept].reset_index(drop=True), labels


def _key(label: Any) -> str:
    """A label as prudent's target preparation keeps it (integral floats as ints, stripped)."""
    value = plain_scalar(label)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
