"""Degraded answers, used only when the primary path fails or passes its deadline.

The bundle's own cascade (``Bundle.predict``) decides every normal prediction. When it cannot
answer in time, the backup model answers alone (decision ``backup``); when that fails too,
every row goes to people (decision ``review``). Both tables have the columns of
``Bundle.predict``, so callers handle one shape.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from prudent.data import validate_frame
from prudent.errors import ServiceError
from prudent.models._guarded import output_columns

if TYPE_CHECKING:
    from prudent.bundle import Bundle

__all__ = ["backup_answer", "review_answer"]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def backup_answer(bundle: Bundle, frame: pd.DataFrame, reason: str) -> pd.DataFrame:
    """Answer every row with the bundle's backup model alone (decision ``backup``).

    Parameters
    ----------
    bundle
        The bundle served.
    frame
        The rows received.
    reason
        Why the primary path did not answer; starts each row's ``reason``.

    Returns
    -------
    pandas.DataFrame
        The columns of ``Bundle.predict``; no OOD score (the detector reads the primary's
        probabilities) and a prediction set of the top label(s).

    Raises
    ------
    SchemaError
        When the rows do not fit the schema.
    ServiceError
        When the bundle has no backup model.
    """
    model = bundle.model
    if model.backup is None:
        raise ServiceError("The bundle has no backup model to answer in the primary's place.")
    X, _ = validate_frame(frame, bundle.schema)
    proba = model._proba(model.backup, model.backup_calibrator, X)
    classes = np.asarray(model.classes)
    top = proba.max(axis=1)
    out: dict[str, Any] = {"prediction": classes[proba.argmax(axis=1)], "confidence": top}
    out |= {f"proba_{c}": proba[:, i] for i, c in enumerate(classes)}
    sets = proba >= top[:, None]
    out |= {
        "ood_score": np.full(len(X), np.nan),
        "is_ood": np.zeros(len(X), dtype=bool),
        "prediction_set": [json.dumps([_plain(c) for c in classes[row]]) for row in sets],
        "decision": np.full(len(X), "backup", dtype=object),
        "reason": np.full(len(X), f"{reason}; the backup model answered", dtype=object),
    }
    return pd.DataFrame(out)[output_columns(np.asarray(classes))]


def review_answer(classes: list[Any], n_rows: int, reason: str) -> pd.DataFrame:
    """Send every row to review, with no prediction (decision ``review``).

    Parameters
    ----------
    classes
        The bundle's classes (for the probability columns, left empty).
    n_rows
        How many rows.
    reason
        Why no model answered.

    Returns
    -------
    pandas.DataFrame
        The columns of ``Bundle.predict``: no label, no probabilities, decision ``review``.

    Examples
    --------
    >>> review_answer(["no", "yes"], 1, "both models failed")[["decision", "prediction"]]
      decision prediction
    0   review       None
    """
    nothing = np.full(n_rows, np.nan)
    out: dict[str, Any] = {"prediction": np.full(n_rows, None, dtype=object)}
    out |= {"confidence": nothing} | {f"proba_{c}": nothing for c in classes}
    out |= {
        "ood_score": nothing,
        "is_ood": np.zeros(n_rows, dtype=bool),
        "prediction_set": np.full(n_rows, "[]", dtype=object),
        "decision": np.full(n_rows, "review", dtype=object),
        "reason": np.full(n_rows, f"{reason}; sent to review", dtype=object),
    }
    return pd.DataFrame(out)[output_columns(np.asarray(classes))]
