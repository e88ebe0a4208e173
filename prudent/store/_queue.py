"""What enters the review queue, and how a case's state reads: the store's side of the queue.

The store persists cases; which predictions become cases and in what order they are served
is policy, given to the log as a :data:`Triage` function (``prudent.feedback.QueuePolicy`` is
the project's; the store's default, :func:`review_only`, queues every ``review`` first come,
first served).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from prudent.errors import ConfigError
from prudent.models._decisions import DecisionKind
from prudent.store._records import CaseStatus, PredictionRecord

__all__ = [
    "AUDIT_REASON",
    "DEFAULT_LEASE",
    "SERVED",
    "CaseStatus",
    "QueueEntry",
    "Triage",
    "case_state",
    "check_lease",
    "holder",
    "review_only",
]

DEFAULT_LEASE = timedelta(minutes=15)
"""How long a claim lasts unless renewed; an expired claim returns the case to the queue."""
SERVED = ("open", "claimed")
"""The statuses ``claim_next`` serves from; skipped and flagged cases wait to be claimed by id."""
AUDIT_REASON = "audit"
"""The reason of a case drawn from accepted predictions to measure their accuracy."""


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """How a prediction enters the queue.

    Parameters
    ----------
    priority
        Lower is served first; ties go to the older case.
    audit
        Whether the case is an audit of an accepted prediction rather than a deferral.
    """

    priority: float
    audit: bool = False


Triage = Callable[[PredictionRecord], QueueEntry | None]
"""Given a logged prediction, its queue entry, or None when it does not enter the queue."""


def review_only(record: PredictionRecord) -> QueueEntry | None:
    """Queue every prediction decided ``review``, first come first served; nothing else.

    Parameters
    ----------
    record
        The logged prediction.

    Returns
    -------
    QueueEntry or None
        Priority 0 for a review, None otherwise.

    Examples
    --------
    >>> r = PredictionRecord(model_version="v", model_name="m", inputs={}, probabilities={},
    ...                      prediction=None, decision="review")
    >>> review_only(r)
    QueueEntry(priority=0.0, audit=False)
    """
    return QueueEntry(0.0) if record.decision is DecisionKind.REVIEW else None


def holder(claimed_by: str | None, expires: datetime | None, now: datetime) -> str | None:
    """Return who holds a case at ``now``: nobody once the lease has expired.

    Parameters
    ----------
    claimed_by
        The reviewer recorded on the case.
    expires
        When the lease ends (None: it never ends, as for claims made before leases).
    now
        The current time.

    Returns
    -------
    str or None
        The holder, or None.

    Examples
    --------
    >>> from datetime import UTC
    >>> t = datetime(2024, 1, 1, tzinfo=UTC)
    >>> holder("ana", t, t - timedelta(seconds=1)), holder("ana", t, t)
    ('ana', None)
    """
    if claimed_by is None or (expires is not None and expires <= now):
        return None
    return claimed_by


def case_state(
    status: str, claimed_by: str | None, expires: datetime | None, now: datetime
) -> tuple[CaseStatus, str | None]:
    """Return a stored case's status and holder as they stand at ``now``.

    Parameters
    ----------
    status
        The stored status.
    claimed_by, expires
        The stored claim and its lease's end.
    now
        The current time.

    Returns
    -------
    tuple of CaseStatus and str or None
        A claim whose lease has ended reads as ``open``; only a claimed case has a holder.

    Examples
    --------
    >>> from datetime import UTC
    >>> t = datetime(2024, 1, 1, tzinfo=UTC)
    >>> case_state("claimed", "ana", t, t), case_state("labeled", "ana", None, t)
    ((<CaseStatus.OPEN: 'open'>, None), (<CaseStatus.LABELED: 'labeled'>, None))
    """
    state = CaseStatus(status)
    if state is not CaseStatus.CLAIMED:
        return state, None
    held = holder(claimed_by, expires, now)
    return (state, held) if held is not None else (CaseStatus.OPEN, None)


def check_lease(lease: object) -> timedelta:
    """Return ``lease`` when it is a positive ``timedelta``.

    Parameters
    ----------
    lease
        How long a claim lasts.

    Returns
    -------
    timedelta
        ``lease`` unchanged.

    Raises
    ------
    ConfigError
        Otherwise.

    Examples
    --------
    >>> check_lease(timedelta(minutes=5))
    datetime.timedelta(seconds=300)
    """
    if not isinstance(lease, timedelta) or lease <= timedelta(0):
        raise ConfigError(
            f"lease must be a positive datetime.timedelta, but {lease!r} was received; "
            "e.g. timedelta(minutes=15)."
        )
    return lease
