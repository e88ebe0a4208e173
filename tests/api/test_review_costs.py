"""The review queue's priority follows the cost matrix of the bundle served, across a hot swap."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from prudent.api import create_app
from prudent.bundle import Bundle
from prudent.config import Settings
from prudent.feedback import QueuePolicy, cost_table
from prudent.store import SqlPredictionLog
from tests.api.conftest import wait_ready
from tests.serve._bundles import input_rows


def _point(link: Path, target: Path) -> None:
    fresh = link.with_name(f".{link.name}.new")
    fresh.symlink_to(target)
    os.replace(fresh, link)


def test_a_hot_swap_brings_the_new_bundles_cost_matrix_to_the_queue(
    numeric_bundle: Bundle, tmp_path: Path
) -> None:
    costly = numeric_bundle.retune(costs="0,1;10,0")  # a missed second class costs 10
    costly_dir = costly.save(tmp_path / "costly")
    link = tmp_path / "served"
    link.symlink_to(numeric_bundle.path)
    url = f"sqlite:///{tmp_path / 'log.db'}"
    settings = Settings(bundle=link, log_db=url, no_auth=True, review_audit_share=1.0)
    records = input_rows("numeric", 12).to_dict(orient="records")
    with TestClient(create_app(settings)) as client:  # the service opens its own log
        wait_ready(client)
        before = client.post("/predict", json={"records": records}).json()["predictions"]
        _point(link, costly_dir)
        swapped = client.post("/admin/reload")
        assert swapped.status_code == 200 and swapped.json()["version"] == costly.version
        after = client.post("/predict", json={"records": records}).json()["predictions"]
    by_confidence = QueuePolicy(audit_share=1.0)
    by_cost = QueuePolicy(audit_share=1.0, costs=cost_table([[0, 1], [10, 0]], costly.classes))
    queued = {"accept", "review"}  # audited or deferred: each is a case
    with SqlPredictionLog.open(url) as log:
        for answers, policy in ((before, by_confidence), (after, by_cost)):
            ids = [p["prediction_id"] for p in answers if p["decision"] in queued]
            assert ids
            for i in ids:
                assert log.review_case(i).priority == pytest.approx(policy.priority(log.get(i)))
        moved = [
            by_cost.priority(log.get(p["prediction_id"]))
            - by_confidence.priority(log.get(p["prediction_id"]))
            for p in after
            if p["decision"] in queued
        ]
    assert max(abs(m) for m in moved) > 0.01, "the costs order the cases otherwise"
