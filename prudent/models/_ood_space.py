"""The space the OOD detector measures in, and the detectors it runs there.

Without known out-of-distribution examples nothing can tell which detector works on a new
table, and the model's own confidence (max-probability, energy) is highest exactly where a
confident model is wrong about novel rows. So the default is what holds on any table: the
distance to the nearest training rows on standardised numbers and one-hot categories, and
how far a row lies beyond the training range of any feature (a shift at the tail of one
numeric column). With known OOD examples every detector is tried and the best is chosen.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from prudent.data import Schema
from prudent.models._features import CappedSVD, make_preprocessor

__all__ = ["DEFAULT_DETECTORS", "MAX_DENSE_FEATURES", "ood_detectors", "ood_feature_map"]

DEFAULT_DETECTORS = ("knn", "range")
"""Used when no OOD examples are given: neither depends on the model's confidence."""
MAX_DENSE_FEATURES = 256
"""Wider dense feature spaces are reduced by truncated SVD before the neighbour search."""


def ood_feature_map(
    schema: Schema,
    X: pd.DataFrame,
    *,
    text_preprocess: Any = None,
    embeddings_preprocess: Any = None,
    seed: int = 0,
) -> Pipeline:
    """A fitted map from input rows to the OOD detector's feature space.

    Sentence embeddings when that candidate ran (fitted already); for other text, the
    logistic baseline's sparse TF-IDF rows (an SVD of them loses what makes a text
    unusual); for tables, standardised numbers (median-imputed, with missing-value
    indicators) and dense one-hot categories, reduced by truncated SVD only when wider than
    :data:`MAX_DENSE_FEATURES`. Fit it on rows apart from those that set the threshold: a
    vocabulary or a scale learnt on them makes them look more usual than future inputs.

    Parameters
    ----------
    schema
        The column roles.
    X
        The rows the map is fitted on.
    text_preprocess
        An unfitted sparse preprocessor for tables with text (the logistic baseline's).
    embeddings_preprocess
        The fitted sentence-embedding preprocessor, when that candidate ran.
    seed
        Seed of the SVD.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Fitted; ``transform(X)`` gives the detector's input.
    """
    if embeddings_preprocess is not None:
        return Pipeline([("preprocess", embeddings_preprocess)])
    if schema.has_text and text_preprocess is not None:
        return Pipeline([("preprocess", clone(text_preprocess).fit(X))])
    pre = make_preprocessor(schema, "dense", n_rows=len(X), seed=seed).fit(X)
    width = int(pre.transform(X.iloc[:1]).shape[1])
    if width <= MAX_DENSE_FEATURES:
        return Pipeline([("preprocess", pre)])
    svd = CappedSVD(n_components=MAX_DENSE_FEATURES, random_state=seed).fit(pre.transform(X))
    return Pipeline([("preprocess", pre), ("svd", svd)])


def ood_detectors(*, known_ood: bool, sparse: bool) -> tuple[str, ...]:
    """The detectors to fit: the robust default, or more when OOD examples can choose.

    Mahalanobis needs a dense covariance, so it is left out on sparse (text) features.

    Examples
    --------
    >>> ood_detectors(known_ood=False, sparse=False)
    ('knn', 'range')
    >>> ood_detectors(known_ood=True, sparse=True)
    ('knn', 'range', 'max_prob', 'energy')
    """
    if not known_ood:
        return DEFAULT_DETECTORS
    dense = () if sparse else ("mahalanobis",)
    return (*DEFAULT_DETECTORS, *dense, "max_prob", "energy")
