"""Generated prediction logs with a known answer, written through the real store.

A stream has four numeric features ``x0..x3`` (standard normal unless shifted) and one
categorical ``colour``. Confidences come from a fixed distribution on [0.5, 1); each prediction
is right with probability equal to its confidence (calibrated by construction), so every figure
the monitor reports has a right answer computable from the arrays themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from prudent.bundle import Bundle
from prudent.data import ColumnSpec, Role, Schema
from prudent.monitor import Outcomes, Promises, Reference
from prudent.store import PredictionRecord, SqlPredictionLog, feedback_table, normalise_url
from tests._postgres import create_database, postgres_url  # noqa: F401  (a pytest fixture)
from tests.monitor.receiver import receiver  # noqa: F401  (a pytest fixture)

T0 = datetime(2024, 3, 1, tzinfo=UTC)
ACCEPT = 0.7
FEATURES = ["x0", "x1", "x2", "x3"]
SCHEMA = Schema(
    columns=(
        *(ColumnSpec(name, Role.numeric, "float64") for name in FEATURES),
        ColumnSpec("colour", Role.categorical, "str"),
    ),
    target="label",
)
SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Stream:
    """One generated stream: inputs, model outputs, true labels."""

    features: pd.DataFrame
    confidence: np.ndarray
    correct: np.ndarray
    decision: np.ndarray
    is_ood: np.ndarray
    ood_score: np.ndarray
    set_size: np.ndarray
    prediction: np.ndarray
    label: np.ndarray

    @property
    def covered(self) -> np.ndarray:
        return self.correct | (self.set_size == 2)


def make_stream(
    n: int,
    seed: int,
    *,
    shift: float = 0.0,
    ood_rate: float = 0.05,
    conf_shift: float = 0.0,
    calibrated: bool = True,
) -> Stream:
    """``n`` predictions; ``shift`` moves ``x0`` by that many SDs, ``conf_shift`` lowers the
    confidences, ``calibrated=False`` makes the model right 20 points less often than it says."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    x[:, 0] += shift
    features = pd.DataFrame(x, columns=FEATURES)
    features["colour"] = rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2])
    confidence = np.clip(0.5 + 0.5 * rng.beta(4.0, 1.5, n) - conf_shift, 0.5, 0.999)
    p_right = confidence if calibrated else np.clip(confidence - 0.2, 0.0, 1.0)
    correct = rng.random(n) < p_right
    prediction = rng.choice(["cat", "dog"], n, p=[0.6, 0.4])
    label = np.where(correct, prediction, np.where(prediction == "cat", "dog", "cat"))
    is_ood = rng.random(n) < ood_rate
    return Stream(
        features=features,
        confidence=confidence,
        correct=correct,
        decision=np.where(confidence >= ACCEPT, "accept", "review"),
        is_ood=is_ood,
        ood_score=rng.normal(size=n) + 3.0 * is_ood,
        set_size=np.where(confidence >= 0.9, 1, 2),
        prediction=prediction,
        label=label,
    )


def make_reference(
    n: int = 2000, seed: int = 10_000, ood_rate: float = 0.05, target: float = 0.9
) -> Reference:
    """The fit-time reference of :func:`make_stream` (unshifted), with its outcomes; accepted
    rows are right 87.5% of the time, so a realistic promise (a lower bound) is ``0.85``."""
    s = make_stream(n, seed, ood_rate=ood_rate)
    accepted = s.decision == "accept"
    return Reference(
        schema=SCHEMA,
        features=s.features,
        confidence=s.confidence,
        ood_score=s.ood_score,
        promises=Promises(
            ACCEPT, target, 0.1, ood_rate=float(s.is_ood.mean()), accept_rate=float(accepted.mean())
        ),
        model_version="v1",
        outcomes=Outcomes(s.confidence, accepted, s.correct, s.set_size.astype(float), s.is_ood),
    )


def records(
    s: Stream, start: datetime, step: timedelta, version: str = "v1"
) -> list[PredictionRecord]:
    """One record per prediction, ``step`` apart from ``start``."""
    other = {"cat": "dog", "dog": "cat"}
    rows = s.features.to_dict("records")
    out = []
    for i, row in enumerate(rows):
        pred, conf = str(s.prediction[i]), float(s.confidence[i])
        labels = (pred,) if s.set_size[i] == 1 else (pred, other[pred])
        out.append(
            PredictionRecord(
                model_version=version,
                model_name="pets",
                inputs=row,
                probabilities={pred: conf, other[pred]: 1 - conf},
                prediction=pred,
                decision=str(s.decision[i]),  # type: ignore[arg-type]
                confidence=conf,
                ood_score=float(s.ood_score[i]),
                is_ood=bool(s.is_ood[i]),
                prediction_set=labels,
                created_at=start + step * i,
            )
        )
    return out


def served_records(
    bundle: Bundle, frame: pd.DataFrame, start: datetime, step: timedelta
) -> list[PredictionRecord]:
    """What ``prudent serve`` logs for ``frame``: the bundle's predictions, one record a row."""
    inputs = frame.astype(object).where(frame.notna(), None)
    out = bundle.predict(inputs)
    return [
        PredictionRecord(
            model_version=bundle.version,
            model_name="served",
            inputs=given,
            probabilities={str(c): row[f"proba_{c}"] for c in bundle.classes},
            prediction=row["prediction"],
            confidence=row["confidence"],
            ood_score=row["ood_score"],
            is_ood=row["is_ood"],
            prediction_set=tuple(row["prediction_set"]),  # a list in Python
            decision=row["decision"],
            reason=row["reason"],
            created_at=start + step * i,
        )
        for i, (given, row) in enumerate(
            zip(inputs.to_dict("records"), out.to_dict("records"), strict=True)
        )
    ]


def write_log(
    url: str, batches: list[tuple[list[PredictionRecord], Any]], *, bulk_labels: bool = True
) -> None:
    """Write each batch of records through the store, then its ``(id, label)`` pairs.

    Labels go through ``add_feedback_many`` (about 3 ms a label) or, with ``bulk_labels``, one
    multi-row insert into the store's ``feedback`` table: the rows the store itself writes for
    a first label.
    """
    with SqlPredictionLog.open(url, synchronous="NORMAL", batch_rows=5000) as log:
        for recs, labels in batches:
            log.write(recs)
            if labels and not bulk_labels:
                log.add_feedback_many(labels, source="test")
    pairs = [pair for _, labels in batches if labels and bulk_labels for pair in labels]
    if pairs:
        engine = sa.create_engine(normalise_url(url))
        rows = [
            {"prediction_id": pid, "label": label, "source": "test", "received_at": T0}
            for pid, label in pairs
        ]
        with engine.begin() as connection:
            connection.execute(sa.insert(feedback_table), rows)
        engine.dispose()


def labels_of(recs: list[PredictionRecord], s: Stream, mask: Any = None) -> list[tuple[str, str]]:
    """``(id, true label)`` of the records picked by ``mask`` (all by default)."""
    keep = np.ones(len(recs), bool) if mask is None else np.asarray(mask)
    return [(r.id, str(s.label[i])) for i, r in enumerate(recs) if keep[i]]


@pytest.fixture
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL on the backend named by ``request.param`` (SQLite by default)."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'log.db'}"
    else:
        yield create_database(request.getfixturevalue("postgres_url"))
