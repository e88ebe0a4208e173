"""The store benchmark's reference, raw sqlite3, writes rows the log reads back as its own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from benchmarks.bench_store import _records, _reference_rate
from prudent.store import hour_of


def test_the_raw_reference_writes_every_column_the_log_writes(tmp_path: Path) -> None:
    records = _records(40)
    assert _reference_rate(tmp_path / "ref.db", records, per_commit=16) > 0
    with sqlite3.connect(tmp_path / "ref.db") as db:
        rows = db.execute("SELECT id, hour, set_size, decision FROM predictions").fetchall()
        cases = db.execute("SELECT count(*) FROM review_cases").fetchone()[0]
    assert sorted(rows) == sorted(
        (r.id, hour_of(r.created_at), len(r.prediction_set), r.decision) for r in records
    )
    assert cases == sum(r.decision == "review" for r in records)
