"""R-GRACEFUL: on SIGTERM readiness drops at once, a request in flight completes and is logged,
the log is closed, and the process exits within 10 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from prudent.store import SqlPredictionLog
from tests.api._server import Server, free_port
from tests.serve._bundles import input_rows

SLOW_RUNNER = """
import sys, time
import prudent
from prudent.api import create_app
from prudent.cli._server import run_app
from prudent.config import Settings

settings = Settings.load()
bundle = prudent.load(settings.bundle)

def slow(frame):
    time.sleep(float(sys.argv[1]))
    return bundle.predictions(frame)

run_app(create_app(settings, bundle=bundle, primary=slow), settings)
"""


def _ready_status_after(url: str, until: float) -> int | None:
    """The readiness status once it is no longer 200, or at ``until`` (monotonic); ``None``
    when the socket is closed (not ready either)."""
    while True:
        try:
            status: int | None = httpx.get(f"{url}/v2/health/ready", timeout=2).status_code
        except httpx.TransportError:
            status = None
        if status != 200 or time.monotonic() >= until:
            return status
        time.sleep(0.02)


def test_sigterm_drains_then_exits(mixed_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PRUDENT_BUNDLE": str(mixed_dir),
        "PRUDENT_PORT": str(port),
        "PRUDENT_NO_AUTH": "true",
        "PRUDENT_DEADLINE_MS": "10000",
        "PRUDENT_LOG_DB": f"sqlite:///{tmp_path / 'log.db'}",
    }
    with (tmp_path / "server.out").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", SLOW_RUNNER, "1.5"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, tmp_path)
    try:
        server.wait_ready()
        answer: dict[str, Any] = {}
        rows = input_rows("mixed", 2).to_dict(orient="records")

        def call() -> None:
            answer["response"] = httpx.post(
                f"{server.url}/predict", json={"records": rows}, timeout=30
            )

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.5)
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        # at once: within half a second, while the request in flight has a second to go (on a
        # loaded machine the server's signal handler had not run 50 ms after the signal)
        assert _ready_status_after(server.url, sent + 0.5) in (503, None)
        caller.join(30)
        assert process.wait(15) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it caught
        assert time.monotonic() - sent < 10
    finally:
        server.stop(signal.SIGKILL)
    response = answer["response"]
    assert response.status_code == 200, response.text
    ids = [p["prediction_id"] for p in response.json()["predictions"]]
    assert "Prediction log flushed and closed." in server.output
    with SqlPredictionLog.open(f"sqlite:///{tmp_path / 'log.db'}") as log:
        assert [log.get(i).id for i in ids] == ids
        assert log.integrity_check() == []
