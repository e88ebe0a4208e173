"""Estimators with the scikit-learn contract, and the families prudent searches over.

The names are imported on first use: ``prudent predict`` loads only the modules a bundle's
model is made of, not the candidate families (LightGBM, the MLP, …) it was chosen among.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prudent._lazy import lazy_getattr

if TYPE_CHECKING:
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
    from prudent.models._learn_then_test import select_threshold
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
    from prudent.models._thresholds import CostPolicy, ThresholdChoice
    from prudent.models._training_values import TrainingValues

_LAZY = {
    "BuildContext": "prudent.models._candidates",
    "CandidateSpec": "prudent.models._candidates",
    "CascadePolicy": "prudent.models._cascade",
    "ColumnKind": "prudent.models._predictions",
    "ConformalClassifier": "prudent.models._conformal",
    "CostPolicy": "prudent.models._thresholds",
    "DatetimeFeatures": "prudent.models._features",
    "Decision": "prudent.models._decisions",
    "DecisionKind": "prudent.models._decisions",
    "Decisions": "prudent.models._decisions",
    "DeferReason": "prudent.models._decisions",
    "EnsembleChoice": "prudent.models._ensembles",
    "GuardedModel": "prudent.models._guarded",
    "OODDetector": "prudent.models._ood",
    "OUTPUT_COLUMNS": "prudent.models._predictions",
    "OutputColumn": "prudent.models._predictions",
    "OutputField": "prudent.models._predictions",
    "Predictions": "prudent.models._predictions",
    "ProbabilityCalibrator": "prudent.models._calibration",
    "RawScores": "prudent.models._guarded",
    "RuleMatches": "prudent.models._rules",
    "RuleSet": "prudent.models._rules",
    "SchemaInputs": "prudent.models._export",
    "ShippedClassifier": "prudent.models._export",
    "StackedEnsemble": "prudent.models._ensembles",
    "ThresholdChoice": "prudent.models._thresholds",
    "TrainingValues": "prudent.models._training_values",
    "WeightedEnsemble": "prudent.models._ensembles",
    "candidate_specs": "prudent.models._candidates",
    "choose_ensemble": "prudent.models._ensembles",
    "decide": "prudent.models._cascade",
    "embeddings_available": "prudent.models._candidates",
    "ensemble_from_choice": "prudent.models._ensembles",
    "export_pipeline": "prudent.models._export",
    "greedy_ensemble_selection": "prudent.models._ensembles",
    "logistic_baseline": "prudent.models._baselines",
    "majority_baseline": "prudent.models._baselines",
    "make_preprocessor": "prudent.models._features",
    "output_columns": "prudent.models._predictions",
    "output_fields": "prudent.models._predictions",
    "select_threshold": "prudent.models._learn_then_test",
    "text_only_preprocessor": "prudent.models._features",
}

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
    "TrainingValues",
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


__getattr__ = lazy_getattr(__name__, _LAZY)
