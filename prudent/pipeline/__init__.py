"""Orchestration of a fit: the spec, the reporter seam, and the pipeline that ties the layers."""

from prudent.pipeline._budget import Budget
from prudent.pipeline._engine import CandidateRun, SkippedCandidate
from prudent.pipeline._parallel import TaskRunner
from prudent.pipeline._pipeline import FitResult, fit_table
from prudent.pipeline._reporter import (
    LoggingReporter,
    QuietReporter,
    Reporter,
    is_warning,
    rich_progress,
)
from prudent.pipeline._spec import FitSpec
from prudent.pipeline._thresholds import tune_policy
from prudent.pipeline._trust import TrustResult

__all__ = [
    "Budget",
    "CandidateRun",
    "FitResult",
    "FitSpec",
    "LoggingReporter",
    "QuietReporter",
    "Reporter",
    "SkippedCandidate",
    "TaskRunner",
    "TrustResult",
    "fit_table",
    "is_warning",
    "rich_progress",
    "tune_policy",
]
