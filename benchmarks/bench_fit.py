"""Fit wall time and predict throughput on a 100k-row generated table.

Reference, measured in the same run: a bare LightGBM (defaults) fit and predict on the
same rows. Reported: prudent's fit time against its budget, and ratios to the reference.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.datasets import make_classification

import prudent

ROWS = 100_000
TIME_LIMIT = 120.0


def _table(rows: int, seed: int = 0) -> pd.DataFrame:
    X, y = make_classification(
        n_samples=rows,
        n_features=20,
        n_informative=8,
        n_redundant=4,
        weights=[0.9, 0.1],
        flip_y=0.02,
        random_state=seed,
    )
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    rng = np.random.default_rng(seed)
    frame["region"] = rng.choice(["north", "south", "east", "west"], size=rows)
    frame.loc[rng.random(rows) < 0.05, "x0"] = np.nan
    frame["label"] = np.where(y == 1, "churn", "stay")
    return frame


def run() -> dict[str, Any]:
    frame = _table(ROWS)
    X = frame.drop(columns="label").assign(region=lambda d: d["region"].astype("category"))
    y = frame["label"]
    t0 = time.perf_counter()
    ref = LGBMClassifier(verbose=-1).fit(X, y)
    ref_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref.predict_proba(X)
    ref_predict = time.perf_counter() - t0

    t0 = time.perf_counter()
    bundle = prudent.fit(frame, target="label", time_limit=TIME_LIMIT)
    fit_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    bundle.predict(frame.drop(columns="label"))
    predict_seconds = time.perf_counter() - t0
    return {
        "rows": ROWS,
        "time_limit_s": TIME_LIMIT,
        "fit_seconds": round(fit_seconds, 2),
        "fit_within_budget_plus_10pct": fit_seconds <= TIME_LIMIT * 1.1,
        "reference_lightgbm_fit_seconds": round(ref_fit, 2),
        "fit_ratio_to_reference": round(fit_seconds / ref_fit, 1),
        "predict_rows_per_s": round(ROWS / predict_seconds),
        "reference_lightgbm_predict_rows_per_s": round(ROWS / ref_predict),
        "predict_ratio_to_reference": round(predict_seconds / ref_predict, 2),
        "chosen": bundle.manifest["chosen"],
        "skipped": bundle.manifest["skipped"],
    }
