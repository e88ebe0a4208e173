"""The service evaluates the alert rules on a schedule: one evaluator across replicas, whose
window measures appear as gauges on its /metrics."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from prudent.bundle import Bundle
from prudent.monitor import alert_states
from tests.api.conftest import make_client, wait_ready
from tests.serve._bundles import input_rows


def _monitor_samples(client: TestClient) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    families = list(text_string_to_metric_families(response.text))
    assert all(f.name.startswith("prudent_") for f in families)
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for f in families
        for s in f.samples
        if s.name.startswith(("prudent_monitor_", "prudent_alert_"))
    }


def test_two_replicas_one_evaluator_and_its_gauges(numeric_bundle: Bundle, tmp_path: Path) -> None:
    settings = {"monitor_interval_s": 0.3}
    with (
        make_client(numeric_bundle, tmp_path, None, **settings) as a,
        make_client(numeric_bundle, tmp_path, None, **settings) as b,
    ):
        wait_ready(a)
        wait_ready(b)
        rows = input_rows("numeric", 240, seed=3).to_dict(orient="records")
        assert a.post("/predict", json={"records": rows}).status_code == 200
        deadline, seen = time.monotonic() + 30, ({}, {})
        while time.monotonic() < deadline:
            seen = (_monitor_samples(a), _monitor_samples(b))
            ood = [k for s in seen for k in s if k[0] == "prudent_monitor_rows"]
            if ood:
                break
            time.sleep(0.2)
        exporting = [s for s in seen if s]
        assert len(exporting) == 1, "exactly one replica evaluates and exports"
        samples = exporting[0]
        rows_key = ("prudent_monitor_rows", frozenset({("measure", "ood_rate"), ("window", "1h")}))
        assert samples[rows_key] == 240
        ood = {("measure", "ood_rate"), ("window", "1h")}
        low = ("prudent_monitor_measure", frozenset({*ood, ("bound", "low")}))
        high = ("prudent_monitor_measure", frozenset({*ood, ("bound", "high")}))
        assert 0.0 <= samples[low] <= samples[high] <= 1.0
        assert ("prudent_alert_firing", frozenset({("rule", "ood_rate_spike")})) in samples
    states = {s.rule: s for s in alert_states(f"sqlite:///{tmp_path / 'log.db'}")}
    assert states["ood_rate_spike"].evaluated_at is not None
