"""The stages of ``prudent predict BUNDLE IN --out OUT``, timed in a fresh process.

``python -m benchmarks.cli_stages BUNDLE IN OUT`` takes the command line's own steps one by one
(import the CLI, import scikit-learn and skops as it does, import the bundle layer, load and
verify the bundle, read the table, the guarded predict, write the table) and prints one JSON
object: ``{"stages": {name: {"wall_s": ..., "cpu_s": ...}}}``. The process's start (the
interpreter and ``site``) is whatever the caller measures beyond their sum. Run in a fresh
process because each import is paid once per process: in the benchmark's own process they
would already be paid, or paid in another way (a library user's ``import skops.io`` walks every
scikit-learn module; the command line does not).
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["STAGES", "main"]

STAGES = (
    "import prudent.cli",
    "import scikit-learn + skops",
    "import prudent.bundle",
    "bundle load",
    "read table",
    "guarded predict",
    "write table",
)


def _timed(fn: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, {
        "wall_s": round(time.perf_counter() - wall, 3),
        "cpu_s": round(time.process_time() - cpu, 3),
    }


def _import_cli() -> None:
    import prudent.cli  # noqa: F401


def _import_skops() -> None:
    from prudent._compat import import_skops_io

    import_skops_io()


def _import_bundle_layer() -> None:
    import prudent.bundle  # noqa: F401


def main(argv: list[str]) -> dict[str, Any]:
    """Time each stage of predicting ``argv = [bundle, in, out]``; see the module docstring."""
    bundle_dir, source, destination = (Path(a) for a in argv)
    stages: dict[str, dict[str, float]] = {}
    _, stages[STAGES[0]] = _timed(_import_cli)
    _, stages[STAGES[1]] = _timed(_import_skops)
    _, stages[STAGES[2]] = _timed(_import_bundle_layer)
    from prudent.bundle import load
    from prudent.data import read_table, write_table

    bundle, stages[STAGES[3]] = _timed(lambda: load(bundle_dir))
    frame, stages[STAGES[4]] = _timed(lambda: read_table(source))
    # as predict_file does: the file keeps the prediction set as JSON text
    out, stages[STAGES[5]] = _timed(lambda: bundle.predictions(frame).to_frame(frame.index))
    _, stages[STAGES[6]] = _timed(lambda: write_table(out, destination))
    return {"stages": stages}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])), flush=True)
    gc.freeze()  # as prudent.cli.main does before exiting: no collection over every object
