"""Several worker processes: they share the port, and /metrics adds up every worker's counts."""

from __future__ import annotations

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
