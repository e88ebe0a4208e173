"""Batch scoring in one process vs a local 2-worker Dask cluster, on generated Parquet.

A table of ``--rows`` rows (default 5 million: four numbers, a category, a yes/no column)
is generated into a temporary folder as ``--parts`` Parquet files, a bundle is fitted on
3,000 rows drawn the same way (baselines and LightGBM), then every row is scored twice:

- one process: ``Bundle.predict_file`` over the files one after another, in a fresh
  process (what ``prudent predict`` does, file by file);
- ``prudent.scale.predict_parquet`` on a ``LocalCluster`` of 2 worker processes with one
  thread each (what ``prudent predict … --dask local`` does).

Reported: rows/s of each, the scaling efficiency (cluster rows/s over twice the one-process
rows/s; 1.0 is perfect on 2 workers; the workers' imports are done before the clock starts,
the bundle's transfer and load are timed), the peak RSS of the one process and of each worker
(MB), and the load average before each run (the machine is shared: a loaded machine
lowers the efficiency). Rerun with::

    nice -n 10 python -m benchmarks scale [--rows 5000000] [--parts 20]
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

COMMAND = "nice -n 10 python -m benchmarks scale --rows {rows} --parts {parts}"
CHUNK = 100_000


def _rows(n: int, rng: np.random.Generator) -> pd.DataFrame:
    x = rng.normal(size=(n, 4))
    colour = rng.choice(np.array(["red", "green", "blue", "grey"]), n)
    member = rng.choice(np.array(["yes", "no"]), n)
    logit = x[:, 0] - 0.8 * x[:, 1] + 0.5 * x[:, 2] * x[:, 3] + (colour == "red") * 0.7
    frame = pd.DataFrame({f"x{j}": x[:, j] for j in range(4)})
    frame["colour"], frame["member"] = colour, member
    frame["label"] = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "churn", "stay")
    return frame


def _generate(root: Path, rows: int, parts: int) -> Path:
    folder = root / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    per_part = -(-rows // parts)
    for i in range(parts):
        n = min(per_part, rows - i * per_part)
        with pq.ParquetWriter(folder / f"rows-{i:04d}.parquet", _schema()) as writer:
            for start in range(0, n, CHUNK):
                frame = _rows(min(CHUNK, n - start), rng).drop(columns=["label"])
                writer.write_table(
                    pa.Table.from_pandas(frame, schema=_schema(), preserve_index=False)
                )
    return folder


def _schema() -> pa.Schema:
    fields = [(f"x{j}", pa.float64()) for j in range(4)]
    return pa.schema([*fields, ("colour", pa.string()), ("member", pa.string())])


def _fit(root: Path) -> Path:
    import prudent

    train = _rows(3000, np.random.default_rng(1))
    bundle = prudent.fit(train, "label", time_limit=60, candidates=("lightgbm",), progress=False)
    return bundle.save(root / "model")


_ONE_PROCESS = """
import resource, sys, time
from pathlib import Path
from prudent.bundle import load
bundle = load(sys.argv[1])
out = Path(sys.argv[3]); out.mkdir()
t0 = time.perf_counter(); n = 0
for i, part in enumerate(sorted(Path(sys.argv[2]).glob("*.parquet"))):
    n += bundle.predict_file(part, out / f"part-{i:05d}.parquet")
print(n, time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _one_process(bundle: Path, inputs: Path, out: Path) -> dict[str, Any]:
    load = os.getloadavg()[0]
    done = subprocess.run(
        [sys.executable, "-c", _ONE_PROCESS, str(bundle), str(inputs), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    n, seconds, peak_kb = done.stdout.split()
    return {
        "rows": int(n),
        "seconds": round(float(seconds), 1),
        "rows_per_s": round(int(n) / float(seconds)),
        "peak_rss_mb": round(int(peak_kb) / 1024),
        "load_before": round(load, 1),
    }


def _warm_up() -> None:
    import prudent.bundle  # noqa: F401  (scikit-learn, LightGBM, skops)
    from prudent._compat import import_skops_io

    import_skops_io()


def _cluster(bundle_path: Path, inputs: Path, out: Path) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    from prudent.bundle import load
    from prudent.scale import predict_parquet

    bundle = load(bundle_path)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm_up)  # imports, as the one process had done before its clock
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        n = predict_parquet(bundle, str(inputs / "*.parquet"), out, client)
        seconds = time.perf_counter() - t0
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {
        "rows": n,
        "seconds": round(seconds, 1),
        "rows_per_s": round(n / seconds),
        "worker_peak_rss_mb": sorted(round(v) for v in peaks.values()),
        "load_before": round(load_before, 1),
    }


def _options(argv: list[str]) -> tuple[int, int]:
    rows, parts = 5_000_000, 20
    for flag, value in zip(argv[::2], argv[1::2], strict=False):
        if flag == "--rows":
            rows = int(value)
        elif flag == "--parts":
            parts = int(value)
    return rows, parts


def run(argv: list[str]) -> dict[str, Any]:
    """Generate, fit, score in one process and on 2 workers; the figures."""
    rows, parts = _options(argv)
    root = Path(tempfile.mkdtemp(prefix="prudent-bench-scale-"))
    try:
        t0 = time.perf_counter()
        inputs = _generate(root, rows, parts)
        generated = time.perf_counter() - t0
        bundle = _fit(root)
        single = _one_process(bundle, inputs, root / "one")
        spread = _cluster(bundle, inputs, root / "two")
        same = all(
            pq.read_metadata(a).num_rows == pq.read_metadata(b).num_rows
            for a, b in zip(
                sorted((root / "one").glob("*.parquet")),
                sorted((root / "two").glob("*.parquet")),
                strict=True,
            )
        )
        input_mb = sum(p.stat().st_size for p in inputs.glob("*.parquet")) / 2**20
    finally:
        shutil.rmtree(root, ignore_errors=True)
    efficiency = spread["rows_per_s"] / (2 * single["rows_per_s"])
    return {
        "rows": rows,
        "parts": parts,
        "input_mb": round(input_mb),
        "generate_seconds": round(generated, 1),
        "one_process": single,
        "two_workers": spread,
        "speed_up": round(spread["rows_per_s"] / single["rows_per_s"], 2),
        "scaling_efficiency": round(efficiency, 2),
        "same_rows_per_part": same,
        "cpu_count": os.cpu_count(),
        "rerun": COMMAND.format(rows=rows, parts=parts),
    }
