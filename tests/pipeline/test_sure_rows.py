"""The review budget is a ceiling, not a quota: a model sure of its rows sends none of them to
review for its confidence (only the OOD detector's alarms go)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import prudent
from prudent.models._review_budget import SURE


def _separable(n: int, seed: int) -> pd.DataFrame:
    """A label that is the sign of ``x``, with no row near the boundary: every answer is sure."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.8, 3.0, n) * rng.choice([-1.0, 1.0], n)
    return pd.DataFrame({"x": x, "noise": rng.normal(size=n), "y": np.where(x > 0, "pos", "neg")})


def test_a_sure_model_sends_no_row_to_review_for_its_confidence() -> None:
    bundle = prudent.fit(_separable(800, 0), "y", time_limit=10, progress=False)
    accept = bundle.manifest["trust"]["thresholds"]["accept"]
    assert accept["threshold"] <= SURE and "not reviewed" in accept["method"]
    new = _separable(1000, 1)
    out = bundle.predict(new.drop(columns="y"))
    assert (out["prediction"] == new["y"]).all()
    assert (out["confidence"] >= SURE).mean() > 0.95
    reviewed = out["decision"] == "review"
    assert not (reviewed & ~out["is_ood"]).any(), out[reviewed & ~out["is_ood"]].head()
    assert reviewed.mean() <= 0.1  # the OOD alarms alone: 5% of in-distribution rows at most
