"""Rows predicted by a bundle, written to a SQL prediction log with their true labels."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

import prudent
from prudent.serve._batch import build_records
from prudent.store import SqlPredictionLog


def log_with_labels(
    bundle: prudent.Bundle, url: str, rows: pd.DataFrame, target: str = "target"
) -> list[str]:
    """Predict ``rows`` (their inputs) with ``bundle``, log the predictions at ``url`` and
    each one's label from ``rows[target]`` as a reviewer's feedback; the prediction ids."""
    X = rows.drop(columns=[target])
    ids, records = build_records(
        X, bundle.predictions(X), model_name="m", model_version=bundle.version,
        latency_ms=1.0, clock=lambda: datetime.now(UTC),
    )  # fmt: skip
    with SqlPredictionLog.open(url) as log:
        log.write(records)
        for pid, label in zip(ids, rows[target], strict=True):
            log.add_feedback(pid, label, source="reviewer")
    return ids
