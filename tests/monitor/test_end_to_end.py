"""Done means (issue 10): serve a real dataset's bundle, send a stream that drifts, and a real
local webhook receiver gets one alert carrying the rule, window, value and threshold — and one
resolve when the stream is back to normal."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

import prudent
from tests.api._server import start_server
from tests.monitor.receiver import Receiver
from tests.serve._bundles import example_frame

WINDOW_S = 8
ALERTS = f"""
defaults: {{window: {WINDOW_S}s, min_sample: 100, for: 0, cooldown: 0, repeat_interval: 1h}}
"""
"""Every shipped rule, on short windows: only input drift should fire."""


def _send(url: str, frame: pd.DataFrame) -> None:
    records = frame.to_dict(orient="records")
    response = httpx.post(f"{url}/predict", json={"records": records}, timeout=60)
    assert response.status_code == 200, response.text


def _wait(receiver: Receiver, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(receiver.received) < count and time.monotonic() < deadline:
        time.sleep(0.2)


@pytest.mark.slow
def test_a_drifting_stream_sends_one_alert_then_one_resolve(
    tmp_path: Path, receiver: Receiver, numeric_dir: Path
) -> None:
    frame, _ = example_frame("numeric")  # the LightGBM bundle of breast cancer, fitted once
    bundle = prudent.load(numeric_dir)
    (tmp_path / "alerts.yaml").write_text(ALERTS)
    env = {"PRUDENT_MONITOR_INTERVAL_S": "1", "PRUDENT_ALERTS": str(tmp_path / "alerts.yaml"),
           "PRUDENT_ALERT_WEBHOOK": receiver.url}  # fmt: skip
    server = start_server(numeric_dir, tmp_path / "serve", "--no-auth", env=env)
    try:
        inputs = frame.drop(columns="target")
        column = "mean_texture" if "mean_texture" in inputs else inputs.columns[1]
        drifted = inputs.sample(200, random_state=1).reset_index(drop=True)
        drifted[column] += inputs[column].std()  # one feature moves by one SD
        _send(server.url, drifted)
        _wait(receiver, 1, timeout=20)
        time.sleep(3)  # a few more evaluations of the same drifted window: nothing more sent
        firing = list(receiver.received)
        time.sleep(WINDOW_S)  # the drifted rows leave the window
        _send(server.url, inputs.sample(200, random_state=2).reset_index(drop=True))
        _wait(receiver, 2, timeout=20)
    finally:
        server.stop()
    assert len(firing) == 1, firing
    alert = firing[0]
    assert alert["status"] == "firing" and alert["rule"] == "input_drift"
    assert alert["window"].count("Z") == 2 and alert["window_seconds"] == WINDOW_S
    assert alert["value"] == {"point": 1.0, "low": 1.0, "high": 1.0, "n": 200}
    assert alert["threshold"] == 0.0 and alert["model_version"] == bundle.version
    assert [m["status"] for m in receiver.received] == ["firing", "resolved"]
    assert receiver.received[1]["incident"] == alert["incident"]
