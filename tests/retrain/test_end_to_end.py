"""Issue 12's "done means", for real: fit on a bundled table → serve from a registry → a drifted
stream → labels through ``/feedback`` → retrain → the gate promotes the challenger, measurably
better on the drifted rows → the service swaps with no failed request → rollback restores.

The drift has a known right answer: in the stream an upstream unit change adds 100 to
``mean_radius`` (breast_cancer's rows the champion never saw, with their real labels). The
champion reads every such tumour as huge; the challenger learns the new range from the labels.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import httpx
import numpy as np
import pytest

import prudent
from prudent.errors import PrudentWarning
from prudent.retrain import Registry, promote_gated, retrain
from tests.api._server import RUNNER, Server, free_port
from tests.fixtures import example
from tests.retrain.test_registry_serve import _wait

pytestmark = pytest.mark.slow  # two fits and a service: ~40 s on a quiet machine

FIT = {"time_limit": 20.0, "candidates": ("lightgbm",), "n_folds": 3, "test_size": 0.4}


def _ask(url: str, rows: list[dict[str, object]], stop: threading.Event, seen: list) -> None:
    with httpx.Client(base_url=url, timeout=20) as client:
        while not stop.is_set():
            answer = client.post("/predict", json={"records": rows})
            ok = answer.status_code == 200
            seen.append((answer.status_code, answer.json()["model_version"] if ok else ""))


def _drifted_labels(url: str, stream) -> None:
    """The drifted rows through ``/predict``, their true labels through ``/feedback``."""
    records = stream.drop(columns="target").to_dict(orient="records")
    with httpx.Client(base_url=url, timeout=60) as client:
        answer = client.post("/predict", json={"records": records})
        assert answer.status_code == 200, answer.text
        ids = [p["prediction_id"] for p in answer.json()["predictions"]]
        items = [
            {"prediction_id": i, "label": y} for i, y in zip(ids, stream["target"], strict=True)
        ]
        assert client.post("/feedback", json={"items": items}).status_code == 200


def _serve(registry: Registry, folder: Path) -> tuple[Server, str]:
    port, log = free_port(), f"sqlite:///{folder / 'log.db'}"
    command = [sys.executable, "-c", RUNNER, "serve", "--registry", str(registry.root),
               "--port", str(port), "--log-db", log, "--no-auth"]  # fmt: skip
    with (folder / "server.out").open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=folder,
                                   env=dict(os.environ))  # fmt: skip
    return Server(process, port, folder), log


def test_drift_labels_retrain_gate_swap_rollback(tmp_path: Path) -> None:
    frame = example("breast_cancer")
    unseen = np.random.default_rng(0).uniform(size=len(frame)) < 0.4
    train = frame[~unseen].reset_index(drop=True)
    stream = frame[unseen].sample(frac=1.0, random_state=0).reset_index(drop=True)
    stream["mean_radius"] += 100.0
    train.to_csv(tmp_path / "train.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrudentWarning)
        prudent.fit(train, target="target", **FIT).save(tmp_path / "champion")
    registry = Registry(tmp_path / "registry", create=True)
    registry.promote(registry.register(tmp_path / "champion", by="test").name, by="test")
    old = registry.version("@champion").model_version
    (tmp_path / "run").mkdir()
    server, log = _serve(registry, tmp_path / "run")
    rows = train.drop(columns="target").head(5).to_dict(orient="records")
    stop, seen = threading.Event(), []
    client = threading.Thread(target=_ask, args=(server.url, rows, stop, seen))
    try:
        server.wait_ready()
        _drifted_labels(server.url, stream)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PrudentWarning)
            challenger = retrain(registry, log, by="test", data=tmp_path / "train.csv")
        # a client asks without pause through the promotion's swap and the rollback's (not
        # during the fit, whose CPU use on 2 shared cores can push a request past its deadline)
        client.start()
        _wait(lambda: bool(seen))
        event, gate, report = promote_gated(registry, "@challenger", by="test", log_url=log)
        try:
            _wait(lambda: seen[-1][1] == challenger.version.model_version)
        except AssertionError:
            lines = [x for x in server.output.splitlines() if "POST /predict" not in x]
            raise AssertionError("\n".join(lines[-60:])) from None
        registry.rollback(by="test", reason="burn-in drill")
        _wait(lambda: seen[-1][1] == old)
    finally:
        stop.set()
        if client.is_alive():
            client.join(30)
        server.stop()
    failed = [x for x in server.output.splitlines() if 'HTTP/1.1" 200' not in x]
    assert {code for code, _ in seen} == {200}, "\n".join(failed[-40:])
    checks = {(c.name, c.rows): c for c in gate.checks}
    main = checks["balanced accuracy", "recent feedback"]
    assert gate.passed and main.verdict == "better", gate.reason()
    assert checks["log loss", "recent feedback"].verdict == "better"
    assert checks["balanced accuracy", "locked test set"].verdict != "worse"
    assert main.challenger > main.champion + 0.2, main.detail  # measurably better on the drift
    assert event.version == challenger.version.name and report.is_file()
    assert [e.action for e in registry.history()][-2:] == ["promote", "rollback"]
    print("gate:", *(f"{c.verdict:12} {c.name} on {c.rows}: {c.detail}" for c in gate.checks),
          sep="\n")  # fmt: skip
