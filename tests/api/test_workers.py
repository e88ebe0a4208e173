"""Several worker processes: they share the port, and /metrics adds up every worker's counts."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api._server import start_server
from tests.serve._bundles import input_rows


@pytest.mark.slow
def test_two_workers_serve_and_aggregate_metrics(numeric_dir: Path, tmp_path: Path) -> None:
    server = start_server(numeric_dir, tmp_path, "--no-auth", "--workers", "2")
    try:
        streak, deadline = 0, time.monotonic() + 60
        while streak < 10 and time.monotonic() < deadline:  # every worker has loaded the bundle
            with httpx.Client() as fresh:
                ok = fresh.get(f"{server.url}/v2/health/ready").status_code == 200
            streak = streak + 1 if ok else 0
            time.sleep(0.05)
        rows = {"records": input_rows("numeric", 3).to_dict(orient="records")}
        codes = []
        for _ in range(8):
            with httpx.Client() as fresh:  # a new connection each time, to reach both workers
                codes.append(fresh.post(f"{server.url}/predict", json=rows).status_code)
        text = httpx.get(f"{server.url}/metrics").text
    finally:
        server.stop()
    assert codes == [200] * 8
    served = sum(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "prudent_predictions_total"
    )
    assert served == 24
    assert "Finished server process" in server.output
