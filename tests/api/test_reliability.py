"""Overload and the deadline cascade over HTTP: fast 503 with Retry-After; the backup answers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient

from prudent.api import create_app
from prudent.bundle import Bundle
from prudent.config import Settings
from prudent.models import Predictions
from tests.api.conftest import wait_ready
from tests.serve._bundles import input_rows


def _client(bundle: Bundle, tmp_path: Path, **options: object) -> TestClient:
    primary = options.pop("primary")
    settings = Settings(
        bundle=bundle.path, no_auth=True, log_db=f"sqlite:///{tmp_path / 'l.db'}", **options
    )
    return TestClient(create_app(settings, bundle=bundle, primary=primary))  # type: ignore[arg-type]


def test_overload_gets_a_fast_503_with_retry_after(numeric_bundle: Bundle, tmp_path: Path) -> None:
    gate = threading.Event()
    warmed = threading.Event()

    def blocked(frame: pd.DataFrame) -> Predictions:
        if warmed.is_set():
            gate.wait(10)
        warmed.set()
        return numeric_bundle.predictions(frame)

    rows = {"records": input_rows("numeric", 1).to_dict(orient="records")}
    with _client(
        numeric_bundle, tmp_path, primary=blocked, max_concurrency=1, queue_size=1, deadline_ms=8000
    ) as c:
        wait_ready(c)
        with ThreadPoolExecutor(2) as pool:
            held = [pool.submit(c.post, "/predict", json=rows) for _ in range(2)]
            time.sleep(0.3)
            start = time.monotonic()
            refused = c.post("/predict", json=rows)
            elapsed = time.monotonic() - start
            live = c.get("/v2/health/live")
            gate.set()
            codes = [f.result().status_code for f in held]
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert "prediction slots are taken" in refused.json()["error"]
    assert elapsed < 0.5 and live.status_code == 200
    assert codes == [200, 200]


def test_a_failing_primary_is_answered_by_the_backup(
    numeric_bundle: Bundle, tmp_path: Path
) -> None:
    calls = []

    def flaky(frame: pd.DataFrame) -> Predictions:
        calls.append(len(frame))
        if len(calls) > 1:  # the smoke prediction passes, then the primary breaks
            raise MemoryError("primary down")
        return numeric_bundle.predictions(frame)

    rows = {"records": input_rows("numeric", 3).to_dict(orient="records")}
    with _client(numeric_bundle, tmp_path, primary=flaky, deadline_ms=1000) as c:
        wait_ready(c)
        answer = c.post("/predict", json=rows)
    assert answer.status_code == 200
    got = answer.json()["predictions"]
    assert {p["decision"] for p in got} == {"backup"}
    assert got[0]["reason"].startswith("the primary model failed (MemoryError)")
