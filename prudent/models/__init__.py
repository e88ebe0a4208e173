"""Estimators with the scikit-learn contract, and the families prudent searches over."""

from prudent.models._baselines import logistic_baseline, majority_baseline
from prudent.models._calibration import ProbabilityCalibrator
from prudent.models._candidates import (
    BuildContext,
    CandidateSpec,
    candidate_specs,
    embeddings_available,
)
from prudent.models._cascade import CascadePolicy, decide
from prudent.models._conformal import ConformalClassifier
from prudent.models._decisions import Decision, DecisionKind, Decisions, DeferReason
from prudent.models._ensembles import (
    EnsembleChoice,
    StackedEnsemble,
    WeightedEnsemble,
    choose_ensemble,
    ensemble_from_choice,
    greedy_ensemble_selection,
)
from prudent.models._export import SchemaInputs, ShippedClassifier, export_pipeline
from prudent.models._features import DatetimeFeatures, make_preprocessor, text_only_preprocessor
from prudent.models._guarded import GuardedModel, RawScores
from prudent.models._ood import OODDetector
from prudent.models._predictions import (
    OUTPUT_COLUMNS,
    ColumnKind,
    OutputColumn,
    OutputField,
    Predictions,
    output_columns,
    output_fields,
)
from prudent.models._rules import RuleMatches, RuleSet
from prudent.models._thresholds import CostPolicy, ThresholdChoice, select_threshold

__all__ = [
    "OUTPUT_COLUMNS",
    "BuildContext",
    "CandidateSpec",
    "CascadePolicy",
    "ColumnKind",
    "ConformalClassifier",
    "CostPolicy",
    "DatetimeFeatures",
    "Decision",
    "DecisionKind",
    "Decisions",
    "DeferReason",
    "EnsembleChoice",
    "GuardedModel",
    "OODDetector",
    "OutputColumn",
    "OutputField",
    "Predictions",
    "ProbabilityCalibrator",
    "RawScores",
    "RuleMatches",
    "RuleSet",
    "SchemaInputs",
    "ShippedClassifier",
    "StackedEnsemble",
    "ThresholdChoice",
    "WeightedEnsemble",
    "candidate_specs",
    "choose_ensemble",
    "decide",
    "embeddings_available",
    "ensemble_from_choice",
    "export_pipeline",
    "greedy_ensemble_selection",
    "logistic_baseline",
    "majority_baseline",
    "make_preprocessor",
    "output_columns",
    "output_fields",
    "select_threshold",
    "text_only_preprocessor",
]
