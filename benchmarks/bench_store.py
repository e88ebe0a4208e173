"""Prediction-log write throughput on SQLite, in batches of 64 rows.

References, measured in the same run on the same migrated schema (WAL, ``synchronous=FULL``):
raw ``sqlite3`` ``executemany`` of the same rows (turned into tuples and JSON text inside the
timing, as the log must) in one transaction, and the same with one commit per 64 rows (the
fsync cost the log's batching pays too), and one row per commit. Reported: rows/s of
``SqlPredictionLog.write`` with 64-row batches under ``FULL`` and ``NORMAL`` and their ratios to
the references, and rows/s of one-row writes from 8 threads (the service's pattern, batched by
group commit) against raw one-row commits.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from prudent.store import PredictionRecord, SqlPredictionLog, hour_of

ROWS = 20_000
BATCH = 64
THREADS = 8


def _records(n: int) -> list[PredictionRecord]:
    return [
        PredictionRecord(
            model_version="sha256:bench",
            model_name="bench",
            inputs={f"x{j}": float(i * j % 97) for j in range(10)} | {"region": "north"},
            probabilities={"churn": 0.2, "stay": 0.8},
            prediction="stay",
            decision="review" if i % 20 == 0 else "accept",
            confidence=0.8,
            ood_score=0.1,
            prediction_set=("stay",),
            latency_ms=1.5,
        )
        for i in range(n)
    ]


def _log_rate(path: Path, records: list[PredictionRecord], synchronous: str) -> float:
    with SqlPredictionLog.open(path, synchronous=synchronous) as log:
        started = time.perf_counter()
        for i in range(0, len(records), BATCH):
            log.write(records[i : i + BATCH])
        return len(records) / (time.perf_counter() - started)


def _threaded_rate(path: Path, records: list[PredictionRecord]) -> float:
    share = len(records) // THREADS
    with SqlPredictionLog.open(path) as log:

        def client(part: list[PredictionRecord]) -> None:
            for record in part:
                log.write([record])

        threads = [
            threading.Thread(target=client, args=(records[k * share : (k + 1) * share],))
            for k in range(THREADS)
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return share * THREADS / (time.perf_counter() - started)


def _raw_tuples(records: list[PredictionRecord]) -> list[tuple[Any, ...]]:
    dump = json.dumps
    return [
        (
            r.id, r.created_at.replace(tzinfo=None).isoformat(" "), r.model_version, r.model_name,
            dump(r.inputs), dump(r.probabilities), r.prediction, r.confidence, r.ood_score,
            r.is_ood, dump(list(r.prediction_set)), r.decision, r.reason, r.defer_reason,
            r.unknown_values, r.latency_ms, hour_of(r.created_at), len(r.prediction_set),
        )
        for r in records
    ]  # fmt: skip


_COLUMNS = (
    "id, created_at, model_version, model_name, inputs, probabilities, prediction, confidence, "
    "ood_score, is_ood, prediction_set, decision, reason, defer_reason, unknown_values, "
    "latency_ms, hour, set_size"
)
_INSERT = (  # every column the log writes, so that the reference updates the same indexes
    f"INSERT INTO predictions ({_COLUMNS}) VALUES ({', '.join('?' * 18)}) ON CONFLICT DO NOTHING"
)
_CASES = "INSERT INTO review_cases (prediction_id, created_at) VALUES (?, ?)"


def _reference_rate(path: Path, records: list[PredictionRecord], per_commit: int) -> float:
    """Raw sqlite3 on the migrated schema, WAL and FULL: ``per_commit`` rows per transaction."""
    with SqlPredictionLog.open(path):
        pass
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    started = time.perf_counter()
    rows = _raw_tuples(records)
    for i in range(0, len(rows), per_commit):
        chunk = rows[i : i + per_commit]
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(_INSERT, chunk)
        connection.executemany(_CASES, [(r[0], r[1]) for r in chunk if r[11] == "review"])
        connection.execute("COMMIT")
    rate = len(records) / (time.perf_counter() - started)
    connection.close()
    return rate


def run() -> dict[str, Any]:
    """Measure and return the figures (rows per second and ratios to the references)."""
    records = _records(ROWS)
    few = records[: ROWS // 10]
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        reference = _reference_rate(base / "ref.db", records, per_commit=ROWS)
        reference_64 = _reference_rate(base / "ref64.db", records, per_commit=BATCH)
        full = _log_rate(base / "full.db", records, "FULL")
        normal = _log_rate(base / "normal.db", records, "NORMAL")
        reference_1 = _reference_rate(base / "ref1.db", few, per_commit=1)
        threaded = _threaded_rate(base / "threads.db", few)
    return {
        "rows": ROWS,
        "batch_rows": BATCH,
        "reference_one_transaction_rows_per_s": round(reference),
        "reference_64_per_commit_rows_per_s": round(reference_64),
        "full_rows_per_s": round(full),
        "normal_rows_per_s": round(normal),
        "full_ratio_to_reference": round(full / reference, 3),
        "normal_ratio_to_reference": round(normal / reference, 3),
        "full_ratio_to_raw_64_per_commit": round(full / reference_64, 3),
        "reference_one_row_per_commit_rows_per_s": round(reference_1),
        "one_row_writes_8_threads_full_rows_per_s": round(threaded),
        "one_row_writes_ratio_to_raw_one_row_commits": round(threaded / reference_1, 3),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
