"""The locked test set's one look: what is measured, and what is not computed twice."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from prudent.models._guarded import RawScores
from prudent.pipeline._decision_promises import _accuracy_promise
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


def test_a_promised_accuracy_near_one_is_written_as_the_bound_it_is() -> None:
    """A bound of 0.99959 read "≥ 1.000" (no error at all): it is written rounded down, with
    the digits that tell it from 1, and judged against the bound itself."""
    accept = {"feasible": True, "target_accuracy": 0.9995908763936895}
    accepted = np.ones(53_579, dtype=bool)
    promise = _accuracy_promise(accept, 0.1, accepted, 1 - 8 / 53_579, 53_579.0)
    assert promise["promised"].startswith("≥ 0.9995 (with prob. ≥ 0.90")
    assert promise["kept"] is True
