"""Run the benchmarks: ``python -m benchmarks [name ...] [--option ...]`` (``make bench``).

Each ``benchmarks/bench_<name>.py`` has ``run() -> dict`` (or ``run(argv) -> dict`` to take
the options after the names). Results are written to ``benchmarks/results/<name>.json`` (or
the result's ``_name``) and printed, unless the result says ``_quiet`` (it printed its own
tables). Examples::

    make bench BENCH_ARGS="broad --part dev"            # the broad benchmark's dev part
    make bench BENCH_ARGS="broad --part holdout"        # report-only holdout part
    make bench BENCH_ARGS="broad --datasets chile_vote,titanic --time-limit 30 --no-speed"
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    cut = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names, options = argv[:cut], argv[cut:]
    names = names or sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name.startswith("bench_")
    )
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        started = time.perf_counter()
        takes_args = bool(inspect.signature(module.run).parameters)
        result = module.run(options) if takes_args else module.run()
        result["wall_seconds"] = round(time.perf_counter() - started, 2)
        stem, quiet = result.pop("_name", name), result.pop("_quiet", False)
        text = json.dumps(result, indent=2, default=str)
        (out / f"{stem}.json").write_text(text + "\n")
        if not quiet:
            print(f"== {name} ==\n{text}", flush=True)
        print(f"[{name}] results written to {out / f'{stem}.json'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
