"""What one served request produced: the prediction table, its ids, and their log records."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from prudent.serve._metrics import ServeMetrics
from prudent.store import PredictionRecord, new_prediction_id

__all__ = ["PredictionBatch", "Tally", "build_records", "json_rows"]


def _cell(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class PredictionBatch:
    """The answer to one prediction request, already committed to the log.

    Attributes
    ----------
    frame
        ``prediction_id`` then the columns of ``Bundle.predict``, one row per input row.
    model_name
        The served model's name.
    model_version
        The bundle hash prefix.
    fallback
        ``None`` when the primary path answered, else ``"backup"`` or ``"review"``.
    """

    frame: pd.DataFrame
    model_name: str
    model_version: str
    fallback: str | None = None

    @property
    def ids(self) -> list[str]:
        """The prediction ids, in row order."""
        return [str(v) for v in self.frame["prediction_id"]]

    def rows(self) -> list[dict[str, Any]]:
        """Return one JSON-ready dict per row (NaN as None, the prediction set as a list).

        Returns
        -------
        list of dict
            Keys: ``prediction_id`` and the columns of ``Bundle.predict``.
        """
        return json_rows(self.frame)


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of a prediction table as plain JSON data.

    Parameters
    ----------
    frame
        A table with the columns of ``Bundle.predict``.

    Returns
    -------
    list of dict
        numpy scalars unwrapped, NaN as None, ``prediction_set`` parsed into a list.

    Examples
    --------
    >>> import pandas as pd
    >>> json_rows(pd.DataFrame({"confidence": [float("nan")], "prediction_set": ['["a"]']}))
    [{'confidence': None, 'prediction_set': ['a']}]
    """
    rows = _records(frame)
    for row in rows:
        for key, value in row.items():
            row[key] = _cell(value)
        if isinstance(row.get("prediction_set"), str):
            row["prediction_set"] = json.loads(row["prediction_set"])
    return rows


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame.to_dict(orient="records")`` with Python scalars, in a fraction of its time."""
    names = [str(c) for c in frame.columns]
    return [dict(zip(names, row, strict=True)) for row in frame.to_numpy(dtype=object).tolist()]


def build_records(
    frame: pd.DataFrame,
    out: pd.DataFrame,
    *,
    classes: list[Any],
    model_name: str,
    model_version: str,
    latency_ms: float,
    clock: Callable[[], datetime],
) -> tuple[pd.DataFrame, list[PredictionRecord]]:
    """Give every predicted row an id and build the records the log stores.

    Parameters
    ----------
    frame
        The rows received (logged as the inputs).
    out
        Their predictions, columns of ``Bundle.predict``.
    classes
        The bundle's classes.
    model_name, model_version
        What served them.
    latency_ms
        Time spent producing the predictions.
    clock
        Returns the current UTC time.

    Returns
    -------
    tuple of (pandas.DataFrame, list of PredictionRecord)
        ``out`` with a leading ``prediction_id`` column, and one record per row.
    """
    ids = [new_prediction_id() for _ in range(len(out))]
    now = clock()
    records = []
    for pid, given, row in zip(ids, _records(frame), _records(out), strict=True):
        probas = {c: row[f"proba_{c}"] for c in classes}
        label = row["prediction"]
        records.append(
            PredictionRecord(
                id=pid,
                model_version=model_version,
                model_name=model_name,
                inputs={str(k): v for k, v in given.items()},
                probabilities={c: p for c, p in probas.items() if _cell(p) is not None},
                prediction=None if pd.isna(label) else label,
                decision=row["decision"],
                confidence=_cell(row["confidence"]),
                ood_score=_cell(row["ood_score"]),
                is_ood=bool(row["is_ood"]),
                prediction_set=tuple(json.loads(row["prediction_set"])),
                reason=str(row["reason"]),
                latency_ms=latency_ms,
                created_at=now,
            )
        )
    table = out.copy(deep=False)
    table.insert(0, "prediction_id", ids)
    return table, records


@dataclass(frozen=True)
class Tally:
    """What a served table adds to the metrics, computed off the event loop, applied after the
    rows are committed (a prediction that was not logged is not counted)."""

    decisions: dict[str, int]
    confidences: list[float]
    ood_scores: list[float]

    @classmethod
    def of(cls, table: pd.DataFrame) -> Tally:
        """Tally a table with the columns of ``Bundle.predict``.

        Examples
        --------
        >>> Tally.of(pd.DataFrame({"decision": ["accept", "review"], "confidence": [0.9, None],
        ...                        "ood_score": [0.1, 0.2]})).decisions
        {'accept': 1, 'review': 1}
        """
        return cls(
            dict(Counter(str(d) for d in table["decision"].tolist())),
            [float(v) for v in table["confidence"].dropna().tolist()],
            [float(v) for v in table["ood_score"].dropna().tolist()],
        )

    def apply(self, metrics: ServeMetrics) -> None:
        """Add the tally to ``metrics``."""
        for decision, n in self.decisions.items():
            metrics.predictions.labels(decision=decision).inc(n)
        for value in self.confidences:
            metrics.confidence.observe(value)
        for value in self.ood_scores:
            metrics.ood_score.observe(value)
