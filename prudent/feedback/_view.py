"""A review case as JSON-ready data: what the CLI prints with ``--json`` and pages show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prudent.store import ReviewCase

__all__ = ["case_dict"]


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def case_dict(case: ReviewCase, *, inputs: bool = True) -> dict[str, Any]:
    """Return a case's fields as plain JSON data.

    Parameters
    ----------
    case
        The review case.
    inputs
        Include the prediction's inputs and probabilities (a listing leaves them out).

    Returns
    -------
    dict
        ``prediction_id``, ``status``, ``reason``, ``audit``, ``priority``, the claim, the
        model's answer and its time; with ``inputs``, also ``inputs``, ``probabilities``,
        ``prediction_set`` and ``decision_reason``.

    Examples
    --------
    >>> from prudent.store import PredictionRecord, ReviewCase
    >>> r = PredictionRecord(model_version="v", model_name="m", inputs={"x": 1},
    ...                      probabilities={"a": 0.6, "b": 0.4}, prediction=None,
    ...                      decision="review", defer_reason="low_confidence", confidence=0.6)
    >>> d = case_dict(ReviewCase(record=r, reason="low_confidence"))
    >>> d["status"], d["reason"], d["confidence"], d["inputs"]
    ('open', 'low_confidence', 0.6, {'x': 1})
    """
    r = case.record
    out: dict[str, Any] = {
        "prediction_id": r.id,
        "status": str(case.status),
        "reason": case.reason,
        "audit": case.audit,
        "priority": case.priority,
        "claimed_by": case.claimed_by,
        "lease_expires_at": _time(case.lease_expires_at),
        "prediction": r.prediction,
        "confidence": r.confidence,
        "is_ood": r.is_ood,
        "model_version": r.model_version,
        "created_at": _time(r.created_at),
    }
    if inputs:
        out.update(
            inputs=dict(r.inputs),
            probabilities=dict(r.probabilities),
            prediction_set=list(r.prediction_set),
            decision_reason=r.reason,
        )
    return out
