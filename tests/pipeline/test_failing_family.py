"""An optional family that fails on the data is skipped with its reason; the fit goes on.

Many classes with a few small ones (like a 25-industry table whose rarest class has 14 rows):
the pilot sample left a small class with fewer rows than the calibrated linear SVM's three
folds, which first ended the whole fit in an internal error, then skipped the family with
scikit-learn's message. Its calibration now takes as many folds as the rarest class allows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import Pipeline

from prudent.data import infer_schema, make_splits, prepare_target, validate_frame
from prudent.models import BuildContext, CandidateSpec, candidate_specs, text_only_preprocessor
from prudent.pipeline import FitSpec, QuietReporter, fit_table
from prudent.pipeline._budget import Budget
from prudent.pipeline._fit_run import _candidate_ctx, _Rows, _Run


def _many_classes_text(seed: int = 0, small: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = [40] * 20 + [small] * 5
    rows = []
    for c, n in enumerate(sizes):
        for _ in range(n):
            words = [f"w{c}"] * 2 + [f"n{j}" for j in rng.integers(0, 50, size=4)]
            rows.append({"name": " ".join(rng.permutation(words)), "target": f"class_{c:02d}"})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def test_rare_classes_no_longer_stop_the_calibrated_linear_svm() -> None:
    # classes of 3 rows, the fewest a fit accepts: its folds leave them 2
    for small in (12, 3):
        frame = _many_classes_text(small=small)
        spec = FitSpec(
            target="target", text=("name",), candidates=("linear_svm",), time_limit=300.0
        )
        result = fit_table(frame, spec, reporter=QuietReporter())
        assert "linear_svm" in result.runs, result.notices
        assert not [n for n in result.notices if n.startswith("Skipped linear_svm")]
        # two words of each row name its class: out of fold, the family learns them (and the
        # rare classes of 12 rows; 2 rows of one are too few to outweigh its prior)
        y = result.y[result.splits.train]
        guess = result.runs["linear_svm"].oof_proba.argmax(axis=1)
        rare = y >= 20
        assert (guess == y).mean() > 0.9
        assert small == 3 or (guess[rare] == y[rare]).mean() > 0.5


def _refusing_spec() -> CandidateSpec:
    """A real estimator that refuses this data: linear discriminant analysis takes no sparse
    matrix, and TF-IDF gives one."""

    def build(ctx: BuildContext) -> Pipeline:
        text = text_only_preprocessor(ctx.schema, n_rows=ctx.n_rows)
        return Pipeline([("preprocess", text), ("model", LinearDiscriminantAnalysis())])

    return CandidateSpec("discriminant", "linear discriminant", build)


def test_a_family_that_fails_on_the_data_is_skipped_not_fatal() -> None:
    """Through the fit's own loop over families: the failing family is skipped with its
    reason in the notices, and the baseline beside it still fits."""
    frame = _many_classes_text()
    schema = infer_schema(frame, "target", text=["name"])
    target = prepare_target(frame, "target")
    X = validate_frame(target.frame.drop(columns="target"), schema)[0]
    splits = make_splits(target.y, n_folds=5, seed=0)
    train, y = X.iloc[splits.train].reset_index(drop=True), target.y[splits.train]
    rows = _Rows(train, y, _candidate_ctx(schema, y, len(target.classes), 0))
    logistic = [s for s in candidate_specs(schema) if s.name == "logistic"]
    reporter = QuietReporter()
    budget = Budget(300.0, clock=lambda: 0.0, cpu_clock=lambda: 0.0)
    runs: dict[str, Any] = {}
    run = _Run(FitSpec(target="target"), budget, reporter)
    run.families([*logistic, _refusing_spec()], rows, splits, runs)
    failed = "Skipped discriminant: it failed on this data (TypeError:"
    skipped = [n for n in reporter.notices if n.startswith(failed)]
    assert skipped, reporter.notices
    assert "sparse data" in skipped[0].lower()
    assert "logistic" in runs
