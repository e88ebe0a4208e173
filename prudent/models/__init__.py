"""Estimators with the scikit-learn contract, and the families prudent searches over."""

from prudent.models._baselines import logistic_baseline, majority_baseline
from prudent.models._candidates import (
    BuildContext,
    CandidateSpec,
    candidate_specs,
    embeddings_available,
)
from prudent.models._features import DatetimeFeatures, make_preprocessor, text_only_preprocessor

__all__ = [
    "BuildContext",
    "CandidateSpec",
    "DatetimeFeatures",
    "candidate_specs",
    "embeddings_available",
    "logistic_baseline",
    "majority_baseline",
    "make_preprocessor",
    "text_only_preprocessor",
]
