"""One table of output columns: the file, JSON, V2 and log faces are all derived from it."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import prudent.models._predictions as table
from prudent.api._schemas import prediction_model
from prudent.api._v2_codec import output_metadata, output_tensors
from prudent.models import (
    OUTPUT_COLUMNS,
    CascadePolicy,
    ColumnKind,
    OutputColumn,
    Predictions,
    decide,
    output_columns,
)
from prudent.serve import PredictionBatch
from prudent.store import PredictionRecord
from prudent.store._tables import predictions as predictions_table

CLASSES = np.array(["ham", "spam", "eggs"])


def _predictions() -> Predictions:
    """Three rows: accepted, deferred for low confidence, and out of distribution."""
    P = np.array([[0.95, 0.03, 0.02], [0.4, 0.35, 0.25], [0.1, 0.85, 0.05]])
    ood = np.array([0.1, 0.2, 9.0])
    d = decide(
        CascadePolicy(0.8, ood_threshold=5.0),
        classes=list(CLASSES),
        primary_proba=P,
        ood_score=ood,
    )
    return Predictions(CLASSES, P, ood, ood >= 5.0, P >= 0.3, d)


def _faces(p: Predictions) -> dict[str, list[str]]:
    """The column names every face shows (``prediction_id`` aside, which serving adds)."""
    schema = prediction_model(list(CLASSES)).model_json_schema(by_alias=True)
    batch = PredictionBatch(p, ["a", "b", "c"], "m", "v1")
    return {
        "file": list(p.to_frame().columns),
        "json rows": list(p.rows()[0]),
        "json schema": [n for n in schema["properties"] if n != "prediction_id"],
        "v2 metadata": [n for n, _ in output_metadata(list(CLASSES)) if n != "prediction_id"],
        "v2 tensors": [n for n in output_tensors(batch) if n != "prediction_id"],
        "served frame": [c for c in batch.frame.columns if c != "prediction_id"],
    }


def test_every_face_has_the_columns_of_the_table() -> None:
    p = _predictions()
    for face, names in _faces(p).items():
        assert names == output_columns(CLASSES), face


def test_the_log_record_holds_every_column_of_the_table() -> None:
    keys = {c.key for c in OUTPUT_COLUMNS}
    fields = {f.name for f in dataclasses.fields(PredictionRecord)}
    assert keys <= fields, "a column of the table has no field in the prediction log's record"
    assert keys <= set(predictions_table.c.keys()), "and no column in the log's SQL table"
    records = _predictions().records()
    assert set(records[0]) == keys
    made = PredictionRecord(model_version="v", model_name="m", inputs={}, **records[2])
    assert (made.decision, made.defer_reason) == ("review", "out_of_distribution")
    assert made.probabilities == {"ham": 0.1, "spam": 0.85, "eggs": 0.05}
    assert made.prediction_set == ("spam",)


def test_a_column_added_to_the_table_appears_in_every_face(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gap = OutputColumn(
        "top_two_gap",
        ColumnKind.NUMBER,
        "The top probability minus the second.",
        lambda p: np.diff(np.sort(p.probabilities, axis=1)[:, -2:], axis=1)[:, 0],
    )
    monkeypatch.setattr(table, "OUTPUT_COLUMNS", (*OUTPUT_COLUMNS, gap))
    p = _predictions()
    for face, names in _faces(p).items():
        assert names[-1] == "top_two_gap" and names == output_columns(CLASSES), face
    assert p.rows()[0]["top_two_gap"] == pytest.approx(0.92)
    assert p.to_frame()["top_two_gap"].round(2).tolist() == [0.92, 0.05, 0.75]
    batch = PredictionBatch(p, ["a", "b", "c"], "m", "v1")
    assert output_tensors(batch)["top_two_gap"][0] == "FP64"


def test_faces_agree_on_values() -> None:
    p = _predictions()
    frame, rows = p.to_frame(), p.rows()
    batch = PredictionBatch(p, ["a", "b", "c"], "m", "v1")
    tensors = output_tensors(batch)
    assert [r["prediction"] for r in rows] == frame["prediction"].tolist() == ["ham", "ham", "spam"]
    assert [json.loads(s) for s in frame["prediction_set"]] == [r["prediction_set"] for r in rows]
    assert tensors["defer_reason"] == ("BYTES", ["", "low_confidence", "out_of_distribution"])
    assert [r["defer_reason"] for r in rows] == [None, "low_confidence", "out_of_distribution"]
    assert tensors["decision"][1] == ["accept", "review", "review"]
