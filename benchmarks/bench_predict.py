"""Predict speed on one real bundle (issue 8 Required 3, issue 15 item 6), in one run.

Usage (``make bench BENCH_ARGS="predict --dataset crash_fatality"``)::

    python -m benchmarks predict [--dataset NAME] [--bundle DIR] [--time-limit 60]

The bundle is ``--bundle``, else ``prudent fit --time-limit L`` on the shared dataset's
train.csv (text columns from its meta.json), kept under ``results/work/predict/NAME``. On
that bundle, from test.csv:

* ``broad_speed.measure_rows``: ``prudent predict`` on a 100k-row CSV as a new process (rows/s,
  process start included), the stages of that path timed in this process, the guarded
  predict over the primary's own ``predict_proba`` with its parts, and the largest costs;
  :func:`ratio_verdict` says whether within 2x is met, and when the OOD check alone puts
  the ratio above 2 (a linear primary predicts in a fraction of a k-NN search), says so;
* 1-row predictions in this process with one BLAS/OpenMP thread (as the server runs them):
  p50/p99 wall and CPU per row;
* ``prudent predict`` of one row as a new process beside a reference process that only
  imports pandas, scikit-learn and skops and loads the bundle (``bench_startup``): CPU and
  wall, best of three.

Timings come from a shared 2-core machine: compare the ratios, and CPU where wall is noisy.
Results go to ``results/predict_NAME.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.bench_startup import REFERENCE, TARGET_S, _best
from benchmarks.broad_data import load_task
from benchmarks.broad_run import cli
from benchmarks.broad_speed import measure_rows
from prudent import Bundle

HERE = Path(__file__).resolve().parent
WORK = HERE / "results" / "work" / "predict"
ONE_ROW_REQUESTS = 200
P99_TARGET_MS = 20.0
RATIO_TARGET = 2.0


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks predict")
    p.add_argument("--dataset", default="crash_fatality", help="a shared dataset's name")
    p.add_argument("--bundle", default="", help="a saved bundle (else fitted on --dataset)")
    p.add_argument("--time-limit", type=float, default=60.0)
    return p.parse_args(argv)


def _bundle(args: argparse.Namespace, folder: Path) -> Path:
    if args.bundle:  # resolved: the CLI is run from another folder
        return Path(args.bundle).resolve()
    task = load_task(args.dataset)
    out = folder / "bundle"
    if not (out / "manifest.json").exists():
        text = [a for c in task.meta.get("text_columns", []) for a in ("--text", c)]
        fit = ["fit", str(task.folder / "train.csv"), "--target", task.target, "--out", str(out)]
        run = cli(
            [*fit, "--time-limit", f"{args.time_limit:g}", "--seed", "0", *text],
            max(600.0, 5 * args.time_limit),
            folder,
        )
        if run["rc"] != 0:
            raise RuntimeError(f"prudent fit failed: {run['last_line']}")
    return out


def _one_row(bundle: Bundle, rows: Any) -> dict[str, float]:
    """1-row predictions in this process, one BLAS/OpenMP thread: wall p50/p99, CPU mean."""
    singles = [rows.iloc[[i % len(rows)]] for i in range(ONE_ROW_REQUESTS)]
    with threadpool_limits(1):
        for one in singles[:10]:
            bundle.predictions(one)
        walls, cpu0 = [], time.process_time()
        for one in singles:
            t0 = time.perf_counter()
            bundle.predictions(one)
            walls.append(time.perf_counter() - t0)
        cpu = (time.process_time() - cpu0) / len(singles)
    ms = np.asarray(walls) * 1e3
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "cpu_ms_per_row": round(cpu * 1e3, 2),
    }


def _startup(bundle_dir: Path, rows: Any, folder: Path) -> dict[str, Any]:
    one = folder / "one_row.csv"
    rows.head(1).to_csv(one, index=False)
    command = [sys.executable, "-m", "prudent.cli", "predict", str(bundle_dir), str(one)]
    measured = _best([*command, "--out", str(folder / "one_out.csv")])
    reference = _best([sys.executable, "-c", REFERENCE, str(bundle_dir)])
    return {
        "predict_one_row": measured,
        "reference_imports_and_load": reference,
        "ratio_cpu": round(measured["cpu_s"] / max(reference["cpu_s"], 1e-9), 2),
    }


def ratio_verdict(speed: dict[str, Any]) -> dict[str, Any]:
    """The guarded / primary target: the floor a real OOD check puts under the ratio, and a
    sentence naming the largest parts of the guarded predict when it is not met.

    The floor is (primary + OOD features + OOD score) / primary: what the guarded predict
    would cost over the primary with nothing but its OOD check added.
    """
    parts = speed.get("guarded_parts_seconds")
    if not parts:
        return {"ood_floor_over_primary": None, "verdict": "not measured"}
    primary = max(parts["primary"], 1e-9)
    ood = parts["ood_features"] + parts["ood_score"]
    floor = (primary + ood) / primary
    ratio = speed["guarded_over_primary"]
    rest = {k: v for k, v in parts.items() if k not in ("guarded", "primary")}
    largest = ", ".join(f"{k} {v:.2f} s" for k, v in sorted(rest.items(), key=lambda kv: -kv[1]))
    if ratio <= RATIO_TARGET:
        verdict = f"met: guarded {ratio:.2f}x the primary's predict_proba"
    elif floor > RATIO_TARGET:
        verdict = (
            f"not met ({ratio:.2f}x), and not reachable with a k-NN OOD check: the OOD "
            f"features and score alone take {ood:.2f} s, {floor - 1:.1f}x the primary's own "
            f"{primary:.2f} s; largest parts beside the primary: {largest}"
        )
    else:
        verdict = f"not met ({ratio:.2f}x); largest parts beside the primary: {largest}"
    return {"ood_floor_over_primary": round(floor, 2), "verdict": verdict}


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure the predict path on one bundle; see the module docstring."""
    args = _parse(argv or [])
    name = args.dataset  # the rows measured are this dataset's, whichever bundle scores them
    folder = WORK / name
    folder.mkdir(parents=True, exist_ok=True)
    bundle_dir = _bundle(args, folder)
    task = load_task(args.dataset)
    rows = task.frame("test").drop(columns=task.target)
    speed = measure_rows(rows, bundle_dir, folder)
    bundle = Bundle.load(bundle_dir)
    one_row = _one_row(bundle, rows)
    startup = _startup(bundle_dir, rows, folder)
    result = {
        "_name": f"predict_{name}",
        "bundle": str(bundle_dir),
        "primary": bundle.manifest.get("trust", {}).get("ensemble", {}).get("members"),
        "speed_100k": speed,
        "guarded_over_primary": ratio_verdict(speed),
        "one_row_in_process": one_row,
        "startup": startup,
        "targets_met": {
            "cli_ge_20000_rows_per_s": speed.get("cli_rows_per_s", 0) >= 20_000,
            "guarded_within_2x_primary": speed.get("guarded_over_primary", 99) <= RATIO_TARGET,
            "one_row_p99_le_20ms_in_process": one_row["p99_ms"] <= P99_TARGET_MS,
            "startup_under_2s_wall": startup["predict_one_row"]["wall_s"] < TARGET_S,
        },
    }
    print(json.dumps(result, indent=2, default=str), flush=True)
    return result | {"_quiet": True}
