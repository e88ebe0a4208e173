"""The two baselines every fit starts with: the majority class and a logistic regression."""

from __future__ import annotations

from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from prudent.data import Schema
from prudent.models._features import make_preprocessor, text_vocabulary

__all__ = ["logistic_baseline", "majority_baseline"]


def majority_baseline() -> Pipeline:
    """The majority-class baseline: predicts the most frequent class, class priors as probabilities.

    Returns
    -------
    sklearn.pipeline.Pipeline
        A one-step pipeline around ``DummyClassifier(strategy="prior")``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> m = majority_baseline().fit(pd.DataFrame({"x": [1, 2, 3]}), np.array([0, 1, 1]))
    >>> m.predict(pd.DataFrame({"x": [9]})).tolist()
    [1]
    """
    return Pipeline([("model", DummyClassifier(strategy="prior"))])


def logistic_baseline(
    schema: Schema,
    *,
    n_rows: int,
    balanced: bool,
    seed: int = 0,
    C: float = 1.0,
    n_classes: int = 2,
) -> Pipeline:
    """The logistic-regression baseline: one-hot + scaling for tables, TF-IDF for text.

    Parameters
    ----------
    schema
        Column roles.
    n_rows
        Training rows (sets the TF-IDF vocabulary floor).
    balanced
        Weight classes inversely to their frequency (for imbalanced targets).
    seed
        Random seed.
    C
        Inverse regularisation strength.
    n_classes
        Classes of the target: a text column's vocabulary shrinks as they grow
        (:func:`~prudent.models._features.text_vocabulary`).

    Returns
    -------
    sklearn.pipeline.Pipeline
        ``preprocess`` then ``model``.
    """
    return Pipeline(
        [
            (
                "preprocess",
                make_preprocessor(
                    schema,
                    "linear",
                    n_rows=n_rows,
                    seed=seed,
                    text_max_features=text_vocabulary(n_classes),
                ),
            ),
            (
                "model",
                LogisticRegression(
                    C=C,
                    max_iter=3000,
                    random_state=seed,
                    class_weight="balanced" if balanced else None,
                ),
            ),
        ]
    )
