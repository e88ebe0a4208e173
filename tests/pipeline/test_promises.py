"""The locked test set's one look: what is measured, and what is not computed twice."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from prudent.models._guarded import RawScores
from prudent.pipeline._promises import _test_proba


class _Counted:
    """A fitted model whose predictions are counted."""

    def __init__(self) -> None:
        self.classes_ = np.array([0, 1])
        self.calls = 0

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        self.calls += 1
        return np.full((len(X), 2), 0.5)


def test_the_primarys_test_probabilities_are_computed_once() -> None:
    """A model chosen alone is also a baseline or the best single model: its metrics read
    the probabilities the guarded scores computed (a second pass over 4,000 long texts
    cost 1.4 s of a 60 s fit); any other model predicts."""
    primary, other = _Counted(), _Counted()
    model: Any = type("Model", (), {"primary": primary, "classes": np.array(["a", "b"])})()
    raw = RawScores(np.full((3, 2), 0.5), None, None, primary_raw=np.eye(3, 2))
    X = pd.DataFrame({"x": [1, 2, 3]})
    assert _test_proba(primary, model, raw, X) is raw.primary_raw
    assert _test_proba(other, model, raw, X).shape == (3, 2)
    assert (primary.calls, other.calls) == (0, 1)
