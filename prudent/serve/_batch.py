"""What one served request produced: the predictions, their ids, and their log records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from prudent.models import Predictions
from prudent.serve._metrics import ServeMetrics
from prudent.serve._rows import Rows, logged_inputs
from prudent.store import PredictionRecord, new_prediction_id

__all__ = ["LogRows", "PredictionBatch", "Tally", "build_records"]


@dataclass(frozen=True)
class PredictionBatch:
    """The answer to one prediction request, already committed to the log.

    Attributes
    ----------
    predictions
        The rows' predictions and decisions.
    ids
        The prediction ids, in row order.
    model_name
        The served model's name.
    model_version
        The bundle hash prefix.
    fallback
        ``None`` when the primary path answered, else ``"backup"`` or ``"review"``.
    """

    predictions: Predictions
    ids: list[str]
    model_name: str
    model_version: str
    fallback: str | None = None

    @property
    def frame(self) -> pd.DataFrame:
        """``prediction_id`` then the columns of the prediction table, one row per input row."""
        table = self.predictions.to_frame()
        table.insert(0, "prediction_id", self.ids)
        return table

    def rows(self) -> list[dict[str, Any]]:
        """Return one JSON-ready dict per row (NaN as None, the prediction set as a list).

        Returns
        -------
        list of dict
            Keys: ``prediction_id`` and the columns of the prediction table.
        """
        rows = self.predictions.rows()
        return [{"prediction_id": pid, **row} for pid, row in zip(self.ids, rows, strict=True)]


def build_records(
    rows: Rows,
    predictions: Predictions,
    *,
    model_name: str,
    model_version: str,
    latency_ms: float,
    clock: Callable[[], datetime],
) -> tuple[list[str], list[PredictionRecord]]:
    """Give every predicted row an id and build the records the log stores.

    The record's prediction fields are the output table's (``Predictions.records``): a new
    output column reaches the log without a change here.

    Parameters
    ----------
    rows
        The rows received (logged as the inputs, :func:`~prudent.serve._rows.logged_inputs`).
    predictions
        Their predictions.
    model_name, model_version
        What served them.
    latency_ms
        Time spent producing the predictions.
    clock
        Returns the current UTC time.

    Returns
    -------
    tuple of (list of str, list of PredictionRecord)
        The ids, and one record per row.
    """
    ids = [new_prediction_id() for _ in range(len(predictions))]
    now = clock()
    records = [
        PredictionRecord(
            id=pid,
            model_version=model_version,
            model_name=model_name,
            inputs=given,
            latency_ms=latency_ms,
            created_at=now,
            **values,
        )
        for pid, given, values in zip(ids, logged_inputs(rows), predictions.records(), strict=True)
    ]
    return ids, records


@dataclass(frozen=True)
class Tally:
    """What a served batch adds to the metrics, computed off the event loop, applied after the
    rows are committed (a prediction that was not logged is not counted)."""

    decisions: dict[str, int]
    confidences: list[float]
    ood_scores: list[float]

    @classmethod
    def of(cls, predictions: Predictions) -> Tally:
        """Tally a batch's predictions."""
        confidence, ood = predictions.confidence, predictions.ood_score
        return cls(
            dict(Counter(str(d) for d in predictions.decision)),
            [float(v) for v in confidence[~np.isnan(confidence)]],
            [float(v) for v in ood[~np.isnan(ood)]],
        )

    def apply(self, metrics: ServeMetrics) -> None:
        """Add the tally to ``metrics``."""
        for decision, n in self.decisions.items():
            metrics.predictions.labels(decision=decision).inc(n)
        for value in self.confidences:
            metrics.confidence.observe(value)
        for value in self.ood_scores:
            metrics.ood_score.observe(value)


@dataclass(frozen=True)
class LogRows:
    """A request's rows ready for the log: their ids, records and the metrics' tally.

    Built off the event loop (on the model's thread, right after the predictions); when the
    records could not be built, ``records`` holds the exception, which the request raises.
    """

    ids: list[str]
    records: list[PredictionRecord] | Exception
    tally: Tally

    @classmethod
    def build(
        cls,
        predictions: Predictions,
        records: Callable[[], tuple[list[str], list[PredictionRecord]]],
    ) -> LogRows:
        """Tally ``predictions`` and call ``records`` (:func:`build_records` on their rows)."""
        try:
            ids, built = records()
        except Exception as exc:  # raised by the request, as when built on the event loop
            return cls([], exc, Tally({}, [], []))
        return cls(ids, built, Tally.of(predictions))
