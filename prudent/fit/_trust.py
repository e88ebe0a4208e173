"""The trust stage of a fit: choose the primary model, then measure it once on the locked test.

The choice follows the product's first belief: a candidate ships only if it beats the best
baseline significantly; otherwise the logistic baseline ships and the reason is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prudent._typing import EncodedLabels, Labels
from prudent.data import Schema
from prudent.fit._engine import Budget, CandidateRun, predict_proba_aligned
from prudent.fit._reporter import Reporter
from prudent.fit._spec import FitSpec
from prudent.metrics import Comparison, Verdict, bootstrap_scores, log_loss
from prudent.models._guarded import GuardedModel

__all__ = ["TrustResult", "build_trust", "choose_single"]


@dataclass
class TrustResult:
    """The chosen model and what was measured about it."""

    model: GuardedModel
    chosen: dict[str, Any]
    test_metrics: dict[str, dict[str, dict[str, float]]]
    artifacts: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)
    """Issue-3 measurements (diversity, calibration, OOD, conformal, thresholds, promises)."""


def choose_single(runs: Mapping[str, CandidateRun], comparisons: Mapping[str, Comparison],
                  y: EncodedLabels) -> tuple[str, str]:
    """The best candidate (by out-of-fold log loss) among those significantly better than the
    best baseline, or the logistic baseline with the reason none qualified."""
    better = [n for n, c in comparisons.items() if c.verdict is Verdict.BETTER]
    if not better:
        return "logistic", ("no candidate beat the best baseline significantly (McNemar, "
                            "Holm-corrected), so the logistic baseline is kept")
    best = min(better, key=lambda n: log_loss(y, runs[n].oof_proba))
    return best, (f"{best} has the lowest out-of-fold log loss among the candidates that beat the "
                  "best baseline significantly")


def _scores(y: EncodedLabels, proba: np.ndarray, seed: int) -> dict[str, dict[str, float]]:
    return {k: {"point": v.point, "low": v.low, "high": v.high}
            for k, v in bootstrap_scores(y, proba, seed=seed).items()}


def build_trust(*, runs: Mapping[str, CandidateRun], comparisons: Mapping[str, Comparison],
                best_baseline: str, spec: FitSpec, classes: Labels, X_train: pd.DataFrame,
                y_train: EncodedLabels, X_test: pd.DataFrame, y_test: EncodedLabels,
                X_ood: pd.DataFrame | None, schema: Schema, budget: Budget,
                reporter: Reporter) -> TrustResult:
    """Choose the primary model and evaluate it, and the baselines, on the locked test set."""
    name, reason = choose_single(runs, comparisons, y_train)
    reporter.notice(f"Chosen model: {name} — {reason}.")
    model = GuardedModel(classes=classes, primary=runs[name].model)
    k = len(classes)
    test_proba = {n: predict_proba_aligned(runs[n].model, X_test, k)
                  for n in {*(n for n, r in runs.items() if r.spec.baseline), name}}
    final = model.scores(X_test).primary
    test_metrics = {n: _scores(y_test, p, spec.seed) for n, p in test_proba.items()}
    test_metrics["final"] = _scores(y_test, final, spec.seed)
    chosen = {"kind": "single", "members": {name: 1.0}, "primary": name, "reason": reason}
    return TrustResult(model=model, chosen=chosen, test_metrics=test_metrics,
                       artifacts={"test_proba_final": final, "y_test": y_test})
