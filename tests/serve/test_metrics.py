"""The metrics: names by the Prometheus conventions, and the multi-process mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from prudent.serve import ServeMetrics, render_metrics


def test_metrics_names_follow_the_conventions() -> None:
    metrics = ServeMetrics()
    metrics.requests.labels("/predict", "POST", "200").inc()
    metrics.request_duration.labels("/predict").observe(0.01)
    metrics.predictions.labels(decision="accept").inc(2)
    metrics.feedback.labels(status="created").inc()
    metrics.fallbacks.labels(to="backup").inc()
    metrics.bundle_info.labels("prudent", "abc").set(1)
    families = list(text_string_to_metric_families(render_metrics(metrics.registry).decode()))
    assert len(families) >= 10
    for family in families:
        assert family.name.startswith("prudent_"), family.name
        for sample in family.samples:
            if family.type == "counter" and not sample.name.endswith("_created"):
                assert sample.name.endswith("_total"), sample.name
        if "duration" in family.name:
            assert family.name.endswith("_seconds")


_CHILD = """
import sys
from prudent.serve import ServeMetrics, render_metrics
from pathlib import Path
m = ServeMetrics()
m.predictions.labels(decision="accept").inc(int(sys.argv[1]))
if sys.argv[1] == "0":
    print(render_metrics(m.registry, Path(sys.argv[2])).decode())
"""


def test_metrics_add_up_across_worker_processes(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for n in ("3", "4"):
        subprocess.run([sys.executable, "-c", _CHILD, n, str(tmp_path)], env=env, check=True)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, "0", str(tmp_path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    samples = {
        (s.name, s.labels.get("decision")): s.value
        for f in text_string_to_metric_families(out)
        for s in f.samples
    }
    assert samples[("prudent_predictions_total", "accept")] == 7
