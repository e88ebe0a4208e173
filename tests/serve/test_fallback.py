"""The degraded answers: the backup's numbers, decided by ``decide`` — rules included."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prudent.bundle import Bundle
from prudent.models import DecisionKind, DeferReason, RuleSet
from prudent.serve import Predictor, ServingOptions, backup_answer, review_answer, smoke_rows
from prudent.store import SqlPredictionLog
from tests.serve._bundles import input_rows

RULES = """
rules:
  - name: huge tumours go to people
    when: "mean_radius > 16"
    then: review
  - name: tiny ones are benign
    when: "mean_radius < 11"
    then: benign
"""


def _with_rules(bundle: Bundle) -> Bundle:
    """A copy of ``bundle`` whose model carries RULES (the session's bundle stays as it is)."""
    ruled = copy.copy(bundle)
    ruled.model = copy.copy(bundle.model)
    ruled.model.rules = RuleSet.from_yaml(
        RULES, columns=bundle.schema.feature_names, classes=bundle.classes
    )
    return ruled


def test_backup_answer_has_the_bundle_columns_and_backup_probabilities(
    mixed_bundle: Bundle,
) -> None:
    rows = input_rows("mixed", 20, seed=3)
    out = backup_answer(mixed_bundle, rows, "primary down").to_frame()
    assert list(out.columns) == list(mixed_bundle.predict(rows).columns)
    model = mixed_bundle.model
    X = rows[mixed_bundle.schema.feature_names]
    expected = (
        model.backup_calibrator.predict_proba(model.backup.predict_proba(X))
        if (model.backup_calibrator is not None)
        else model.backup.predict_proba(X)
    )
    probas = out[[f"proba_{c}" for c in mixed_bundle.classes]].to_numpy()
    np.testing.assert_allclose(probas, expected, rtol=1e-6)
    assert (out["prediction"] == np.asarray(mixed_bundle.classes)[probas.argmax(1)]).all()
    assert set(out["decision"]) == {"backup"} and out["defer_reason"].isna().all()
    assert out["reason"][0] == "primary down; the backup model answered"


def test_review_answer_sends_every_row_to_review(numeric_bundle: Bundle) -> None:
    out = review_answer(numeric_bundle, 3, "both failed").to_frame()
    assert list(out.columns) == list(numeric_bundle.predict(input_rows("numeric", 1)).columns)
    assert list(out["decision"]) == ["review"] * 3
    assert list(out["defer_reason"]) == ["models_failed"] * 3
    assert out["confidence"].isna().all() and out["prediction"].isna().all()
    assert (out["prediction_set"] == "[]").all()  # the table's file form: JSON text


def test_a_rule_holds_on_the_backup_path(numeric_bundle: Bundle) -> None:
    ruled = _with_rules(numeric_bundle)
    rows = input_rows("numeric", 120, seed=4)
    big, small = rows["mean_radius"] > 16, rows["mean_radius"] < 11
    assert big.sum() > 0 and small.sum() > 0
    normal = ruled.predictions(rows)
    degraded = backup_answer(ruled, rows, "the primary model failed (RuntimeError)")
    for p in (normal, degraded):
        kinds = pd.Series([str(k) for k in p.decision])
        assert (kinds[big] == "review").all()
        assert all(r is DeferReason.RULE for r in p.defer_reason[big])
        assert (kinds[small] == "rule").all() and (p.prediction[small] == "benign").all()
    others = ~(big | small)
    assert {str(k) for k in degraded.decision[others]} == {"backup"}
    assert degraded.reason[big.to_numpy().argmax()] == (
        "rule 'huge tumours go to people' sends to review"
    )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_rule_review_holds_when_the_primary_fails_in_service(
    numeric_bundle: Bundle, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    ruled = _with_rules(numeric_bundle)
    rows = input_rows("numeric", 60, seed=5)
    big = (rows["mean_radius"] > 16).to_numpy()

    def broken(frame: pd.DataFrame) -> None:
        raise RuntimeError("model exploded")

    with SqlPredictionLog.open(f"sqlite:///{tmp_path / 'log.db'}") as log:
        predictor = Predictor(ruled, log, primary=broken, options=ServingOptions(deadline_ms=2000))  # type: ignore[arg-type]
        batch = asyncio.run(predictor.predict_records(rows))
        predictor.close()
        stored = [log.get(pid) for pid in batch.ids]
        in_queue = log.count_review()
    assert batch.fallback == "backup"
    assert [r.decision for r in stored] == [
        DecisionKind.REVIEW if b else batch.predictions.decision[i] for i, b in enumerate(big)
    ]
    assert {r.defer_reason for r, b in zip(stored, big, strict=True) if b} == {DeferReason.RULE}
    assert in_queue == int(big.sum())


def test_smoke_rows_is_one_stored_row_with_the_features(numeric_bundle: Bundle) -> None:
    row = smoke_rows(numeric_bundle)
    assert list(row.columns) == numeric_bundle.schema.feature_names and len(row) == 1
    assert len(numeric_bundle.predict(row)) == 1


@pytest.mark.parametrize("n", [0, 2])
def test_review_answer_rows_are_json_ready(numeric_bundle: Bundle, n: int) -> None:
    rows = review_answer(numeric_bundle, n, "both failed").rows()
    assert len(rows) == n
    for row in rows:
        assert row["prediction"] is None and row["proba_benign"] is None
        assert (row["decision"], row["defer_reason"]) == ("review", "models_failed")
