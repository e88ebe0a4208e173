"""/metrics: parses, follows the naming rules, and counts exactly the rows served."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from prudent.bundle import Bundle
from tests.api.conftest import Tokens
from tests.serve._bundles import input_rows


def _samples(client: TestClient, tokens: Tokens) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", headers=tokens.header("root"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = list(text_string_to_metric_families(response.text))
    for family in families:
        assert family.name.startswith("prudent_"), family.name
        for sample in family.samples:
            if family.type == "counter":
                assert sample.name.endswith("_total"), sample.name
            if "duration" in family.name:
                assert family.name.endswith("_seconds")
    return {(s.name, frozenset(s.labels.items())): s.value for f in families for s in f.samples}


def _predictions(samples: dict[tuple[str, frozenset], float]) -> float:
    return sum(v for (name, _), v in samples.items() if name == "prudent_predictions_total")


def test_metrics_count_exactly_the_rows_served(
    client: TestClient, tokens: Tokens, numeric_bundle: Bundle
) -> None:
    before = _samples(client, tokens)
    rows = input_rows("numeric", 17, seed=9)
    auth = tokens.header("app")
    assert (
        client.post(
            "/predict", json={"records": rows.to_dict(orient="records")}, headers=auth
        ).status_code
        == 200
    )
    tensors = [
        {"name": c, "shape": [5], "datatype": "FP64", "data": rows[c][:5].tolist()}
        for c in rows.columns
    ]
    assert (
        client.post("/v2/models/prudent/infer", json={"inputs": tensors}, headers=auth).status_code
        == 200
    )
    bad = client.post("/predict", json={"records": [{"mean_radius": "wide"}]}, headers=auth)
    assert bad.status_code == 400
    after = _samples(client, tokens)
    assert _predictions(after) - _predictions(before) == 22
    key = (
        "prudent_requests_total",
        frozenset({("endpoint", "/predict"), ("method", "POST"), ("code", "400")}),
    )
    assert after[key] - before.get(key, 0) == 1
    info = (
        "prudent_bundle_info",
        frozenset({("model_name", "prudent"), ("version", numeric_bundle.version)}),
    )
    assert after[info] == 1
    assert after[("prudent_prediction_confidence_count", frozenset())] >= 22
    assert after[("prudent_ready", frozenset())] == 1
