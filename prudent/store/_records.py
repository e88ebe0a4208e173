"""The values the prediction log holds: predictions, feedback and review cases."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Literal, TypeAlias, get_args

import numpy as np

from prudent.errors import DataError

__all__ = [
    "DECISIONS",
    "DecisionKind",
    "FeedbackEntry",
    "FeedbackResult",
    "FeedbackStatus",
    "PredictionRecord",
    "ReviewCase",
    "as_utc",
    "label_text",
    "new_prediction_id",
    "to_json_value",
    "utc_now",
]

DecisionKind: TypeAlias = Literal["accept", "rule", "backup", "review"]
"""How a prediction was decided: by the model, a rule, the backup model, or sent to review."""
DECISIONS: tuple[str, ...] = get_args(DecisionKind)

_PLAIN = (str, int, float, bool, type(None))
_PLAIN_TYPES = frozenset(_PLAIN)


def new_prediction_id() -> str:
    """Return a fresh random prediction id (a UUID4 in its 36-character text form).

    Returns
    -------
    str
        The id, unique with overwhelming probability.

    Examples
    --------
    >>> pid = new_prediction_id()
    >>> len(pid), pid.count("-")
    (36, 4)
    """
    return str(uuid.uuid4())


def utc_now() -> datetime:
    """Return the current time as a timezone-aware UTC datetime.

    Returns
    -------
    datetime
        Now, in UTC.

    Examples
    --------
    >>> utc_now().tzinfo
    datetime.timezone.utc
    """
    return datetime.now(UTC)


def as_utc(value: datetime, name: str) -> datetime:
    """Return ``value`` converted to UTC, refusing naive datetimes.

    Parameters
    ----------
    value
        A timezone-aware datetime.
    name
        What the value is, for the error message.

    Returns
    -------
    datetime
        The same instant in UTC.

    Raises
    ------
    DataError
        When ``value`` is not a datetime or carries no timezone.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> as_utc(datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))), "t").hour
    10
    """
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise DataError(
            f"{name} must be a timezone-aware datetime, but {value!r} was received; "
            "pass datetime.now(timezone.utc) or attach a tzinfo."
        )
    return value.astimezone(UTC)


def label_text(value: object) -> str:
    """Return the text form under which a class label is stored.

    Parameters
    ----------
    value
        A label: a string, a number or a numpy scalar.

    Returns
    -------
    str
        ``str`` of the plain Python value.

    Examples
    --------
    >>> import numpy as np
    >>> label_text(np.int64(2)), label_text("yes")
    ('2', 'yes')
    """
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, str) else str(value)


def to_json_value(value: Any, where: str = "value") -> Any:
    """Return ``value`` as plain JSON data: numpy scalars unwrapped, NaN and infinities as None.

    Parameters
    ----------
    value
        A scalar, mapping, sequence or numpy array.
    where
        What the value is, for the error message.

    Returns
    -------
    Any
        ``None``, bool, int, float, str, list or dict with string keys.

    Raises
    ------
    DataError
        When a value has a type JSON cannot hold.

    Examples
    --------
    >>> import numpy as np
    >>> to_json_value({"a": np.int64(1), "b": [np.float32(0.5), float("nan")]})
    {'a': 1, 'b': [0.5, None]}
    """
    if isinstance(value, np.generic):
        return to_json_value(value.item(), where)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [to_json_value(v, where) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise DataError(
        f"{where} holds a value of type {type(value).__name__} ({value!r}), but the prediction "
        "log stores JSON only (str, int, float, bool, None, lists, dicts); convert it first."
    )


def _plain_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, v in inputs.items():
        if type(v) in _PLAIN_TYPES and not (type(v) is float and not math.isfinite(v)):
            out[str(key)] = v
        else:
            out[str(key)] = to_json_value(v, f"inputs[{key!r}]")
    return out


def _probabilities(probabilities: Mapping[Any, Any]) -> dict[str, float]:
    out = {label_text(k): float(v) for k, v in probabilities.items()}
    bad = [k for k, p in out.items() if not math.isfinite(p)]
    if bad:
        raise DataError(
            f"probabilities[{bad[0]!r}] is {out[bad[0]]}, but probabilities must be finite; "
            "check the model's output."
        )
    return out


def _optional_float(value: float | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class PredictionRecord:
    """One logged prediction: what came in, what the model said, and how it was decided.

    Values are normalised on construction: inputs become plain JSON data (numpy scalars
    unwrapped, NaN as None), labels become text, ``created_at`` becomes UTC.

    Parameters
    ----------
    model_version
        The bundle hash.
    model_name
        The bundle's name.
    inputs
        Feature name → value, as received.
    probabilities
        Class label → probability.
    prediction
        The predicted label, or None when the case was deferred without one.
    decision
        ``"accept"``, ``"rule"``, ``"backup"`` or ``"review"``.
    confidence
        The confidence of the prediction, when there is one.
    ood_score
        The out-of-distribution score, when a detector ran.
    is_ood
        Whether the row was judged out of distribution.
    prediction_set
        The conformal prediction set.
    reason
        Why the decision was taken (for example ``"low_confidence"``).
    latency_ms
        Time spent producing the prediction.
    id
        The prediction id; a fresh UUID4 by default.
    created_at
        When the prediction was made; now by default.

    Examples
    --------
    >>> r = PredictionRecord(model_version="abc", model_name="iris", inputs={"x": 1.5},
    ...                      probabilities={0: 0.9, 1: 0.1}, prediction=0, decision="accept")
    >>> r.prediction, r.probabilities
    ('0', {'0': 0.9, '1': 0.1})
    """

    model_version: str
    model_name: str
    inputs: Mapping[str, Any]
    probabilities: Mapping[str, float]
    prediction: str | None
    decision: DecisionKind
    confidence: float | None = None
    ood_score: float | None = None
    is_ood: bool = False
    prediction_set: tuple[str, ...] = ()
    reason: str = ""
    latency_ms: float | None = None
    id: str = field(default_factory=new_prediction_id)
    created_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise DataError(
                f"PredictionRecord.decision must be one of {list(DECISIONS)}, but "
                f"{self.decision!r} was received."
            )
        if not isinstance(self.id, str) or not 0 < len(self.id) <= 64:
            raise DataError(
                f"PredictionRecord.id must be a string of 1 to 64 characters, but {self.id!r} "
                "was received; use new_prediction_id()."
            )
        put = object.__setattr__
        put(self, "inputs", _plain_inputs(self.inputs))
        put(self, "probabilities", _probabilities(self.probabilities))
        if self.prediction is not None:
            put(self, "prediction", label_text(self.prediction))
        put(self, "prediction_set", tuple(label_text(v) for v in self.prediction_set))
        put(self, "confidence", _optional_float(self.confidence))
        put(self, "ood_score", _optional_float(self.ood_score))
        put(self, "latency_ms", _optional_float(self.latency_ms))
        put(self, "is_ood", bool(self.is_ood))
        put(self, "created_at", as_utc(self.created_at, "PredictionRecord.created_at"))


class FeedbackStatus(StrEnum):
    """What recording a label did."""

    CREATED = "created"
    """The first label for this prediction was stored."""
    DUPLICATE = "duplicate"
    """The label equals the current one; nothing new was stored."""
    CORRECTION = "correction"
    """A different label was stored; it is now the current one, the earlier ones are kept."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedbackResult:
    """The outcome of :meth:`PredictionLog.add_feedback`.

    Parameters
    ----------
    prediction_id
        The prediction labelled.
    label
        The label given.
    status
        Created, duplicate or correction.
    source
        Who gave it (``"api"`` or a reviewer's name).
    received_at
        When the stored label was received (for a duplicate: the earlier one).
    previous_label
        The current label before this call, if any.
    """

    prediction_id: str
    label: str
    status: FeedbackStatus
    source: str
    received_at: datetime
    previous_label: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedbackEntry:
    """One stored label of a prediction.

    Parameters
    ----------
    prediction_id
        The prediction labelled.
    label
        The label.
    source
        Who gave it.
    received_at
        When it was received.
    """

    prediction_id: str
    label: str
    source: str
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewCase:
    """An open case of the review queue: a prediction decided ``review`` and not yet labelled.

    Parameters
    ----------
    record
        The logged prediction.
    claimed_by
        The reviewer working on it, if any.
    claimed_at
        When it was claimed.
    """

    record: PredictionRecord
    claimed_by: str | None = None
    claimed_at: datetime | None = None
