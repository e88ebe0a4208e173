"""``prudent.monitor`` over a month-long, 1-million-row prediction log, on SQLite and on
PostgreSQL: time and memory.

The log is built once (``benchmarks/results/work/monitor_1m.db``, reused when present): the
store migrates an empty file, then the rows go in by raw ``executemany`` in the store's own
column formats (the benchmark measures reading, not writing; ``bench_store`` measures writing).
30 days, one prediction every ~2.6 s, five numeric features and one categorical, calibrated
confidences, 10% of the rows labelled; the last 5 days have ``x0`` shifted by one SD.

Each configuration runs in a fresh process: ``monitor_log`` by day and by hour, with the
default drift sample (2,000 rows a window), and by day without drift (``drift_sample=1``, the
SQL figures alone). The same rows are then copied into a throwaway PostgreSQL server (the
tests' ``postgres_server``, fsync off) and the three configurations timed again there.
Reported: wall and CPU seconds (the CPU time is the fairer figure on a shared machine; on
PostgreSQL the server's work is not in it), peak RSS growth over the process after imports
(MB), windows, and the windows flagged as drifted (the shifted ones are the last 5 days).

Issue 10 asks for a month summarised "in seconds with bounded memory": met on both databases
(results/monitor.json: 7-8.5 s on SQLite, peak RSS growth under 50 MB). The "~5 s target" named
in the history below was our own stricter reading of it, kept as the figure to improve.

By hour with drift is the hard case: an hour holds ~1,390 rows, under the 2,000 sampled, so
the drift tests read every logged row's inputs, and each of the 720 windows has its own ECE
test and interval. Each hour is read whole as stored (one range, no id lookups), its inputs
cross as JSON text parsed a batch of windows at a time, and its ECE resamples are drawn row by
row (see ``prudent.monitor._histogram``). On the shared 2-core machine (load 10-20), CPU
seconds by hour with drift went from 73 to 27-29 on SQLite with every figure unchanged but the
ECE p-value and interval (same test, new draws); see the commit for PostgreSQL.

Then (migrations 0007 and 0008) every row stores its hour and its conformal set's size, and
``ix_predictions_windows`` (model version, hour, predicted class, time, decision, OOD flag,
confidence, set size) lets the hour and day sums read an index in order with no sort (on SQLite
the index alone); the sampled inputs cross as UTF-8 bytes (no decode and re-encode), the
per-window sample query is compiled once with its range bound, and categories are coded without
labelling every row. Every window's repr unchanged on SQLite (by hour, by day, a span of hours;
the N-prediction windows too); on PostgreSQL only float sums differ, in the last bits (at most
1.8e-15 relative: it sums the rows in another order). Same session, load ~2-4: SQLite by hour
with drift 10.3-11.1 -> 8.2 s CPU (wall the same: in-process); by day 6.3 -> 5.7-5.9 s; the
totals query alone 2.05 -> 0.6-0.9 s, the histogram 1.38 -> 0.76 s. PostgreSQL client CPU by
hour 6.3-6.8 -> 5.9 (its server's sorts are what the index saves; wall 22.7 -> 11.0 s).
The ~5 s target by hour is not met: what remains on SQLite is ~3 s of SQL (the labelled join,
~0.6 s for 100k random lookups by id; reading every row's inputs, ~0.9 s; the totals and the
histogram's sort) and ~5 s of Python (parsing 1M JSON objects ~1.3 s, the drift tests ~1.5 s,
the ECE resamples ~1 s, validation and column preparation ~0.6 s, garbage collection ~0.4 s).

Then, with every figure unchanged (each window of the month compared field by field with the
previous code, by hour and by day on SQLite: no float differs), the ECE resamples of every
window slice one stream drawn once per seed (each window's generator starts from the same seed,
so it draws that stream's first numbers), and a window whose drift sample holds all its rows
(every hour here) counts its confidence histogram from the sample, so the histogram query does
not run by hour. Old and new alternated in one session, by hour with drift, load 8-12 (medians
of 3, CPU seconds): SQLite 11.1 -> 9.2, PostgreSQL client 7.6 -> 6.2 (the ratios, ~0.83,
are the figure: quiet, that is ~8.2 -> ~6.8 and ~5.9 -> ~4.9); peak RSS growth 44 -> 41 MB on
SQLite. The ~5 s target is met on PostgreSQL's client, not on SQLite, where the database runs
in the process: its SQL costs ~3.5 s of CPU (the totals scan of the windows index ~1.1 s, the
labelled join ~1.2 s, of which ~0.65 s are the 100k lookups by id, and reading every row's
inputs by time range ~1.2 s), parsing the inputs with pyarrow ~1.5 s (~150 bytes a row; an
explicit schema, fewer columns or other block sizes do not change it), the KS tests ~0.65 s
(0.15 ms a call; all windows of a batch at once in one sort and scatter was measured 5x
slower), validating the inputs ~0.6 s, and ~0.3 s checking that every row holds its stored
hour and set size (a scan of the index). Cheaper aggregate forms in the totals query (SQLite's
``sum(decision = 'accept')`` for the ``CASE`` sums) measured the same.

Before that, with every figure bit-for-bit unchanged (repr of every window compared, SQLite by
hour and day, PostgreSQL by hour): the drift tests of a batch of windows prepare each tested
column once (numbers parsed, categories coded and counted per window with ``bincount``) instead
of per window in pandas, the confidence quantiles read one cumulative histogram, and the
Poisson(1) draws of the ECE interval search only their tail: by hour with drift, drift tests
1.95 -> 1.10 s of CPU, whole run 13.1 -> 11.8 s on SQLite (load 8) and 7.5 -> 6.8 s client CPU
on PostgreSQL (load 4-7). What remains on SQLite is SQL (~5.5 s: the totals and histogram GROUP
BY sorts, the labelled join, reading every row's inputs) and parsing the inputs (pyarrow, ~1.3 s
for a million objects).

Before that, with every figure bit-for-bit unchanged: the per-window scipy calls that cost far more
than their arithmetic (the BH step ~17x, the chi-squared and normal tails ~100-270x, per call)
and the strict ``zip`` splitting each window's sample (5x) were replaced, ~1 s CPU of ~21 by
hour with drift at load 11-16 (within that load's noise end to end). Tried and measured slower
or no better, back to back in one process, so left out: exact KS and W1 of every window of a
batch at once (one sort, the reference CDF read at window values; 7.3 s vs 6.3 s for a month
of hours), totals and histogram in one two-stage GROUP BY (6.8 s vs 5.4 s on SQLite), and one
sample query per 10 hours instead of one per hour (4.4-4.6 s vs 3.9-4.3 s). On SQLite
``json_extract`` costs ~0.6 us per key per row (3.7 s for six keys over 1M rows, against 1.3 s
to fetch every row's JSON text), so binning the inputs in SQL would cost more than parsing them
here; the remaining time is reading every row (~1.3 s at best), parsing and validating its
inputs, the per-window tests and ECE resamples, and the GROUP BY sorts.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from prudent.store import SqlPredictionLog, hour_of

HERE = Path(__file__).resolve().parent
DB = HERE / "results" / "work" / "monitor_1m.db"
ROWS = 1_000_000
DAYS = 30
SHIFTED_DAYS = 5
T0 = datetime(2024, 3, 1, tzinfo=UTC)
CHUNK = 50_000

_INSERT = (
    "INSERT INTO predictions (id, created_at, model_version, model_name, inputs, probabilities,"
    " prediction, confidence, ood_score, is_ood, prediction_set, decision, reason, latency_ms,"
    " hour, set_size)"
    " VALUES (?, ?, 'bench', 'bench', ?, ?, ?, ?, ?, ?, ?, ?, '', 1.0, ?, ?)"
)


def _rows(start: int, n: int, rng: np.random.Generator) -> tuple[list[tuple[Any, ...]], list[Any]]:
    i = np.arange(start, start + n)
    when = [T0 + timedelta(seconds=float(s)) for s in i * (DAYS * 86400 / ROWS)]
    x = rng.normal(size=(n, 5))
    x[:, 0] += np.asarray([w >= T0 + timedelta(days=DAYS - SHIFTED_DAYS) for w in when])
    colour = rng.choice(["red", "green", "blue"], n)
    conf = np.clip(0.5 + 0.5 * rng.beta(4, 1.5, n), 0.5, 0.999)
    pred = rng.choice(["cat", "dog"], n)
    right = rng.random(n) < conf
    ood = rng.random(n) < 0.05
    rows, labels = [], []
    for k in range(n):
        other = "dog" if pred[k] == "cat" else "cat"
        inputs = {f"x{j}": float(x[k, j]) for j in range(5)} | {"colour": str(colour[k])}
        pid = f"{rng.integers(1 << 62):016x}-{start + k}"
        rows.append((
            pid, when[k].strftime("%Y-%m-%d %H:%M:%S.%f"), json.dumps(inputs),
            json.dumps({pred[k]: conf[k], other: 1 - conf[k]}), pred[k], conf[k],
            float(rng.normal() + 3 * ood[k]), bool(ood[k]),
            json.dumps([pred[k]] if conf[k] >= 0.9 else [pred[k], other]),
            "accept" if conf[k] >= 0.7 else "review", hour_of(when[k]), 1 if conf[k] >= 0.9 else 2,
        ))  # fmt: skip
        if k % 10 == 0:
            truth = pred[k] if right[k] else other
            labels.append((pid, truth, "bench", when[k].strftime("%Y-%m-%d %H:%M:%S.%f")))
    return rows, labels


def build(path: Path = DB) -> Path:
    """Create the 1M-row log at ``path`` unless it is already there (a log built before the
    store's newest schema is migrated: its rows get their stored hour)."""
    if path.exists():
        SqlPredictionLog.open(path).close()
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    SqlPredictionLog.open(partial).close()
    rng = np.random.default_rng(0)
    connection = sqlite3.connect(partial)
    connection.execute("PRAGMA journal_mode = WAL")
    for start in range(0, ROWS, CHUNK):
        rows, labels = _rows(start, CHUNK, rng)
        with connection:
            connection.executemany(_INSERT, rows)
            connection.executemany(
                "INSERT INTO feedback (prediction_id, label, source, received_at)"
                " VALUES (?, ?, ?, ?)",
                labels,
            )
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    partial.rename(path)
    return path


_CHILD = """
import dataclasses, json, resource, sys, time
from tests.monitor.conftest import make_reference
from prudent.monitor import DriftReport, monitor_log
reference = dataclasses.replace(make_reference(), model_version="bench")
window, sample = sys.argv[1], int(sys.argv[2])
usage = resource.getrusage(resource.RUSAGE_SELF)
before, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
started = time.perf_counter()
report = monitor_log(sys.argv[3], reference, window=window, drift_sample=sample)
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu
drifted = sorted({w.key for w in report.windows
                  if isinstance(w.drift, DriftReport) and "x0" in w.drift.drifted})
print(json.dumps({"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                  "rss_growth_mb": round((peak - before) / 1024, 1),
                  "windows": len(report.windows), "rows": sum(w.n for w in report.windows),
                  "windows_with_x0_drift": len(drifted), "first_drift": drifted[:1]}))
"""


def _measure(window: str, sample: int, url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, window, str(sample), url],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=HERE.parent,
        check=False,
    )
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


