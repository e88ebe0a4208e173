"""Labelled feedback from the prediction log, as rows to learn from and rows to judge on.

Every labelled prediction counts (review cases, the audit slice, labels sent to
``/feedback``); a corrected label is read as its latest value (the log keeps the history).
The same inputs labelled twice are one row, the latest label winning. Rows are split by age:
the older ones join the training table; the most recent are split again, alternately, into
rows that recalibrate and re-tune the challenger and rows that neither model is fitted on,
kept for the promotion gate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from prudent.data import Schema, validate_frame
from prudent.store import SqlPredictionLog

__all__ = [
    "FeedbackIds", "FeedbackParts", "labelled_feedback", "row_keys", "split_feedback",
    "validated_keys",
]  # fmt: skip

ID = "prediction_id"


def row_keys(X: pd.DataFrame, columns: list[str]) -> np.ndarray[Any, Any]:
    """One hash per row of the given input columns, equal for equal values after validation.

    Examples
    --------
    >>> X = pd.DataFrame({"a": [1.0, 1.0, None], "b": ["x", "x", "y"]})
    >>> k = row_keys(X, ["a", "b"])
    >>> bool(k[0] == k[1]), bool(k[0] == k[2])
    (True, False)
    """
    text = X[columns].astype("string").fillna("\x00missing")
    return pd.util.hash_pandas_object(text, index=False).to_numpy(dtype=np.uint64)


def labelled_feedback(
    log_url: str, schema: Schema, classes: list[Any], since: datetime | None = None
) -> pd.DataFrame:
    """Every labelled prediction of the log: its inputs as received and the target (in the
    classes' own type), indexed by ``prediction_id``, oldest first; labels outside
    ``classes`` are left out.

    The log's own fields stay out of the columns, so that an input named like one of them
    (``created_at``, ``prediction``, ``label``…) is read as the input it is. Rows with the
    same inputs keep only the latest label.
    """
    with SqlPredictionLog.open(log_url) as log:
        raw = log.labelled_predictions(since=since, expand_inputs=False)
    by_text = {str(c): c for c in classes}
    raw = raw[raw["label"].astype(str).isin(list(by_text))]
    raw = raw.iloc[np.argsort(raw["created_at"].to_numpy(), kind="stable")]
    ids = pd.Index(raw[ID].astype(str).to_numpy(), name=ID)
    inputs = pd.DataFrame.from_records(list(raw["inputs"]), index=ids)
    rows = pd.DataFrame(index=ids)
    for name in schema.feature_names:
        rows[name] = inputs[name] if name in inputs.columns else None
    rows[schema.target] = raw["label"].astype(str).map(by_text).to_numpy()
    latest = ~pd.Series(validated_keys(rows, schema)).duplicated(keep="last").to_numpy()
    return rows[latest]


def validated_keys(rows: pd.DataFrame, schema: Schema) -> np.ndarray[Any, Any]:
    """:func:`row_keys` of rows as received, after validation against ``schema``."""
    X, _ = validate_frame(rows, schema)
    return row_keys(X, schema.feature_names)


@dataclass(frozen=True)
class FeedbackParts:
    """Labelled feedback split for a retrain.

    Attributes
    ----------
    fit
        Older rows, added to the training table.
    calibration
        Recent rows that recalibrate the challenger and set its thresholds.
    gate
        Recent rows neither model is fitted on, for the promotion gate.
    """

    fit: pd.DataFrame
    calibration: pd.DataFrame
    gate: pd.DataFrame

    def ids(self) -> dict[str, list[str]]:
        """The prediction ids of each part (kept in the challenger's manifest)."""
        parts = {"fit": self.fit, "calibration": self.calibration, "gate": self.gate}
        return {k: [str(i) for i in v.index] for k, v in parts.items()}


@dataclass(frozen=True)
class FeedbackIds:
    """The feedback a retrained bundle learned from, by part, as its manifest keeps it
    (``retrain.feedback_ids``, written from :meth:`FeedbackParts.ids`).

    Attributes
    ----------
    fit, calibration
        The prediction ids it was fitted and calibrated on.
    gate
        The ids kept for its promotion gate; None for a bundle ``prudent retrain`` did not
        make (its fitted feedback is unknown).
    """

    fit: frozenset[str] = frozenset()
    calibration: frozenset[str] = frozenset()
    gate: frozenset[str] | None = None

    @classmethod
    def of(cls, manifest: Mapping[str, Any]) -> FeedbackIds:
        """Read them from a bundle's manifest (none for a bundle retrain did not make).

        Examples
        --------
        >>> ids = {"fit": ["a"], "calibration": ["b"], "gate": ["c"]}
        >>> sorted(FeedbackIds.of({"retrain": {"feedback_ids": ids}}).used)
        ['a', 'b']
        >>> FeedbackIds.of({}).gate is None
        True
        """
        ids = manifest.get("retrain", {}).get("feedback_ids", {})
        fit, calibration, gate = (ids.get(part) for part in ("fit", "calibration", "gate"))
        return cls(
            frozenset(map(str, fit or ())),
            frozenset(map(str, calibration or ())),
            None if gate is None else frozenset(map(str, gate)),
        )

    @property
    def used(self) -> frozenset[str]:
        """The ids it was fitted or calibrated on."""
        return self.fit | self.calibration


def split_feedback(rows: pd.DataFrame, recent_share: float = 0.5) -> FeedbackParts:
    """Split feedback (oldest first, indexed by prediction id) by age: the most recent
    ``recent_share`` is split alternately into calibration and gate rows, the rest is for
    fitting.

    Examples
    --------
    >>> rows = pd.DataFrame({"x": range(8)}, index=pd.Index(list("abcdefgh"), name=ID))
    >>> parts = split_feedback(rows)
    >>> parts.ids()
    {'fit': ['a', 'b', 'c', 'd'], 'calibration': ['e', 'g'], 'gate': ['f', 'h']}
    """
    start = len(rows) - round(len(rows) * recent_share)
    recent = rows.iloc[start:]
    return FeedbackParts(
        fit=rows.iloc[:start], calibration=recent.iloc[0::2], gate=recent.iloc[1::2]
    )
