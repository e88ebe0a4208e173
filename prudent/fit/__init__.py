"""Orchestration of a fit: the spec, the reporter seam, and the pipeline that ties the layers."""

from prudent.fit._engine import Budget, CandidateRun, SkippedCandidate
from prudent.fit._pipeline import FitResult, fit_table
from prudent.fit._reporter import (
    LoggingReporter,
    QuietReporter,
    Reporter,
    is_warning,
    rich_progress,
)
from prudent.fit._spec import FitSpec
from prudent.fit._trust import TrustResult

__all__ = [
    "Budget",
    "CandidateRun",
    "FitResult",
    "FitSpec",
    "LoggingReporter",
    "QuietReporter",
    "Reporter",
    "SkippedCandidate",
    "TrustResult",
    "fit_table",
    "is_warning",
    "rich_progress",
]