_COLUMNS = ("id", "created_at", "model_version", "model_name", "inputs", "probabilities",
            "prediction", "confidence", "ood_score", "is_ood", "prediction_set", "decision",
            "reason", "latency_ms", "hour", "set_size")  # fmt: skip


def copy_to_postgres(path: Path, url: str) -> float:
    """Copy the SQLite log's predictions and feedback into the (migrated) database at ``url``
    with ``COPY``; return the seconds it took."""
    import psycopg

    started = time.perf_counter()
    SqlPredictionLog.open(url).close()
    source = sqlite3.connect(path)
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as target, target.cursor() as cursor:
        names = ", ".join(_COLUMNS)
        with cursor.copy(f"COPY predictions ({names}) FROM STDIN") as copy:
            for row in source.execute(f"SELECT {names} FROM predictions"):
                copy.write_row((*row[:9], bool(row[9]), *row[10:]))
        with cursor.copy(
            "COPY feedback (prediction_id, label, source, received_at) FROM STDIN"
        ) as copy:
            for row in source.execute(
                "SELECT prediction_id, label, source, received_at FROM feedback"
            ):
                copy.write_row(row)
        cursor.execute("ANALYZE")
    source.close()
    return time.perf_counter() - started


def _postgres(path: Path) -> dict[str, Any]:
    from tests._postgres import postgres_server, postgres_unavailable

    reason = postgres_unavailable()
    if reason is not None:
        return {"error": f"PostgreSQL not run: {reason}"}
    with postgres_server(fsync=False) as url:
        copied = copy_to_postgres(path, url)
        return {
            "copy_seconds": round(copied, 1),
            "by_day": _measure("day", 2000, url),
            "by_day_sql_only": _measure("day", 1, url),
            "by_hour": _measure("hour", 2000, url),
        }


def run() -> dict[str, Any]:
    """Build (or reuse) the log, then time ``monitor_log`` in fresh processes, on SQLite and
    on PostgreSQL."""
    started = time.perf_counter()
    path = build()
    built = time.perf_counter() - started
    url = f"sqlite:///{path}"
    return {
        "rows": ROWS,
        "days": DAYS,
        "db_mb": round(path.stat().st_size / 2**20, 1),
        "build_seconds": round(built, 1),
        "sqlite": {
            "by_day": _measure("day", 2000, url),
            "by_day_sql_only": _measure("day", 1, url),
            "by_hour": _measure("hour", 2000, url),
        },
        "postgresql": _postgres(path),
    }
