"""Run the benchmarks: ``python -m benchmarks [name ...]`` (``make bench``).

Each ``benchmarks/bench_<name>.py`` has ``run() -> dict``. Results are printed and written
to ``benchmarks/results/<name>.json``.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    names = argv or sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name.startswith("bench_")
    )
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        started = time.perf_counter()
        result = module.run()
        result["wall_seconds"] = round(time.perf_counter() - started, 2)
        text = json.dumps(result, indent=2, default=str)
        (out / f"{name}.json").write_text(text + "\n")
        print(f"== {name} ==\n{text}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
