"""A ``LocalCluster`` of two processes: batch scoring and fitting give what a local run gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import prudent
from prudent.bundle import load
from prudent.scale import DaskRunner, predict_parquet
from tests.scale.conftest import FIT_ON_CLUSTER, PARTS, Inputs, LocalFit, assert_same_fit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            processes=True,
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
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


def test_a_fit_on_the_cluster_is_the_local_fit(client: Any, local_fit: LocalFit) -> None:
    runner = DaskRunner(client)
    remote = prudent.fit(local_fit.train, "target", runner=runner, **FIT_ON_CLUSTER)
    assert runner.workers == 2
    assert_same_fit(remote, local_fit)


def test_the_local_cluster_listens_on_127_0_0_1_alone() -> None:
    """``--dask local``'s scheduler, workers and the scheduler's HTTP server bind the
    loopback address only (``dashboard_address=":0"`` bound the server on every interface;
    None takes the fixed port 8787, taken when two clusters run)."""
    import psutil

    from prudent.scale import dask_client

    with dask_client("local", n_workers=1) as client, dask_client("local", n_workers=1):
        info = client.scheduler_info()
        addresses = [info["address"], *info["workers"]]
        assert all(a.startswith("tcp://127.0.0.1:") for a in addresses), addresses
        assert client.dashboard_link is None or "127.0.0.1" in str(client.dashboard_link)
        pids = [psutil.Process().pid, *(c.pid for c in psutil.Process().children(recursive=True))]
        listening = [
            c.laddr.ip
            for pid in pids
            for c in psutil.Process(pid).net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN
        ]
        assert listening and all(ip == "127.0.0.1" for ip in listening), listening
