"""Per-row contributions: exact for linear models and LightGBM, summed back to input columns,
absent (None) for primaries that give none cheaply; kept out of the default output columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline

from prudent.data import infer_schema
from prudent.models import make_preprocessor, output_columns
from prudent.models._explain import explain_rows
from tests.fixtures import fit_bundle


def _frame(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "signal": signal,
            "noise": rng.normal(size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n),
        }
    )
    frame.loc[::17, "noise"] = np.nan  # a missing indicator feature belongs to 'noise' too
    return frame, (signal + rng.normal(scale=0.2, size=n) > 0).astype(int)


def _pipeline(model: object, frame: pd.DataFrame, y: np.ndarray, style: str = "linear") -> Pipeline:
    schema = infer_schema(frame.assign(label=y), "label")
    pre = make_preprocessor(schema, style, n_rows=len(frame))  # type: ignore[arg-type]
    return Pipeline([("preprocess", pre), ("model", model)]).fit(frame, y)


def test_linear_contributions_add_up_to_the_decision_function() -> None:
    frame, y = _frame()
    pipe = _pipeline(LogisticRegression(), frame, y)
    found = explain_rows(pipe, frame, np.ones(len(frame), dtype=int), 2, top=3)
    assert found is not None and {c["column"] for c in found[0]} == {"signal", "noise", "colour"}
    total = np.array([sum(c["contribution"] for c in row) for row in found])
    margin = pipe.decision_function(frame) - pipe[-1].intercept_[0]
    np.testing.assert_allclose(total, margin, atol=1e-4)
    assert np.mean([row[0]["column"] == "signal" for row in found]) > 0.9


def test_lightgbm_contributions_rank_the_signal_first() -> None:
    frame, y = _frame()
    model = LGBMClassifier(n_estimators=50, verbose=-1, random_state=0)
    pipe = _pipeline(model, frame, y, style="tree")
    found = explain_rows(pipe, frame, pipe.predict(frame), 2)
    assert found is not None
    assert np.mean([row[0]["column"] == "signal" for row in found]) > 0.9
    assert np.mean([row[0]["contribution"] > 0 for row in found]) > 0.9  # toward the label


def test_other_primaries_give_no_explanation() -> None:
    frame, y = _frame()
    pipe = _pipeline(KNeighborsClassifier(), frame, y)
    assert explain_rows(pipe, frame, np.zeros(len(frame), dtype=int), 2) is None


@pytest.mark.parametrize("explain", [False, True])
def test_bundle_predict_explains_only_when_asked(explain: bool) -> None:
    frame, y = _frame(300)
    bundle = fit_bundle(frame.assign(label=np.where(y == 1, "yes", "no")), "label")
    out = bundle.predict(frame.head(20), explain=explain)
    expected = output_columns(bundle.classes) + (["explanation"] if explain else [])
    assert list(out.columns) == expected
    if explain:
        assert out["explanation"].notna().all()  # the baseline primary is linear
        firsts = [row[0]["column"] for row in out["explanation"]]
        assert firsts.count("signal") >= 15, firsts
