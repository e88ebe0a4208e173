"""Start-up of ``prudent predict`` and ``prudent serve`` on a small tabular bundle (issue 15).

Usage (``make bench BENCH_ARGS="startup"``)::

    python -m benchmarks startup [--bundle DIR] [--text-bundle DIR] [--no-serve]

A breast-cancer bundle (baselines only) is fitted once, unless ``--bundle`` names one (its
``test_rows.parquet`` gives the row). Then, each as a fresh process, best of ``REPEATS``:

* ``prudent predict BUNDLE one_row.csv``: wall and CPU seconds (target: under 2 s wall);
* references measured in the same run: ``python -c pass`` (the interpreter), ``python -c
  "import sklearn"``, and a process that only imports what such a prediction needs (pandas,
  scikit-learn, skops without its estimator walk, as the CLI imports it) and loads the bundle;
  the ratios say how much prudent's own start-up adds;
* the stages of that prediction in a fresh process (``benchmarks.cli_stages``), wall and CPU;
* ``prudent serve BUNDLE``: seconds from process start to ``/v2/health/live`` and to
  ``/v2/health/ready`` (200), and the server's CPU seconds until ready (``/proc``); also for
  ``--text-bundle`` (a bundle with a text column, e.g. sentence embeddings) when given.

On a shared machine the wall time is noisy; CPU time and the ratios are the steadier figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd

import prudent

REPEATS = 3
TARGET_S = 2.0
READY_TIMEOUT_S = 600.0
REFERENCE = (
    "import sys; from prudent._compat import import_skops_io; import_skops_io(); "
    "import pandas, sklearn.linear_model, sklearn.pipeline; "
    "from prudent.bundle import load; load(sys.argv[1])"
)


def _timed(command: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _best(command: list[str]) -> dict[str, float]:
    runs = [_timed(command) for _ in range(REPEATS)]
    return {"wall_s": round(min(r[0] for r in runs), 2), "cpu_s": round(min(r[1] for r in runs), 2)}


def _stages(bundle: Path, one: Path, out: Path) -> dict[str, Any]:
    """The predict command's stages in a fresh process (the fastest of ``REPEATS`` by CPU)."""
    command = [sys.executable, "-m", "benchmarks.cli_stages", str(bundle), str(one), str(out)]
    runs = []
    for _ in range(REPEATS):
        wall, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stages = json.loads(done.stdout)["stages"]
        total_cpu = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
        total = {"wall_s": time.perf_counter() - wall, "cpu_s": total_cpu}
        stages["process start (interpreter, site) and exit"] = {
            k: round(total[k] - sum(s[k] for s in stages.values()), 3) for k in total
        }
        runs.append((total_cpu, stages))
    return min(runs, key=lambda r: r[0])[1]


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a running process, from ``/proc``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _serve_ready(bundle: Path, work: Path) -> dict[str, float]:
    """Seconds from ``prudent serve`` start to live and to ready, and its CPU until ready."""
    port = _free_port()
    cli = Path(sys.executable).with_name("prudent")
    command = [str(cli), "serve", str(bundle), "--port", str(port), "--no-auth"]
    command += ["--log-db", f"sqlite:///{work / 'serve-log.db'}"]
    base = f"http://127.0.0.1:{port}/v2/health/"
    started = time.perf_counter()
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    live = None
    try:
        while time.perf_counter() - started < READY_TIMEOUT_S:
            if server.poll() is not None:
                raise RuntimeError(f"prudent serve exited with {server.returncode}")
            if live is None and _ok(base + "live"):
                live = time.perf_counter() - started
            if live is not None and _ok(base + "ready"):
                ready = time.perf_counter() - started
                return {"live_s": round(live, 2), "ready_s": round(ready, 2),
                        "cpu_until_ready_s": round(_cpu_of(server.pid), 2)}  # fmt: skip
            time.sleep(0.05)
        raise RuntimeError(f"prudent serve was not ready within {READY_TIMEOUT_S:.0f} s")
    finally:
        server.terminate()
        server.wait(30)


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks startup")
    p.add_argument("--bundle", default="", help="a saved tabular bundle (else one is fitted)")
    p.add_argument("--text-bundle", default="", help="also time serving this bundle")
    p.add_argument("--no-serve", action="store_true", help="skip the serve readiness figures")
    return p.parse_args(argv)


def _bundle_and_row(args: argparse.Namespace, root: Path) -> tuple[Path, Path]:
    one = root / "one.csv"
    if args.bundle:
        bundle = Path(args.bundle)
        pd.read_parquet(bundle / "test_rows.parquet").head(1).to_csv(one, index=False)
        return bundle, one
    frame = prudent.load_example("breast_cancer")
    fitted = prudent.fit(frame, target="target", time_limit=30, candidates=(), progress=False)
    fitted.save(root / "model")
    frame.drop(columns="target").head(1).to_csv(one, index=False)
    return root / "model", one


def _serving(args: argparse.Namespace, bundle: Path, root: Path) -> dict[str, Any]:
    if args.no_serve:
        return {}
    serve = {"tabular": min((_serve_ready(bundle, root) for _ in range(2)),
                            key=lambda r: r["cpu_until_ready_s"])}  # fmt: skip
    if args.text_bundle:
        serve["text"] = _serve_ready(Path(args.text_bundle), root)
    return {"serve_ready": serve}


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure start-up; see the module docstring."""
    args = _parse(argv or [])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bundle, one = _bundle_and_row(args, root)
        cli = Path(sys.executable).with_name("prudent")
        measured = _best([str(cli), "predict", str(bundle), str(one), "--out", str(root / "o.csv")])
        python = _best([sys.executable, "-c", "pass"])
        sklearn = _best([sys.executable, "-c", "import sklearn"])
        reference = _best([sys.executable, "-c", REFERENCE, str(bundle)])
        stages = _stages(bundle, one, root / "o2.csv")
        serving = _serving(args, bundle, root)
    cpu = measured["cpu_s"]
    return {
        "load_average": round(os.getloadavg()[0], 1),
        "predict_one_row": measured,
        "reference_python_pass": python,
        "reference_import_sklearn": sklearn,
        "reference_imports_and_load": reference,
        "ratio_cpu_over_imports_and_load": round(cpu / max(reference["cpu_s"], 1e-9), 2),
        "ratio_cpu_over_import_sklearn": round(cpu / max(sklearn["cpu_s"], 1e-9), 2),
        "predict_stages": stages,
        **serving,
        "targets_met": {"predict_start_under_2s_wall": measured["wall_s"] < TARGET_S},
    }
