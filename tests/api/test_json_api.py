"""The plain JSON API: /predict answers as the bundle, /feedback's statuses, the OpenAPI schema."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

import prudent
from prudent.bundle import Bundle
from prudent.data import Role, string_pattern
from prudent.store import PredictionRecord, SqlPredictionLog
from tests.api.conftest import Tokens, make_client, serve_ready, wait_ready
from tests.serve._bundles import cached_bundle, input_rows


def _predict(client: TestClient, tokens: Tokens, rows: list[dict[str, object]]) -> dict:
    response = client.post(
        "/predict", json={"records": rows, "id": "r1"}, headers=tokens.header("app")
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_predict_answers_the_bundle_fields_and_logs_them(
    client: TestClient, numeric_bundle: Bundle, tokens: Tokens, tmp_path: Path
) -> None:
    rows = input_rows("numeric", 25, seed=4)
    body = _predict(client, tokens, rows.to_dict(orient="records"))
    expected = numeric_bundle.predict(rows)
    assert body["id"] == "r1" and body["model_version"] == numeric_bundle.version
    got = body["predictions"]
    assert list(got[0]) == ["prediction_id", *expected.columns]
    for i, row in enumerate(got):
        assert row["prediction"] == expected["prediction"][i]
        assert row["decision"] == expected["decision"][i]
        assert row["proba_malignant"] == expected["proba_malignant"][i]
        assert row["prediction_set"] == expected["prediction_set"][i]
    with SqlPredictionLog.open(f"sqlite:///{tmp_path / 'log.db'}") as log:
        assert log.count() == 25
        assert log.get(got[3]["prediction_id"]).decision == expected["decision"][3]


def test_predict_takes_strings_booleans_and_nulls(
    mixed_bundle: Bundle, tmp_path: Path, tokens: Tokens
) -> None:
    rows = input_rows("mixed", 6, seed=5)
    records = rows.to_dict(orient="records")
    records[0]["sepal_width_(cm)"] = None
    with make_client(mixed_bundle, tmp_path, tokens) as c:
        wait_ready(c)
        got = _predict(c, tokens, records)["predictions"]
    expected = mixed_bundle.predict(
        rows.assign(**{"sepal_width_(cm)": [math.nan, *rows["sepal_width_(cm)"][1:]]})
    )
    assert [g["prediction"] for g in got] == list(expected["prediction"])
    assert got[0]["confidence"] == pytest.approx(expected["confidence"][0], rel=1e-12)


def test_predict_schema_shows_columns_and_types(client: TestClient, tokens: Tokens) -> None:
    doc = client.get("/openapi.json", headers=tokens.header("app")).json()
    record = doc["components"]["schemas"]["PredictRecord"]
    kinds = record["properties"]["mean_radius"]["anyOf"]
    assert [k.get("type") for k in kinds] == ["string", "number", "boolean", "null"]
    assert kinds[0]["pattern"] == string_pattern(Role.numeric)
    assert "numeric string" in record["properties"]["mean_radius"]["description"]
    assert "required" not in record and record["additionalProperties"] is True
    prediction = doc["components"]["schemas"]["Prediction"]["properties"]
    assert {"proba_benign", "proba_malignant", "prediction_id"} <= set(prediction)
    assert doc["paths"]["/v2/health/live"]["get"]["security"] == []
    assert "InferenceRequest" in doc["components"]["schemas"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def _feedback_counts(client: TestClient, tokens: Tokens) -> dict[str, float]:
    text = client.get("/metrics", headers=tokens.header("root")).text
    return {
        s.labels["status"]: s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "prudent_feedback_total"
    }


def test_feedback_stored_duplicate_correction_unknown_refused(
    client: TestClient, tokens: Tokens, tmp_path: Path
) -> None:
    before = _feedback_counts(client, tokens)
    ids = [
        p["prediction_id"]
        for p in _predict(client, tokens, input_rows("numeric", 3).to_dict(orient="records"))[
            "predictions"
        ]
    ]
    auth = tokens.header("reviewer")
    first = client.post(
        "/feedback", json={"prediction_id": ids[0], "label": "benign"}, headers=auth
    )
    assert first.status_code == 200 and first.json()["items"][0]["status"] == "created"
    again = client.post(
        "/feedback", json={"prediction_id": ids[0], "label": "benign"}, headers=auth
    )
    assert again.json()["items"][0]["status"] == "duplicate"
    changed = client.post(
        "/feedback", json={"prediction_id": ids[0], "label": "malignant"}, headers=auth
    )
    item = changed.json()["items"][0]
    assert (item["status"], item["previous_label"]) == ("correction", "benign")
    batch = client.post(
        "/feedback",
        json={
            "items": [
                {"prediction_id": ids[1], "label": "benign"},
                {"prediction_id": ids[2], "label": "malignant"},
            ]
        },
        headers=auth,
    )
    assert batch.json()["counts"] == {"created": 2}
    unknown = client.post(
        "/feedback", json={"prediction_id": "nope", "label": "benign"}, headers=auth
    )
    assert unknown.status_code == 404 and "nope" in unknown.json()["error"]
    refused = client.post(
        "/feedback", json={"prediction_id": ids[1], "label": "maybe"}, headers=auth
    )  # the one label is refused: nothing stored, 400
    assert refused.status_code == 400
    assert refused.json()["error"].startswith(
        "Label 'maybe' is not among the model's classes ['benign', 'malignant']"
    )
    assert [(e["row"], e["field"], e["received"]) for e in refused.json()["errors"]] == [
        (0, "label", "'maybe'")
    ]
    mixed = client.post(
        "/feedback",
        json={
            "items": [
                {"prediction_id": "nope", "label": "benign"},
                {"prediction_id": ids[1], "label": "malignant"},
            ]
        },
        headers=auth,
    )  # row by row: the unknown id is refused, the other label is stored
    assert mixed.status_code == 200 and mixed.json()["counts"] == {"unknown": 1, "correction": 1}
    unknown_item = mixed.json()["items"][0]
    assert (unknown_item["status"], unknown_item["field"]) == ("unknown", "prediction_id")
    assert "nope" in unknown_item["error"]
    all_unknown = client.post(
        "/feedback",
        json={"items": [{"prediction_id": p, "label": "benign"} for p in ("x1", "x2")]},
        headers=auth,
    )
    assert all_unknown.status_code == 404
    assert [(e["row"], e["field"]) for e in all_unknown.json()["errors"]] == [
        (0, "prediction_id"),
        (1, "prediction_id"),
    ]
    with SqlPredictionLog.open(f"sqlite:///{tmp_path / 'log.db'}") as log:
        assert [h.label for h in log.feedback_history(ids[1])] == ["benign", "malignant"]
        history = log.feedback_history(ids[0])
    assert [(h.label, h.source) for h in history] == [
        ("benign", "reviewer"),
        ("malignant", "reviewer"),
    ]
    after = _feedback_counts(client, tokens)  # every row's outcome; the 400 body is no row
    counted = {k: after[k] - before.get(k, 0.0) for k in after if after[k] != before.get(k, 0.0)}
    assert counted == {
        "created": 3,
        "duplicate": 1,
        "correction": 2,
        "unknown": 4,
        "refused": 1,
    }


def _older_prediction(tmp_path: Path, classes: list[str]) -> str:
    """Log a prediction of another model (an older champion) of ``classes``; its id."""
    record = PredictionRecord(
        model_version="0123456789ab",
        model_name="older",
        inputs={"mean_radius": 14.0},
        probabilities={c: 1 / len(classes) for c in classes},
        prediction=classes[0],
        decision="accept",
    )
    with SqlPredictionLog.open(f"sqlite:///{tmp_path / 'log.db'}") as log:
        log.write([record])
    return record.id


def test_feedback_checks_each_label_against_its_own_predictions_model(
    client: TestClient, tokens: Tokens, tmp_path: Path
) -> None:
    """The served model gives ['benign', 'malignant']; an older model in the same log gave
    ['benign', 'malignant', 'unsure'] (a class since dropped) and another ['bad', 'good']."""
    served = _predict(client, tokens, input_rows("numeric", 2).to_dict(orient="records"))
    ids = [p["prediction_id"] for p in served["predictions"]]
    dropped = _older_prediction(tmp_path, ["benign", "malignant", "unsure"])
    other = _older_prediction(tmp_path, ["bad", "good"])
    items = [
        (ids[0], "benign"),
        (dropped, "unsure"),  # a class of the model that made it, though no longer served
        (other, "benign"),  # a served class, but not one of that prediction's model
        (ids[1], "unsure"),  # not a class of the served model, which made this one
        (other, "good"),
    ]
    answer = client.post(
        "/feedback",
        json={"items": [{"prediction_id": i, "label": label} for i, label in items]},
        headers=tokens.header("reviewer"),
    )
    assert answer.status_code == 200, answer.text
    got = answer.json()["items"]
    assert [g["status"] for g in got] == ["created", "created", "refused", "refused", "created"]
    assert "not among the model's classes ['bad', 'good']" in got[2]["error"]
    assert "not among the model's classes ['benign', 'malignant']" in got[3]["error"]
    assert got[3]["field"] == "label"
    with SqlPredictionLog.open(f"sqlite:///{tmp_path / 'log.db'}") as log:
        assert [h.label for h in log.feedback_history(dropped)] == ["unsure"]
        assert [h.label for h in log.feedback_history(other)] == ["good"]
        assert log.feedback_history(ids[1]) == []


def test_feedback_takes_one_label_or_items(client: TestClient, tokens: Tokens) -> None:
    auth = tokens.header("reviewer")
    both = client.post(
        "/feedback",
        json={
            "prediction_id": "a",
            "label": "benign",
            "items": [{"prediction_id": "a", "label": "benign"}],
        },
        headers=auth,
    )
    assert both.status_code == 400 and both.json()["field"] == "prediction_id"
    half = client.post("/feedback", json={"prediction_id": "a"}, headers=auth)
    assert half.json()["error"] == "Field 'label': Field required."
    assert half.json()["field"] == "label"
    empty = client.post("/feedback", json={"items": []}, headers=auth)
    assert empty.status_code == 400 and empty.json()["field"] == "items"


def test_predict_explains_only_when_asked(
    bundle_root: Path, tmp_path: Path, tokens: Tokens
) -> None:
    """Explanations are a linear model's (each input's share of the logit): served from the
    baselines-only bundle, whose logistic baseline ships (the numeric bundle ships whichever
    model wins, an ensemble since the baseline stopped winning ties within the noise)."""
    linear = prudent.load(cached_bundle("numeric_baseline", bundle_root))
    assert linear.manifest["chosen"]["primary"] == "logistic"
    rows = input_rows("numeric", 4, seed=2)
    records = rows.to_dict(orient="records")
    for client in serve_ready(linear, tmp_path, tokens):
        plain = _predict(client, tokens, records)["predictions"]
        assert all("explanation" not in row for row in plain)
        response = client.post(
            "/predict?explain=true",
            json={"id": "r2", "records": records},
            headers=tokens.header("app"),
        )
        assert response.status_code == 200, response.text
        expected = linear.predict(rows, explain=True)["explanation"].tolist()
        got = [row["explanation"] for row in response.json()["predictions"]]
        assert got == expected and all(len(e) == 5 for e in got)


def test_quickstart_next_steps_send_a_row_the_service_accepts(
    client: TestClient, tokens: Tokens
) -> None:
    from prudent.cli._quickstart import next_steps

    row = input_rows("numeric", 1).to_dict(orient="records")[0]
    token, serve, curl, review = next_steps(Path("q"), row)
    assert token.startswith("TOKEN=$(prudent token add") and "--role predict,review" in token
    assert serve.startswith("prudent serve q/model --tokens q/tokens.yaml")
    body = json.loads(curl.split(" -d '", 1)[1].removesuffix("'"))
    response = client.post("/predict", json=body, headers=tokens.header("app"))
    assert response.status_code == 200, response.text
    assert "/review" in review


def test_feedback_takes_a_boolean_class_as_a_file_writes_it() -> None:
    """A boolean target written TRUE/true in the training file: ``POST /feedback`` refused
    "true" (its schema listed only True and "True"), where ``prudent feedback`` took it. The
    schema now leaves labels to the per-item check, which takes every spelling."""
    import numpy as np
    from pydantic import TypeAdapter

    from prudent.api._schemas import feedback_model
    from prudent.errors import FeedbackError
    from prudent.store import check_allowed

    classes = [np.False_, np.True_]
    body = TypeAdapter(feedback_model(classes))
    for label in ("true", "TRUE", "True", True, "false"):
        assert body.validate_python({"prediction_id": "p", "label": label}).label == label
        assert check_allowed(label, classes) in ("True", "False")
    with pytest.raises(FeedbackError, match="not among the model's classes"):
        check_allowed("yes", classes)
    assert "[false, true]" in json.dumps(body.json_schema())  # the served classes, as examples
