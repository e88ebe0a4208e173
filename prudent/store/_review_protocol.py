"""The seams of the people-facing loop: a feedback log and a review queue.

Both live on the prediction log's database (:class:`~prudent.store.LogStore`); the faces
that record labels or serve cases name only the part they use.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from prudent.store._queue import DEFAULT_LEASE
from prudent.store._records import CaseStatus, FeedbackEntry, FeedbackResult, ReviewCase

__all__ = ["FeedbackLog", "ReviewQueue"]


@runtime_checkable
class FeedbackLog(Protocol):
    """The true labels of logged predictions: created, duplicate or correction, all kept."""

    def add_feedback(
        self,
        prediction_id: str,
        label: object,
        *,
        source: str = "api",
        received_at: datetime | None = None,
        allowed_labels: Collection[object] | None = None,
    ) -> FeedbackResult:
        """Record the true label of a prediction.

        The same label as the current one stores nothing and reports ``duplicate``; a different
        one is stored as a ``correction`` and becomes the current label (earlier ones are kept).
        A label for an open review case closes it.

        Parameters
        ----------
        prediction_id
            The logged prediction.
        label
            Its true label (stored as text).
        source
            Who gives it: ``"api"``, or the reviewer's name.
        received_at
            When it was received; now by default.
        allowed_labels
            The model's classes, to refuse any other label.

        Returns
        -------
        FeedbackResult
            The status (created, duplicate, correction) and the stored label's time.

        Raises
        ------
        UnknownPredictionError
            When no prediction has that id.
        FeedbackError
            When the label is not allowed or ``source`` is empty.
        FeedbackConflictError
            When the case is claimed by a reviewer other than ``source``.
        """
        ...

    def add_feedback_many(
        self,
        items: Iterable[tuple[str, object]],
        *,
        source: str = "api",
        received_at: datetime | None = None,
        allowed_labels: Collection[object] | None = None,
    ) -> list[FeedbackResult]:
        """Record several labels in one transaction: all are stored, or none when one fails.

        Parameters
        ----------
        items
            ``(prediction_id, label)`` pairs, applied in order.
        source
            Who gives them.
        received_at
            When they were received; now by default.
        allowed_labels
            The model's classes, to refuse any other label.

        Returns
        -------
        list of FeedbackResult
            One per item, in order.

        Raises
        ------
        UnknownPredictionError, FeedbackError, FeedbackConflictError
            As :meth:`add_feedback`; nothing is stored then.
        """
        ...

    def feedback_history(self, prediction_id: str) -> list[FeedbackEntry]:
        """Return every label stored for a prediction, oldest first.

        Parameters
        ----------
        prediction_id
            The logged prediction.

        Returns
        -------
        list of FeedbackEntry
            Empty when it has no label yet.

        Raises
        ------
        UnknownPredictionError
            When no prediction has that id.
        """
        ...


@runtime_checkable
class ReviewQueue(Protocol):
    """The cases people label: predictions decided ``review`` and an audit slice of accepted ones.

    Cases are served in priority order (lower first, then oldest). A claim is a lease: it
    ends at ``lease_expires_at`` unless renewed, and the case returns to the queue. Two
    reviewers never hold the same case, across threads, processes and service replicas.
    """

    def list_review(self, limit: int = 50, offset: int = 0) -> list[ReviewCase]:
        """Return the cases not yet labelled in priority order, set-aside ones among them
        (``claim_next`` serves only the open ones).

        Parameters
        ----------
        limit
            Most cases returned.
        offset
            Cases skipped first.

        Returns
        -------
        list of ReviewCase
            With who holds each case now, if anyone.
        """
        ...

    def count_review(self) -> int:
        """Count the cases not yet labelled.

        Returns
        -------
        int
            Open and claimed cases.
        """
        ...

    def review_case(self, prediction_id: str) -> ReviewCase:
        """Return one case, whatever its status.

        Parameters
        ----------
        prediction_id
            The case.

        Returns
        -------
        ReviewCase
            Its prediction, reason, priority, status and holder.

        Raises
        ------
        UnknownPredictionError
            When no prediction has that id.
        FeedbackError
            When the prediction never entered the queue.
        """
        ...

    def claim(
        self, prediction_id: str, reviewer: str, *, lease: timedelta = DEFAULT_LEASE
    ) -> ReviewCase:
        """Give an open case to ``reviewer``; claiming one's own case again renews the lease.

        Parameters
        ----------
        prediction_id
            The case.
        reviewer
            Who takes it.
        lease
            How long the claim lasts.

        Returns
        -------
        ReviewCase
            The case, now held by ``reviewer``.

        Raises
        ------
        UnknownPredictionError
            When no prediction has that id.
        FeedbackError
            When the prediction is not an open review case.
        FeedbackConflictError
            When another reviewer holds it and the lease has not expired.
        """
        ...

    def claim_next(
        self, reviewer: str, *, lease: timedelta = DEFAULT_LEASE, resume: bool = False
    ) -> ReviewCase | None:
        """Claim the first case nobody holds, in priority order.

        Parameters
        ----------
        reviewer
            Who takes it.
        lease
            How long the claim lasts.
        resume
            Give back, its lease renewed, the first case ``reviewer`` already holds before
            claiming another: a person who opens the queue again sees the case in hand
            rather than taking a second one from everybody else.

        Returns
        -------
        ReviewCase or None
            The case, now held by ``reviewer``; None when every case is labelled or held.
        """
        ...

    def release(self, prediction_id: str, reviewer: str, *, force: bool = False) -> None:
        """Take a review case back from its reviewer, so that anyone may claim it.

        Parameters
        ----------
        prediction_id
            The case.
        reviewer
            Who releases it (must hold it, unless ``force``).
        force
            Release it whoever holds it (an administrator's action).

        Raises
        ------
        UnknownPredictionError
            When no prediction has that id.
        FeedbackError
            When the prediction was never a review case.
        FeedbackConflictError
            When another reviewer holds it and ``force`` is false.
        """
        ...

    def set_aside(self, prediction_id: str, reviewer: str, status: CaseStatus) -> ReviewCase:
        """Mark a case ``skipped`` or ``flagged`` and release it; ``claim_next`` passes it by.

        Parameters
        ----------
        prediction_id
            The case.
        reviewer
            Who sets it aside (must hold it, or nobody may).
        status
            ``CaseStatus.SKIPPED`` or ``CaseStatus.FLAGGED`` (for an administrator).

        Returns
        -------
        ReviewCase
            The case; claiming it by id or labelling it still works.

        Raises
        ------
        UnknownPredictionError
            When no prediction has that id.
        FeedbackError
            When the prediction is not an open review case, or for another status.
        FeedbackConflictError
            When another reviewer holds it.
        """
        ...
