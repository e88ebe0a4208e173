"""An optional family that fails on the data is skipped with its reason; the fit goes on.

Many classes with a few small ones (like a 25-industry table whose rarest class has 14 rows):
the pilot sample left a small class with fewer rows than the calibrated linear SVM's three
folds, which first ended the whole fit in an internal error, then skipped the family with
scikit-learn's message. Its calibration now takes as many folds as the rarest class allows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import Pipeline

from prudent.data import make_splits
from prudent.models import BuildContext, CandidateSpec, text_only_preprocessor
from prudent.pipeline import FitSpec, QuietReporter, fit_table
from prudent.pipeline._budget import Budget
from prudent.pipeline._fit_run import _cross_validate
from prudent.pipeline._pipeline import _candidate_ctx


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
    from prudent.data import infer_schema, prepare_target, validate_frame

    frame = _many_classes_text()
    schema = infer_schema(frame, "target", text=["name"])
    target = prepare_target(frame, "target")
    X = validate_frame(target.frame.drop(columns="target"), schema)[0]
    splits = make_splits(target.y, n_folds=5, seed=0)
    train, y = X.iloc[splits.train].reset_index(drop=True), target.y[splits.train]
    ctx = _candidate_ctx(schema, y, len(target.classes), 0)
    budget = Budget(300.0, clock=lambda: 0.0, cpu_clock=lambda: 0.0)
    skipped = _cross_validate(_refusing_spec(), ctx, train, y, splits, budget, None)
    assert skipped.name == "discriminant"
    assert skipped.reason.startswith("it failed on this data (TypeError:")
    assert "sparse data" in skipped.reason.lower()
