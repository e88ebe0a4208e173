"""Champion against shadow on live traffic, for real: ``prudent serve --registry R --shadow v2``
scores each request with a challenger fitted on shuffled labels; once the requests are labelled
through ``/feedback``, ``prudent registry shadow`` and the promotion gate see it worse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from prudent.cli import app
from prudent.retrain import GateRefused, Registry, promote_gated
from prudent.retrain._shadow import LIVE
from prudent.store import ShadowLog
from tests.api._server import RUNNER, Server, free_port
from tests.fixtures import example, fit_bundle
from tests.retrain.test_end_to_end import _drifted_labels


@pytest.fixture(scope="module")
def shuffled_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An iris bundle fitted on shuffled labels: the same inputs and classes, no skill."""
    frame = example("iris")
    frame["target"] = np.random.default_rng(0).permutation(frame["target"].to_numpy())
    path = tmp_path_factory.mktemp("shuffled") / "bundle"
    bundle = fit_bundle(frame, "target", time_limit=5)
    # shuffled labels leave the model unsure of every class, not sure of another one: the
    # label audit flags half the rows, implausibly many for noise, but contradicts none
    # confidently, so it cautions without a warning (as on hard data with right labels)
    assert any("implausibly many for label noise" in n for n in bundle.manifest["notices"])
    bundle.save(path)
    return path


def _predict_and_label(url: str) -> int:
    frame = example("iris").sample(frac=1.0, random_state=1).reset_index(drop=True)
    _drifted_labels(url, frame)  # every row through /predict, its label through /feedback
    return len(frame)


def _scored(log: str) -> int:
    with ShadowLog.open(log) as store:
        return sum(n for *_, n, _ in store.counts())


def test_live_pairs_show_a_shuffled_challenger_worse(
    tmp_path: Path, bundle_dir: Path, shuffled_dir: Path
) -> None:
    registry = Registry(tmp_path / "reg", create=True)
    registry.promote(registry.register(bundle_dir, by="t").name, by="t")
    registry.register(shuffled_dir, by="t")
    port, folder = free_port(), tmp_path / "run"
    folder.mkdir()
    log = f"sqlite:///{folder / 'log.db'}"
    command = [sys.executable, "-c", RUNNER, "serve", "--registry", str(registry.root),
               "--shadow", "v2", "--port", str(port), "--log-db", log, "--no-auth"]  # fmt: skip
    with (folder / "server.out").open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=folder,
                                   env=dict(os.environ))  # fmt: skip
    server = Server(process, port, folder)
    try:
        server.wait_ready()
        n = _predict_and_label(server.url)
        # the shadow's process stores its rows, then the service counts them once it hears
        # back: wait for both, not for the log alone
        scored = f'prudent_shadow_rows_total{{outcome="scored"}} {float(n)}'
        deadline, metrics = time.monotonic() + 30, ""
        while time.monotonic() < deadline:
            metrics = httpx.get(f"{server.url}/metrics").text
            if _scored(log) >= n and scored in metrics:
                break
            time.sleep(0.2)
    finally:
        server.stop()
    assert scored in metrics, [m for m in metrics.splitlines() if "shadow" in m]
    only = ["registry", "shadow", str(registry.root), "@champion", "--log-db", log, "--json"]
    done = CliRunner().invoke(app, only)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == []  # the champion never ran as a shadow
    done = CliRunner().invoke(app, ["registry", "shadow", str(registry.root), "--log-db", log])
    assert done.exit_code == 0, done.output
    assert f"Shadow v2 vs v1: {n} labelled of {n} scored" in done.output
    assert "worse" in done.output
    with pytest.raises(GateRefused) as refused:
        promote_gated(registry, "v2", by="t", log_url=log)
    live = {c.name: c for c in refused.value.result.checks if c.rows == LIVE}
    assert live["balanced accuracy"].verdict == "worse", live["balanced accuracy"].detail
    assert f"on {n} rows" in live["balanced accuracy"].detail


def test_serve_shadow_refuses_what_is_not_a_bundle_or_a_version(
    tmp_path: Path, bundle_dir: Path
) -> None:
    done = CliRunner().invoke(app, ["serve", str(bundle_dir), "--shadow", str(tmp_path)])
    assert done.exit_code != 0
    assert "is not a bundle folder (no manifest.json)" in str(done.exception)
    registry = Registry(tmp_path / "reg", create=True)
    registry.promote(registry.register(bundle_dir, by="t").name, by="t")
    done = CliRunner().invoke(app, ["serve", "--registry", str(registry.root), "--shadow", "v7"])
    assert done.exit_code != 0 and "No version 'v7'" in str(done.exception)
