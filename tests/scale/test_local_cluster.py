"""A ``LocalCluster`` of two processes: batch scoring and fitting give what a local run gives."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import prudent
from prudent.bundle import load
from prudent.scale import DaskRunner, predict_parquet
from tests.fixtures import mixed_frame
from tests.scale.conftest import PARTS, Inputs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            processes=True, n_workers=2, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as connected,
    ):
        yield connected


def test_batch_scoring_matches_local_predict(client: Any, inputs: Inputs, tmp_path: Path) -> None:
    bundle = load(inputs.bundle)
    keep = ["row_id", "city"]  # copied first into every row, as local predict does
    n = predict_parquet(bundle, inputs.pattern, tmp_path / "out", client, chunk_rows=40, keep=keep)
    assert n == sum(PARTS)
    bundle.predict_file(inputs.whole, tmp_path / "local.parquet", keep=keep)
    expected = pd.read_parquet(tmp_path / "local.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out"), expected)


def _board(bundle: prudent.Bundle) -> list[dict[str, Any]]:
    timing = {"fit_seconds", "predict_seconds_per_1k"}
    return [{k: v for k, v in r.items() if k not in timing} for r in bundle.manifest["leaderboard"]]


def _artifacts(bundle: prudent.Bundle) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(bundle.extras["artifacts.npz"])) as arrays:
        return {k: arrays[k] for k in arrays.files}


def test_a_fit_on_the_cluster_is_the_local_fit(client: Any) -> None:
    frame = mixed_frame(n=300, seed=2)
    options: dict[str, Any] = {"time_limit": 600.0, "candidates": ("lightgbm",), "seed": 3}
    local = prudent.fit(frame, "target", **options)
    runner = DaskRunner(client)
    remote = prudent.fit(frame, "target", runner=runner, **options)
    assert runner.workers == 2
    assert [r["name"] for r in local.manifest["leaderboard"]].count("lightgbm") == 1
    assert _board(remote) == _board(local)  # every out-of-fold metric and interval
    assert remote.manifest["chosen"] == local.manifest["chosen"]
    ours, theirs = _artifacts(remote), _artifacts(local)
    assert sorted(ours) == sorted(theirs)
    for key in ours:
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)
    X = frame.drop(columns=["target"])
    pd.testing.assert_frame_equal(remote.predict(X), local.predict(X))
