"""The feedback and review-queue methods of every log, written once over a backend's hooks."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Collection, Iterable
from datetime import datetime

from prudent.store._core import LogCore, check_id, check_positive
from prudent.store._records import FeedbackEntry, FeedbackResult, ReviewCase, as_utc
from prudent.store._rules import check_allowed, check_name

__all__ = ["FeedbackMethods"]


class FeedbackMethods(LogCore):
    """Labels, their history, and the review queue's claims."""

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
        return self.add_feedback_many(
            [(prediction_id, label)],
            source=source,
            received_at=received_at,
            allowed_labels=allowed_labels,
        )[0]

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
        self._check_open()
        source = check_name(source, "source")
        when = self._clock() if received_at is None else as_utc(received_at, "received_at")
        pairs = [(check_id(pid), check_allowed(label, allowed_labels)) for pid, label in items]
        return self._record_labels(pairs, source, when) if pairs else []

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
        self._check_open()
        return self._feedback_history(check_id(prediction_id))

    # -- review ------------------------------------------------------------------------------
    def list_review(self, limit: int = 50, offset: int = 0) -> list[ReviewCase]:
        """Return open review cases (decided ``review``, not yet labelled), oldest first.

        Parameters
        ----------
        limit
            Most cases returned.
        offset
            Cases skipped first.

        Returns
        -------
        list of ReviewCase
            With who holds each case, if anyone.
        """
        self._check_open()
        limit = check_positive(limit, "limit")
        return self._list_review(limit, check_positive(offset, "offset", minimum=0))

    def claim(self, prediction_id: str, reviewer: str) -> ReviewCase:
        """Give an open review case to ``reviewer``; claiming one's own case again is harmless.

        Parameters
        ----------
        prediction_id
            The case.
        reviewer
            Who takes it.

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
            When another reviewer holds it.
        """
        self._check_open()
        reviewer = check_name(reviewer, "reviewer")
        return self._claim(check_id(prediction_id), reviewer, self._clock())

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
        self._check_open()
        reviewer = check_name(reviewer, "reviewer")
        self._release(check_id(prediction_id), reviewer, force)

    # -- hooks -------------------------------------------------------------------------------
    @abstractmethod
    def _record_labels(
        self, pairs: list[tuple[str, str]], source: str, when: datetime
    ) -> list[FeedbackResult]: ...

    @abstractmethod
    def _feedback_history(self, prediction_id: str) -> list[FeedbackEntry]: ...

    @abstractmethod
    def _list_review(self, limit: int, offset: int) -> list[ReviewCase]: ...

    @abstractmethod
    def _claim(self, prediction_id: str, reviewer: str, now: datetime) -> ReviewCase: ...

    @abstractmethod
    def _release(self, prediction_id: str, reviewer: str, force: bool) -> None: ...
