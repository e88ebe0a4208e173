"""Faults against a real ``prudent serve`` process, each bounded in count and time.

R-DURABLE-ACK: ``kill -9`` under load loses no acknowledged prediction (SQLite and PostgreSQL).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from prudent.store import SqlPredictionLog
from tests._postgres import create_database, postgres_url  # noqa: F401  (a fixture)
from tests.api._server import Server, start_server
from tests.serve._bundles import input_rows

CLIENTS = 3


def _hammer(url: str, stop: threading.Event, acked: list[str], seed: int) -> None:
    """Post 1- to 4-row requests until ``stop``; keep the ids of every 200 fully received."""
    rows = input_rows("numeric", 40, seed=seed).to_dict(orient="records")
    with httpx.Client(base_url=url, timeout=5) as client:
        for i in range(2000):
            if stop.is_set():
                return
            size = 1 + i % 4
            try:
                answer = client.post("/predict", json={"records": rows[i % 36 : i % 36 + size]})
            except httpx.TransportError:
                return  # the server died: no answer, no promise
            if answer.status_code == 200:
                acked.extend(p["prediction_id"] for p in answer.json()["predictions"])


def _kill_under_load(server: Server, until: Callable[[list[str]], bool]) -> list[str]:
    """Load ``server`` from a few threads, SIGKILL it once ``until(acked)``; return the acked."""
    stop, acked = threading.Event(), []  # type: ignore[var-annotated]
    threads = [
        threading.Thread(target=_hammer, args=(server.url, stop, acked, k)) for k in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while not until(acked) and time.monotonic() < deadline:
        time.sleep(0.02)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    stop.set()
    for t in threads:
        t.join(10)
    return list(acked)


def _check_durable(bundle: Path, folder: Path, log_db: str) -> None:
    first = start_server(bundle, folder, "--no-auth", "--log-db", log_db)
    try:
        acked = _kill_under_load(first, lambda ids: len(ids) >= 150)
    finally:
        first.stop(signal.SIGKILL)
    assert first.process.returncode == -signal.SIGKILL
    assert len(acked) >= 150, first.output
    second = start_server(bundle, folder, "--no-auth", "--log-db", log_db)  # restart: ready
    second.stop()
    with SqlPredictionLog.open(log_db) as log:
        assert log.integrity_check() == []
        found = [log.get(pid) for pid in acked]
        assert log.count() >= len(acked)
    assert [r.id for r in found] == acked
    for record in found:  # whole rows: every field the service writes is there
        assert record.decision in ("accept", "review", "rule", "backup")
        assert len(record.inputs) == 30 and record.latency_ms is not None
        assert record.prediction is not None or record.decision == "review"


def test_kill_9_under_load_loses_no_acknowledged_prediction_sqlite(
    numeric_dir: Path, tmp_path: Path
) -> None:
    _check_durable(numeric_dir, tmp_path, f"sqlite:///{tmp_path / 'log.db'}")


@pytest.mark.postgres
def test_kill_9_under_load_loses_no_acknowledged_prediction_postgres(
    numeric_dir: Path,
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    _check_durable(numeric_dir, tmp_path, create_database(postgres_url))
