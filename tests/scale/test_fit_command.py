"""``prudent fit --dask ADDRESS`` on a real scheduler: the folds run on its workers and the
bundle is the one a local fit of the same file makes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import prudent
from tests.cli.test_fit_command import assert_one_line_error
from tests.fixtures import run_cli, run_main
from tests.scale.conftest import FIT_ON_CLUSTER, LocalFit, assert_same_fit

pytestmark = pytest.mark.slow


def _executed(scheduler: str) -> dict[str, int]:
    """Tasks the scheduler has seen computed so far, by the name of their function."""
    from distributed import Client

    def count(dask_scheduler: Any) -> dict[str, int]:
        prefixes = dask_scheduler.task_prefixes.items()
        return {name: int(prefix.state_counts["memory"]) for name, prefix in prefixes}

    with Client(scheduler) as client:
        return dict(client.run_on_scheduler(count))


def test_cli_fit_on_a_real_cluster_is_the_local_fit(
    scheduler: str, local_fit: LocalFit, tmp_path: Path
) -> None:
    fit = FIT_ON_CLUSTER
    options = [f"--time-limit={fit['time_limit']}", f"--seed={fit['seed']}"]
    options += [f"--folds={fit['n_folds']}", *(f"--candidates={c}" for c in fit["candidates"])]
    out = tmp_path / "model"
    before = _executed(scheduler).get("fold_task", 0)
    done = run_cli("fit", local_fit.train, "--target", "target", "--out", out, *options,
                   "--dask", scheduler)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert _executed(scheduler).get("fold_task", 0) > before  # the folds ran on the cluster
    assert_same_fit(prudent.load(out), local_fit)


def test_cli_fit_names_a_scheduler_address_it_cannot_use(tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    prudent.load_example("iris").to_csv(train, index=False)
    done = run_main("fit", train, "--target", "target", "--out", tmp_path / "model",
                   "--dask", "tcp://127.0.0.1:noport")  # fmt: skip
    assert_one_line_error(done, "Cannot reach the Dask scheduler at 'tcp://127.0.0.1:noport'")
    assert not (tmp_path / "model").exists()
