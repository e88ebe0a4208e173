"""R-DURABLE-ACK at the store: every id acknowledged before ``kill -9`` is in the log after it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from prudent.store import SqlPredictionLog

CHILD = Path(__file__).with_name("_durability_child.py")
ROOT = Path(__file__).resolve().parents[2]
WANTED = 400  # acknowledged ids to read before the kill


def _acknowledged_then_killed(url: str, synchronous: str) -> list[str]:
    """Run the child, read ``WANTED`` ids, SIGKILL it mid-stream; return every printed id."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, str(CHILD), url, synchronous],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        try:
            while len(lines) < WANTED:
                line = child.stdout.readline()
                if not line:
                    break
                lines.append(line)
            os.kill(child.pid, signal.SIGKILL)
            lines.append(child.stdout.read())  # what was printed before the kill
        finally:
            child.kill()
            child.wait(timeout=10)
        errors = child.stderr.read()
    assert child.returncode == -signal.SIGKILL, f"the child ended by itself: {errors[-2000:]}"
    ids = [i for i in "".join(lines).split("\n")[:-1] if i]  # a cut last line is not an ack
    assert len(ids) >= WANTED, f"the child acknowledged only {len(ids)} ids: {errors[-2000:]}"
    return ids


@pytest.mark.timeout(90)
@pytest.mark.parametrize(
    ("sql_url", "synchronous"),
    [
        ("sqlite", "FULL"),
        ("sqlite", "NORMAL"),
        pytest.param("postgres", "FULL", marks=pytest.mark.postgres),
    ],
    indirect=["sql_url"],
)
def test_every_acknowledged_prediction_survives_kill_9(sql_url: str, synchronous: str) -> None:
    acknowledged = _acknowledged_then_killed(sql_url, synchronous)
    with SqlPredictionLog.open(sql_url) as log:
        assert log.integrity_check() == []
        stored = {r.id for r in log.iter_predictions(batch_size=500)}
        missing = set(acknowledged) - stored
        assert not missing, f"{len(missing)} acknowledged ids are not in the log"
        assert len(stored) >= len(acknowledged)
        review = sum(1 for r in log.iter_predictions() if r.decision == "review")
        assert log.count_review() == review  # each write committed both of its tables, or none
    if sql_url.startswith("sqlite"):
        engine = sa.create_engine(sql_url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        engine.dispose()
