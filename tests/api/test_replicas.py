"""Two ``prudent serve`` replicas on one PostgreSQL log under a bounded concurrent load.

Every acknowledged prediction is logged exactly once whichever replica answered, the review
cases both replicas opened are each claimed by exactly one of two concurrent reviewers,
and the monitor reads the union of what both replicas wrote.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

import prudent
from prudent.monitor import Reference, monitor_log
from prudent.store import SqlPredictionLog
from tests._postgres import create_database, postgres_url  # noqa: F401  (a fixture)
from tests.api._server import start_server
from tests.serve._bundles import input_rows

REQUESTS = 400
CONCURRENCY = 8
ENV = {"PRUDENT_DEADLINE_MS": "60000", "PRUDENT_MONITOR_INTERVAL_S": "1"}
"""A loaded test machine may pass the 2 s default deadline (a 504, not acknowledged, whose
rows may still be committed): this test is about the log, not latency. Both replicas run
their alert loop every second, so both compete for the evaluator's lease."""


def _load(urls: list[str]) -> tuple[list[str], list[int]]:
    """``REQUESTS`` one- to three-row requests from ``CONCURRENCY`` threads, alternating
    replicas; the ids of every 200 and the status of every answer."""
    rows = input_rows("numeric", 60, seed=4).to_dict(orient="records")

    def client(k: int) -> tuple[list[str], list[int]]:
        ids: list[str] = []
        codes: list[int] = []
        clients = [httpx.Client(base_url=u, timeout=60) for u in urls]
        try:
            for i in range(k, REQUESTS, CONCURRENCY):
                batch = rows[i % 57 : i % 57 + 1 + i % 3]
                answer = clients[i % 2].post("/predict", json={"records": batch})
                codes.append(answer.status_code)
                if answer.status_code == 200:
                    ids.extend(p["prediction_id"] for p in answer.json()["predictions"])
        finally:
            for c in clients:
                c.close()
        return ids, codes

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        done = list(pool.map(client, range(CONCURRENCY)))
    return [i for ids, _ in done for i in ids], [c for _, codes in done for c in codes]


def _lease_holders(url: str) -> list[str]:
    """Who holds the alert evaluator's lease (waits up to 60 s for a first evaluation)."""
    engine = sa.create_engine(url)
    try:
        for _ in range(120):
            with engine.connect() as c:
                query = sa.text("SELECT holder FROM leases WHERE name = 'monitor'")
                holders = [str(h) for (h,) in c.execute(query)]
            if holders:
                return holders
            time.sleep(0.5)
        return []
    finally:
        engine.dispose()


def _claim_all(url: str, reviewer: str, got: list[str]) -> None:
    with SqlPredictionLog.open(url) as log:
        while (case := log.claim_next(reviewer)) is not None:
            got.append(case.record.id)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_replicas_log_every_acknowledged_prediction_once(
    numeric_dir: Path,
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    url = create_database(postgres_url)
    servers = []
    try:
        for name in ("a", "b"):  # one after the other: the first migrates, the second finds it
            servers.append(
                start_server(
                    numeric_dir, tmp_path / name, "--no-auth", "--log-db", url, env=ENV, ready=False
                )
            )
            servers[-1].wait_ready(timeout=300)  # a loaded test machine loads bundles slowly
        acked, codes = _load([s.url for s in servers])
        holders = _lease_holders(url)  # while both run (a replica gives it up as it stops)
    finally:
        for s in servers:
            s.stop()
    assert codes == [200] * REQUESTS
    assert len(holders) == 1  # one alert evaluator's lease across both replicas
    assert len(acked) == len(set(acked)) == sum(1 + i % 3 for i in range(REQUESTS))
    with SqlPredictionLog.open(url) as log:
        assert log.count() == len(acked)  # no row lost, none written twice
        logged = [r.id for r in log.iter_predictions()]
        cases = log.count_review()
    assert sorted(logged) == sorted(acked)
    claims: dict[str, list[str]] = {"ann": [], "bob": []}
    reviewers = [threading.Thread(target=_claim_all, args=(url, n, c)) for n, c in claims.items()]
    for t in reviewers:
        t.start()
    for t in reviewers:
        t.join(60)
    both = claims["ann"] + claims["bob"]
    assert cases > 0 and len(both) == len(set(both)) == cases  # each case held by one reviewer
    report = monitor_log(url, Reference.from_bundle(prudent.load(numeric_dir)), window="day")
    assert sum(w.n for w in report.windows) == len(acked)  # the monitor reads both replicas
