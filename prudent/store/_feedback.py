"""The feedback and review-queue methods of every log, written once over a backend's hooks."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from prudent.errors import FeedbackError
from prudent.store._core import LogCore, check_id, check_positive
from prudent.store._queue import DEFAULT_LEASE, check_lease
from prudent.store._records import (
    CaseStatus,
    FeedbackEntry,
    FeedbackResult,
    ReviewCase,
    as_utc,
)
from prudent.store._review_protocol import FeedbackLog, ReviewQueue
from prudent.store._rules import check_allowed, check_name

__all__ = ["FeedbackMethods"]


class FeedbackMethods(LogCore, FeedbackLog, ReviewQueue):
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
        self._check_open()
        source = check_name(source, "source")
        when = self._clock() if received_at is None else as_utc(received_at, "received_at")
        pairs = [(check_id(pid), check_allowed(label, allowed_labels)) for pid, label in items]
        return self._record_labels(pairs, source, when) if pairs else []

    def feedback_history(self, prediction_id: str) -> list[FeedbackEntry]:
        self._check_open()
        return self._feedback_history(check_id(prediction_id))

    # -- review ------------------------------------------------------------------------------
    def list_review(self, limit: int = 50, offset: int = 0) -> list[ReviewCase]:
        self._check_open()
        limit = check_positive(limit, "limit")
        return self._list_review(limit, check_positive(offset, "offset", minimum=0), self._clock())

    def count_review(self) -> int:
        self._check_open()
        return self._count_review()

    def review_case(self, prediction_id: str) -> ReviewCase:
        self._check_open()
        return self._review_case(check_id(prediction_id), self._clock())

    def claim(
        self, prediction_id: str, reviewer: str, *, lease: timedelta = DEFAULT_LEASE
    ) -> ReviewCase:
        self._check_open()
        reviewer, lease = check_name(reviewer, "reviewer"), check_lease(lease)
        return self._claim(check_id(prediction_id), reviewer, self._clock(), lease)

    def claim_next(
        self, reviewer: str, *, lease: timedelta = DEFAULT_LEASE, resume: bool = False
    ) -> ReviewCase | None:
        self._check_open()
        reviewer, lease = check_name(reviewer, "reviewer"), check_lease(lease)
        return self._claim_next(reviewer, self._clock(), lease, resume)

    def release(self, prediction_id: str, reviewer: str, *, force: bool = False) -> None:
        self._check_open()
        reviewer = check_name(reviewer, "reviewer")
        self._release(check_id(prediction_id), reviewer, force, self._clock())

    def set_aside(self, prediction_id: str, reviewer: str, status: CaseStatus) -> ReviewCase:
        self._check_open()
        reviewer = check_name(reviewer, "reviewer")
        if status not in (CaseStatus.SKIPPED, CaseStatus.FLAGGED):
            raise FeedbackError(
                f"A case is set aside as 'skipped' or 'flagged', but {status!r} was received; "
                "label it or release it instead."
            )
        return self._put_aside(check_id(prediction_id), reviewer, status, self._clock())

    # -- hooks -------------------------------------------------------------------------------
    @abstractmethod
    def _record_labels(
        self, pairs: list[tuple[str, str]], source: str, when: datetime
    ) -> list[FeedbackResult]: ...

    @abstractmethod
    def _feedback_history(self, prediction_id: str) -> list[FeedbackEntry]: ...

    @abstractmethod
    def _list_review(self, limit: int, offset: int, now: datetime) -> list[ReviewCase]: ...

    @abstractmethod
    def _count_review(self) -> int: ...

    @abstractmethod
    def _review_case(self, prediction_id: str, now: datetime) -> ReviewCase: ...

    @abstractmethod
    def _claim(
        self, prediction_id: str, reviewer: str, now: datetime, lease: timedelta
    ) -> ReviewCase: ...

    @abstractmethod
    def _claim_next(
        self, reviewer: str, now: datetime, lease: timedelta, resume: bool
    ) -> ReviewCase | None: ...

    @abstractmethod
    def _put_aside(
        self, prediction_id: str, reviewer: str, status: CaseStatus, now: datetime
    ) -> ReviewCase: ...

    @abstractmethod
    def _release(self, prediction_id: str, reviewer: str, force: bool, now: datetime) -> None: ...
