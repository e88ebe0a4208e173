"""Predict speed (issue 8, Required 3) on a bundle the broad benchmark fitted.

A ``ROWS``-row CSV (test.csv rows drawn with replacement, seed 0, target removed) goes through
``prudent predict`` as a new process: CSV in, CSV out, process start included -> rows/s. The
stages of that path are timed in another fresh process (``benchmarks.cli_stages``: imports, as
the command line pays them, bundle load, CSV read, guarded predict, CSV write), and in this
process the guarded predict is compared with the shipped primary's own ``predict_proba`` on
the validated rows, with its parts (``bench_trust._predict_cost``: validate, backup, OOD
features, OOD score, the rest).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.bench_trust import _predict_cost
from benchmarks.broad_data import Task
from benchmarks.broad_run import ROOT, cli
from prudent import Bundle
from prudent.data import read_table

__all__ = ["ROWS", "measure_rows", "measure_speed"]

ROWS = 100_000
REPEATS = 2


def _largest(seconds: dict[str, float], total: float, top: int = 3) -> list[str]:
    """The ``top`` largest entries as "name s (share of total)"."""
    ranked = sorted(seconds.items(), key=lambda kv: -kv[1])[:top]
    return [f"{k} {v:.2f} s ({v / total:.0%})" for k, v in ranked]


def measure_speed(task: Task, bundle_dir: Path, work: Path) -> dict[str, Any]:
    """CLI rows/s on ``ROWS`` rows of test.csv, the stages of that path, guarded / primary."""
    return measure_rows(task.frame("test").drop(columns=task.target), bundle_dir, work)


def cli_stages(bundle_dir: Path, source: Path, destination: Path) -> dict[str, float]:
    """Wall seconds of each stage of ``prudent predict`` in a fresh process
    (``benchmarks.cli_stages``), the process's own start and exit included."""
    command = [sys.executable, "-m", "benchmarks.cli_stages"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, str(bundle_dir), str(source), str(destination)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    total = time.perf_counter() - started
    stages = {k: v["wall_s"] for k, v in json.loads(done.stdout)["stages"].items()}
    return {"process start and exit": round(total - sum(stages.values()), 3), **stages}


def measure_rows(rows: pd.DataFrame, bundle_dir: Path, work: Path) -> dict[str, Any]:
    """:func:`measure_speed` on ``ROWS`` rows drawn from ``rows`` (with replacement, seed 0)."""
    big = rows.sample(n=ROWS, replace=True, random_state=0).reset_index(drop=True)
    src, dst = work / "speed_in.csv", work / "speed_out.csv"
    big.to_csv(src, index=False)
    run = cli(["predict", str(bundle_dir), str(src), "--out", str(dst)], 900.0, work)
    if run["rc"] != 0:
        return {"error": f"prudent predict failed: {run['last_line']}", "cli": run}
    stages = cli_stages(bundle_dir, src, work / "speed_out_stages.csv")
    bundle, frame = Bundle.load(bundle_dir), read_table(src)
    cost = _predict_cost(bundle, frame, repeats=REPEATS)
    parts = {k: v for k, v in cost["seconds"].items() if k != "guarded"}
    return {
        "rows": ROWS,
        "cli_seconds": run["seconds"],
        "cli_rows_per_s": ROWS / run["seconds"],
        "load_before": run["load_before"],
        "stages_seconds": stages,
        "largest_costs": _largest(stages, run["seconds"])
        + _largest(parts, cost["seconds"]["guarded"]),
        "guarded_over_primary": cost["ratio"],
        "guarded_parts_seconds": cost["seconds"],
    }
