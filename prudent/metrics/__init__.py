"""prudent.metrics: pure functions that score probabilities, test differences and audit labels.

Inputs follow one convention: ``y`` holds class indices ``0 .. k-1`` and ``proba`` is an
``(n, k)`` matrix of probabilities whose rows sum to 1 (binary problems have two columns).
Nothing here fits a model; the layer imports only numpy, scipy, scikit-learn and pandas.
"""

from __future__ import annotations

from prudent.metrics._bootstrap import bootstrap_scores
from prudent.metrics._calibration_test import (
    design_effect,
    ece_consistency_test,
    ece_from_confidence,
)
from prudent.metrics._classification import (
    SCORES,
    Score,
    accuracy,
    balanced_accuracy,
    brier_score,
    expected_calibration_error,
    log_loss,
    macro_f1,
)
from prudent.metrics._diversity import (
    Diversity,
    disagreement,
    diversity_report,
    double_fault,
    error_correlation,
    yules_q,
)
from prudent.metrics._importance import permutation_importance
from prudent.metrics._label_audit import confident_joint, find_label_issues, per_class_thresholds
from prudent.metrics._leakage import LEAK_BALANCED_ACCURACY, Leak, single_column_leaks
from prudent.metrics._results import Interval, TestResult
from prudent.metrics._risk_coverage import aurc, risk_coverage_curve, selective_accuracy
from prudent.metrics._significance import (
    Comparison,
    Verdict,
    balanced_accuracy_diff_se,
    compare_to_baseline,
    holm,
    mcnemar,
    mean_se,
)

__all__ = [
    "LEAK_BALANCED_ACCURACY",
    "SCORES",
    "Comparison",
    "Diversity",
    "Interval",
    "Leak",
    "Score",
    "TestResult",
    "Verdict",
    "accuracy",
    "aurc",
    "balanced_accuracy",
    "balanced_accuracy_diff_se",
    "bootstrap_scores",
    "brier_score",
    "compare_to_baseline",
    "confident_joint",
    "design_effect",
    "disagreement",
    "diversity_report",
    "double_fault",
    "ece_consistency_test",
    "ece_from_confidence",
    "error_correlation",
    "expected_calibration_error",
    "find_label_issues",
    "holm",
    "log_loss",
    "macro_f1",
    "mcnemar",
    "mean_se",
    "per_class_thresholds",
    "permutation_importance",
    "risk_coverage_curve",
    "selective_accuracy",
    "single_column_leaks",
    "yules_q",
]
