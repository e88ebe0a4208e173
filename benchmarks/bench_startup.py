"""Start-up of ``prudent predict`` on a small tabular bundle (issue 15: under 2 s).

A breast-cancer bundle (baselines only) is fitted once; then ``prudent predict BUNDLE
one_row.csv`` runs as a fresh process ``REPEATS`` times. Reported: wall and CPU seconds of the
fastest run, and as a reference, measured in the same run, a process that only imports the
libraries such a prediction needs (pandas, scikit-learn's linear model and pipeline, skops
without its estimator walk, as the CLI imports it) and loads the bundle: the ratio says how
much prudent's own start-up adds. On a shared machine the wall time is noisy; CPU time is
the steadier figure.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import prudent

REPEATS = 3
TARGET_S = 2.0
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


def run() -> dict[str, Any]:
    frame = prudent.load_example("breast_cancer")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bundle = prudent.fit(frame, target="target", time_limit=30, candidates=(), progress=False)
        bundle.save(root / "model")
        frame.drop(columns="target").head(1).to_csv(root / "one.csv", index=False)
        cli = Path(sys.executable).with_name("prudent")
        predict = [str(cli), "predict", str(root / "model"), str(root / "one.csv")]
        measured = _best([*predict, "--out", str(root / "out.csv")])
        reference = _best([sys.executable, "-c", REFERENCE, str(root / "model")])
    return {
        "predict_one_row": measured,
        "reference_imports_and_load": reference,
        "ratio_cpu": round(measured["cpu_s"] / max(reference["cpu_s"], 1e-9), 2),
        "targets_met": {"predict_start_under_2s_wall": measured["wall_s"] < TARGET_S},
    }
