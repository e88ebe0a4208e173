"""The labelled-predictions table handed to monitoring and retraining, built the same for every
backend."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from prudent.errors import StoreError
from prudent.store._records import FeedbackEntry, PredictionRecord

__all__ = ["META_COLUMNS", "labelled_frame"]

META_COLUMNS = (
    "prediction_id",
    "created_at",
    "model_version",
    "model_name",
    "prediction",
    "confidence",
    "ood_score",
    "is_ood",
    "decision",
    "reason",
    "defer_reason",
    "unknown_values",
    "label",
    "label_source",
    "labelled_at",
)
"""The columns describing each prediction and its latest label, before the input columns."""


def _meta(pairs: Sequence[tuple[PredictionRecord, FeedbackEntry]]) -> pd.DataFrame:
    columns: dict[str, list[object]] = {name: [] for name in META_COLUMNS}
    for record, entry in pairs:
        values = (
            record.id,
            record.created_at,
            record.model_version,
            record.model_name,
            record.prediction,
            record.confidence,
            record.ood_score,
            record.is_ood,
            record.decision.value,
            record.reason,
            None if record.defer_reason is None else record.defer_reason.value,
            record.unknown_values,
            entry.label,
            entry.source,
            entry.received_at,
        )
        for name, value in zip(META_COLUMNS, values, strict=True):
            columns[name].append(value)
    frame = pd.DataFrame(columns, columns=list(META_COLUMNS))
    for name in ("created_at", "labelled_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True).astype("datetime64[us, UTC]")
    for name in ("confidence", "ood_score"):
        frame[name] = pd.to_numeric(frame[name]).astype("float64")
    frame["is_ood"] = frame["is_ood"].astype(bool)
    return frame


def labelled_frame(
    pairs: Sequence[tuple[PredictionRecord, FeedbackEntry]], *, expand_inputs: bool = True
) -> pd.DataFrame:
    """Return one row per labelled prediction: its metadata, latest label and logged inputs.

    Parameters
    ----------
    pairs
        Each prediction with its latest label, in the order wanted.
    expand_inputs
        One column per input feature (missing values as NaN) when true; a single ``inputs``
        column of dicts when false.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`META_COLUMNS`, then the inputs.

    Raises
    ------
    StoreError
        When an input feature has the name of a metadata column and ``expand_inputs`` is true.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> r = PredictionRecord(model_version="v1", model_name="m", inputs={"x": 2.0},
    ...                      probabilities={"a": 1.0}, prediction="a", decision="accept")
    >>> e = FeedbackEntry(prediction_id=r.id, label="b", source="api",
    ...                   received_at=datetime(2024, 1, 1, tzinfo=timezone.utc))
    >>> labelled_frame([(r, e)])[["prediction", "label", "x"]].to_dict("records")
    [{'prediction': 'a', 'label': 'b', 'x': 2.0}]
    """
    meta = _meta(pairs)
    if not expand_inputs:
        meta["inputs"] = pd.Series([dict(r.inputs) for r, _ in pairs], dtype=object)
        return meta
    inputs = pd.DataFrame.from_records([dict(r.inputs) for r, _ in pairs], index=meta.index)
    clash = sorted(set(inputs.columns) & set(META_COLUMNS))
    if clash:
        raise StoreError(
            f"The logged inputs have column(s) {clash} with the names of the frame's own columns; "
            "call labelled_predictions(expand_inputs=False) and expand the inputs yourself."
        )
    return pd.concat([meta, inputs], axis=1)
