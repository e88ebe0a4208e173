"""A real Dask cluster for the scale tests: ``dask scheduler`` and two ``dask worker`` processes.

They run the venv's Python on 127.0.0.1 (one process and one thread per worker, a memory
limit each), are shared by the package's tests and are always stopped at the end. A bundle
and Parquet inputs of uneven partition sizes are shared too, and so is one local fit of a
training file that the fits on a cluster (Python and command line) must reproduce.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import prudent
from prudent.data import write_table
from tests.fixtures import fit_bundle, mixed_frame

PARTS = (70, 1, 129, 100)
"""Rows per input file: uneven, with a one-row partition."""

FIT_ON_CLUSTER: dict[str, Any] = {
    "time_limit": 600.0,
    "candidates": ("lightgbm",),
    "seed": 3,
    "n_folds": 3,
}
"""Options of the fits compared local vs cluster: a limit that never binds, so that both
runs do the same work whatever the machine's load; three folds are enough to compare."""


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "dask", *args], stdout=out, stderr=subprocess.STDOUT
        )


def _shutdown(address: str) -> None:
    """Ask the scheduler to close its workers and itself: 9 s of signals to nannies → 3.6 s."""
    from distributed import Client

    with contextlib.suppress(OSError, TimeoutError), Client(address, timeout="10s") as client:
        client.shutdown()


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for p in reversed(processes):  # workers first, then the scheduler
        p.terminate()
    for p in processes:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _address(scheduler_file: Path, process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if scheduler_file.exists() and scheduler_file.stat().st_size:
            return str(json.loads(scheduler_file.read_text())["address"])
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"dask scheduler did not start: {log.read_text()[-2000:]}")


@pytest.fixture(scope="package")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a scheduler with two single-threaded worker processes."""
    from distributed import Client

    root = tmp_path_factory.mktemp("dask")
    file = root / "scheduler.json"
    # every server on the loopback address: --no-dashboard alone still bound the scheduler's
    # HTTP server on 0.0.0.0:8787 (and took the port a LocalCluster then wanted)
    common = ["--host", "127.0.0.1", "--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
    address = None
    processes = [
        _start(
            ["scheduler", "--port", "0", "--scheduler-file", str(file), *common],
            root / "scheduler.log",
        )
    ]
    try:
        address = _address(file, processes[0], root / "scheduler.log")
        for i in range(2):
            worker = [
                "worker",
                address,
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--memory-limit",
                "1.5GiB",
                "--local-directory",
                str(root / f"w{i}"),
            ]
            processes.append(_start([*worker, *common], root / f"worker{i}.log"))
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        if address is not None:
            _shutdown(address)
        _stop(processes)


@dataclass(frozen=True)
class Inputs:
    """A saved bundle and the rows to score, as several Parquet files and as one."""

    bundle: Path
    pattern: str
    whole: Path
    rows: pd.DataFrame


@pytest.fixture(scope="package")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    root = tmp_path_factory.mktemp("scale-inputs")
    frame = mixed_frame(n=300, seed=0)
    bundle = fit_bundle(frame, "target").save(root / "model")
    rows = mixed_frame(n=sum(PARTS), seed=1).drop(columns=["target"])
    (root / "in").mkdir()
    start = 0
    for i, n in enumerate(PARTS):
        rows.iloc[start : start + n].to_parquet(root / "in" / f"rows-{i}.parquet", index=False)
        start += n
    rows.to_parquet(root / "whole.parquet", index=False)
    return Inputs(bundle, str(root / "in" / "rows-*.parquet"), root / "whole.parquet", rows)


@dataclass(frozen=True)
class LocalFit:
    """A training file with every column role and the bundle a local fit makes of it."""

    train: Path
    bundle: prudent.Bundle


@pytest.fixture(scope="package")
def local_fit(tmp_path_factory: pytest.TempPathFactory) -> LocalFit:
    train = tmp_path_factory.mktemp("fit-inputs") / "train.csv"
    write_table(mixed_frame(n=300, seed=2), train)
    return LocalFit(train, prudent.fit(train, "target", **FIT_ON_CLUSTER))


def _board(bundle: prudent.Bundle) -> list[dict[str, Any]]:
    timing = {"fit_seconds", "predict_seconds_per_1k", "cv_seconds", "projected_seconds"}
    return [{k: v for k, v in r.items() if k not in timing} for r in bundle.manifest["leaderboard"]]


def _artifacts(bundle: prudent.Bundle) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(bundle.extras["artifacts.npz"])) as arrays:
        return {k: arrays[k] for k in arrays.files}


def assert_same_fit(remote: prudent.Bundle, local: LocalFit) -> None:
    """``remote`` has the local fit's leaderboard, choice, arrays and predictions."""
    board = _board(local.bundle)
    assert [r["name"] for r in board].count("lightgbm") == 1
    assert _board(remote) == board  # every out-of-fold metric and interval
    assert remote.manifest["chosen"] == local.bundle.manifest["chosen"]
    ours, theirs = _artifacts(remote), _artifacts(local.bundle)
    assert sorted(ours) == sorted(theirs)
    for key in ours:
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)
    X = pd.read_csv(local.train).drop(columns=["target"])
    pd.testing.assert_frame_equal(remote.predict(X), local.bundle.predict(X))
