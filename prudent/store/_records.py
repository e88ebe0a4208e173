"""The values the prediction log holds: predictions, feedback and review cases."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from prudent._json import json_value, label_text
from prudent.errors import DataError
from prudent.models._decisions import DecisionKind, DeferReason

__all__ = [
    "DECISIONS",
    "CaseStatus",
    "FeedbackEntry",
    "FeedbackResult",
    "FeedbackStatus",
    "PredictionRecord",
    "ReviewCase",
    "as_utc",
    "new_prediction_id",
    "utc_now",
]

DECISIONS: tuple[str, ...] = tuple(k.value for k in DecisionKind)
"""The values of :class:`~prudent.models.DecisionKind`, in order (for SQL that counts them)."""
_PLAIN_TYPES = frozenset((str, int, float, bool, type(None)))


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


def _plain_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, v in inputs.items():
        if type(v) in _PLAIN_TYPES and not (type(v) is float and not math.isfinite(v)):
            out[str(key)] = v
        else:
            out[str(key)] = json_value(v, f"inputs[{key!r}]")
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


def _member(enum: type[Any], value: Any, name: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise DataError(
            f"PredictionRecord.{name} must be one of {[m.value for m in enum]}, but {value!r} "
            "was received."
        ) from None


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
        Who answered: ``"accept"``, ``"rule"``, ``"backup"`` or ``"review"``.
    confidence
        The confidence of the prediction, when there is one.
    ood_score
        The out-of-distribution score, when a detector ran.
    is_ood
        Whether the row was judged out of distribution.
    prediction_set
        The conformal prediction set.
    reason
        Why the decision was taken, as a sentence for people.
    defer_reason
        Why the row went to review (``"low_confidence"``, ``"rule"``, …); ``None`` when it
        did not, and for reviews logged before the reason was recorded.
    unknown_values
        The input columns holding a value the training rows never held, comma-separated;
        ``None`` when none, when the bundle keeps no training values, and for rows logged
        before it was recorded.
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
    defer_reason: DeferReason | None = None
    unknown_values: str | None = None
    latency_ms: float | None = None
    id: str = field(default_factory=new_prediction_id)
    created_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "decision", _member(DecisionKind, self.decision, "decision"))
        if self.defer_reason is not None:
            put(self, "defer_reason", _member(DeferReason, self.defer_reason, "defer_reason"))
            if self.decision is not DecisionKind.REVIEW:
                raise DataError(
                    f"PredictionRecord.defer_reason is {self.defer_reason.value!r}, but the "
                    f"decision is {self.decision.value!r}; only a review has a defer reason."
                )
        if not isinstance(self.id, str) or not 0 < len(self.id) <= 64:
            raise DataError(
                f"PredictionRecord.id must be a string of 1 to 64 characters, but {self.id!r} "
                "was received; use new_prediction_id()."
            )
        put(self, "inputs", _plain_inputs(self.inputs))
        put(self, "probabilities", _probabilities(self.probabilities))
        if self.prediction is not None:
            put(self, "prediction", label_text(self.prediction))
        put(self, "prediction_set", tuple(label_text(v) for v in self.prediction_set))
        put(self, "confidence", _optional_float(self.confidence))
        put(self, "ood_score", _optional_float(self.ood_score))
        put(self, "latency_ms", _optional_float(self.latency_ms))
        put(self, "is_ood", bool(self.is_ood))
        put(self, "unknown_values", self.unknown_values or None)
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


class CaseStatus(StrEnum):
    """Where a review case stands."""

    OPEN = "open"
    CLAIMED = "claimed"
    LABELED = "labeled"
    SKIPPED = "skipped"
    FLAGGED = "flagged"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewCase:
    """A case of the review queue: a prediction decided ``review`` (or drawn for audit).

    Parameters
    ----------
    record
        The logged prediction.
    claimed_by
        The reviewer holding it now, if any (nobody once the lease has expired).
    claimed_at
        When it was claimed.
    priority
        Its place in the queue: lower is served first.
    reason
        Why it is in the queue: the prediction's defer reason, or ``"audit"``.
    status
        ``open``, ``claimed``, ``labeled``, ``skipped`` or ``flagged`` (a
        :class:`~prudent.store.CaseStatus` value).
    audit
        Whether it is an audit of an accepted prediction.
    lease_expires_at
        When the current claim ends.
    """

    record: PredictionRecord
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    priority: float = 0.0
    reason: str | None = None
    status: CaseStatus = CaseStatus.OPEN
    audit: bool = False
    lease_expires_at: datetime | None = None
