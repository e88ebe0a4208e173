"""The trust stage on tables that used to break it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prudent.fit import FitSpec, QuietReporter, fit_table


def _two_string_columns(n: int = 600, seed: int = 0) -> pd.DataFrame:
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
    assert fpr <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 120)
