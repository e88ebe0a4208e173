"""The trust stage on tables that used to break it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prudent.pipeline import FitSpec, QuietReporter, fit_table


def _two_string_columns(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """3 classes; two string columns of 20 levels each make the one-hot rows sparse."""
    rng = np.random.default_rng(seed)
    a = rng.choice([f"a{i}" for i in range(20)], n)
    b = rng.choice([f"b{i}" for i in range(20)], n)
    x = rng.normal(size=n) + (np.char.str_len(a.astype(str)) > 2)
    y = np.where(x > 0.8, "hi", np.where(x < -0.3, "lo", "mid"))
    return pd.DataFrame({"a": a, "b": b, "x": x, "y": y})


def test_build_trust_sparse_one_hot_features_do_not_crash() -> None:
    spec = FitSpec(target="y", time_limit=60.0, candidates=("lightgbm",))
    result = fit_table(_two_string_columns(), spec, reporter=QuietReporter())
    ood = result.trust.sections["ood"]
    assert 0.0 < ood["threshold"] < np.inf
    fpr = result.trust.sections["test"]["ood"]["test_fpr"]
    n_test, n_threshold = 600, 1200  # locked test rows; rows that set the threshold
    assert fpr <= 0.05 + 2 * np.sqrt(0.05 * 0.95 * (1 / n_test + 1 / n_threshold))


def test_leaderboard_warns_of_a_bug_only_for_families_that_ought_to_win() -> None:
    from prudent.metrics import Verdict
    from prudent.pipeline._leaderboard import verdict_message

    class Worse:
        verdict = Verdict.WORSE
        p_adjusted = 0.001

    weak = verdict_message("knn", Worse(), "logistic", "nearest neighbours")  # type: ignore[arg-type]
    strong = verdict_message("lightgbm", Worse(), "logistic", "gradient boosting")  # type: ignore[arg-type]
    assert "bug" not in weak and "WARNING" not in weak and "simpler family" in weak
    assert strong.startswith("WARNING lightgbm") and "bug" in strong
