"""The shipped model alone, as a scikit-learn pipeline: input checks, primary, calibrator.

For people who want only the model (no OOD flag, no rules, no review decision):
:func:`export_pipeline` builds ``Pipeline([("inputs", SchemaInputs), ("classifier",
ShippedClassifier)])``, whose ``predict_proba`` is the bundle's calibrated probabilities.
``prudent export`` and ``Bundle.export_sklearn`` save it with skops.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from prudent._typing import Labels, ProbaMatrix
from prudent.data import Schema, validate_frame
from prudent.models._thresholds import CostPolicy

__all__ = ["SchemaInputs", "ShippedClassifier", "export_pipeline"]


class SchemaInputs(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Check rows against a bundle's schema and coerce them as the bundle does.

    The input contract of :func:`prudent.data.validate_frame`: numbers and booleans may come
    as strings, missing values as null or ``""``; columns that are not inputs are dropped.

    Parameters
    ----------
    schema
        The schema as the manifest stores it (``Schema.to_dict()``).
    """

    def __init__(self, *, schema: dict[str, Any] | None = None) -> None:
        self.schema = schema

    def fit(self, X: Any = None, y: Any = None) -> Self:
        """Read the schema (nothing is learned from ``X``)."""
        if self.schema is None:
            raise ValueError("SchemaInputs needs schema=, a bundle's schema dict.")
        self.feature_names_in_ = np.asarray(Schema.from_dict(self.schema).feature_names, object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """The rows coerced to the schema's types.

        Raises
        ------
        SchemaError
            Values that cannot be read as their column's type, or no input column.
        """
        check_is_fitted(self)
        return validate_frame(pd.DataFrame(X), Schema.from_dict(self.schema or {}))[0]


class ShippedClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A fitted primary model and its calibrator, frozen into one classifier.

    ``fit`` learns nothing and ``clone`` returns the same object (as scikit-learn's
    ``FrozenEstimator``): it stays the bundle's model inside ``cross_val_score`` too.

    Parameters
    ----------
    model
        The fitted primary model (``predict_proba`` on checked rows).
    calibrator
        Maps the primary's probabilities to calibrated ones (``predict_proba(P)``), or None.
    classes
        The class labels, in the column order of the probabilities.
    class_weights
        The bundle's label rule: ``predict`` is the class of largest ``probability * weight``
        (the bundle's ``prediction``); ``None`` for the most probable class.
    costs
        The bundle's cost matrix (rows: true class, columns: predicted), when one decides:
        ``predict`` is then the class of least expected cost, as the bundle's ``prediction``.

    Attributes
    ----------
    classes_
        The class labels.
    """

    def __init__(
        self,
        *,
        model: Any = None,
        calibrator: Any = None,
        classes: Labels | None = None,
        class_weights: tuple[float, ...] | None = None,
        costs: tuple[tuple[float, ...], ...] | None = None,
    ) -> None:
        self.model = model
        self.calibrator = calibrator
        self.classes = classes
        self.class_weights = class_weights
        self.costs = costs

    def __sklearn_clone__(self) -> Self:
        return self

    def fit(self, X: Any = None, y: Any = None) -> Self:
        """Freeze: record the classes (the model and calibrator are already fitted)."""
        if self.model is None or self.classes is None:
            raise ValueError("ShippedClassifier needs a fitted model= and its classes=.")
        self.classes_ = np.asarray(self.classes)
        return self

    def predict_proba(self, X: Any) -> ProbaMatrix:
        """Calibrated probabilities, one column per class of ``classes_``."""
        check_is_fitted(self)
        raw = np.asarray(self.model.predict_proba(X), dtype=np.float64)
        known = getattr(self.model, "classes_", self.classes_)
        if len(known) != len(self.classes_):  # a class the model never saw: probability 0
            full = np.zeros((len(raw), len(self.classes_)))
            full[:, np.asarray(known, dtype=np.int64)] = raw
            raw = full
        if self.calibrator is None:
            return raw
        return np.asarray(self.calibrator.predict_proba(raw), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray[Any, Any]:
        """The bundle's label: the class of largest weighted calibrated probability, or of
        least expected cost under ``costs``."""
        proba = self.predict_proba(X)
        if self.costs is not None:
            cheapest = CostPolicy(self.costs, review_cost=0.0).choose(proba)[0]
            return np.asarray(self.classes_[cheapest])
        if self.class_weights is not None:
            proba = proba * np.asarray(self.class_weights)
        return np.asarray(self.classes_[proba.argmax(axis=1)])


def export_pipeline(guarded: Any, schema: dict[str, Any]) -> Pipeline:
    """The shipped primary and calibrator of a :class:`GuardedModel` as a fitted pipeline.

    Parameters
    ----------
    guarded
        The bundle's model.
    schema
        The bundle's schema dict (the manifest's ``schema``).

    Returns
    -------
    sklearn.pipeline.Pipeline
        ``inputs`` (:class:`SchemaInputs`) then ``classifier`` (:class:`ShippedClassifier`),
        both fitted.
    """
    matrix = getattr(guarded.policy, "cost_policy", None)
    classifier = ShippedClassifier(
        model=guarded.primary,
        calibrator=guarded.primary_calibrator,
        classes=np.asarray(guarded.classes),
        class_weights=getattr(guarded.policy, "class_weights", None),
        costs=None if matrix is None else tuple(tuple(float(c) for c in r) for r in matrix.costs),
    )
    steps = [("inputs", SchemaInputs(schema=schema).fit()), ("classifier", classifier.fit())]
    return Pipeline(steps)
