"""Readiness against real processes: a missing or tampered bundle is never ready, and says why.

The process stays up (R-V2-HEALTH, R-BUNDLE-INTEGRITY), says so in its start-up line, and a
reload serves the bundle once it is there.
"""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import httpx
import pytest
import tritonclient.http as triton

from tests.api._server import start_server


def _wait_for(predicate, timeout: float = 60.0) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    raise TimeoutError


def _live(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v2/health/live", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _ready(url: str) -> bool:
    return httpx.get(f"{url}/v2/health/ready", timeout=5).status_code == 200


@pytest.mark.parametrize("fault", ["missing", "tampered"])
def test_health_live_but_never_ready_with_a_bad_bundle_until_reloaded(
    mixed_dir: Path, tmp_path: Path, fault: str
) -> None:
    bundle = tmp_path / "bundle"
    if fault == "tampered":
        shutil.copytree(mixed_dir, bundle)
        data = bytearray((bundle / "model.skops").read_bytes())
        data[len(data) // 2] ^= 0x01
        (bundle / "model.skops").write_bytes(bytes(data))
    server = start_server(bundle, tmp_path / "run", "--no-auth", ready=False)
    try:
        _wait_for(lambda: _live(server.url))
        _wait_for(lambda: "prudent is not ready" in server.output)
        client = triton.InferenceServerClient(url=f"127.0.0.1:{server.port}")
        assert client.is_server_live() and not client.is_server_ready()
        ready = httpx.get(f"{server.url}/v2/health/ready")
        assert ready.status_code == 503
        why = "does not exist" if fault == "missing" else "does not match its SHA-256"
        assert why in ready.json()["error"] and why in server.output
        refused = httpx.post(f"{server.url}/v2/models/prudent/infer", json={"inputs": []})
        assert refused.status_code == 503 and "not ready" in refused.json()["error"]
        line = next(x for x in server.output.splitlines() if "prudent is not ready" in x)
        assert why in line and "The server keeps running, live but not ready" in line
        assert "then reload it (SIGHUP, or POST /admin/reload), or stop the server." in line
        shutil.rmtree(bundle, ignore_errors=True)
        shutil.copytree(mixed_dir, bundle)  # the bundle is there now: a reload serves it
        server.process.send_signal(signal.SIGHUP)
        _wait_for(lambda: _ready(server.url))
    finally:
        server.stop()
