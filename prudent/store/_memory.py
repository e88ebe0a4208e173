"""A prediction log held in memory, for unit tests: the same behaviour as the SQL one."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta

from prudent.store._base import LogBase
from prudent.store._core import Window
from prudent.store._queue import (
    AUDIT_REASON,
    SERVED,
    QueueEntry,
    Triage,
    case_state,
    holder,
    review_only,
)
from prudent.store._records import (
    CaseStatus,
    FeedbackEntry,
    FeedbackResult,
    FeedbackStatus,
    PredictionRecord,
    ReviewCase,
    utc_now,
)
from prudent.store._rules import (
    check_claim,
    check_may_label,
    check_release,
    feedback_status,
    not_in_queue_error,
    unknown_prediction,
)

__all__ = ["InMemoryPredictionLog"]


@dataclass
class _Case:
    entry: QueueEntry
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    expires: datetime | None = None
    status: str = CaseStatus.OPEN.value
    closed: bool = False


class InMemoryPredictionLog(LogBase):
    """A :class:`PredictionLog` in a dict, for tests of the layers above the store.

    Writes are "committed" at once; everything else (duplicates, corrections, the review queue
    and its errors) behaves as :class:`SqlPredictionLog` does, and the same tests run on both.

    Parameters
    ----------
    clock
        Returns the current UTC time (for label and claim times).
    triage
        Which predictions enter the review queue, and their priority.

    Examples
    --------
    >>> log = InMemoryPredictionLog()
    >>> r = PredictionRecord(model_version="v1", model_name="m", inputs={"x": 1},
    ...                      probabilities={"a": 0.4, "b": 0.6}, prediction=None,
    ...                      decision="review")
    >>> log.write([r])
    >>> log.count(), log.count_review()
    (1, 1)
    >>> log.add_feedback(r.id, "a").status.value, log.count_review()
    ('created', 0)
    """

    def __init__(
        self, clock: Callable[[], datetime] = utc_now, triage: Triage = review_only
    ) -> None:
        super().__init__(clock, triage)
        self._lock = threading.RLock()
        self._records: dict[str, PredictionRecord] = {}
        self._labels: dict[str, list[FeedbackEntry]] = {}
        self._cases: dict[str, _Case] = {}

    def _submit(self, records: list[PredictionRecord]) -> Future[None]:
        with self._lock:
            for record in records:
                if record.id not in self._records:
                    self._records[record.id] = record
                    entry = self._triage(record)
                    if entry is not None:
                        self._cases[record.id] = _Case(entry)
        future: Future[None] = Future()
        future.set_result(None)
        return future

    def flush(self) -> None:
        """Return at once: every write is already committed."""
        self._check_open()

    def close(self) -> None:
        """Mark the log closed; later calls raise ``StoreError``."""
        self._closed = True

    def ping(self) -> None:
        """Return when the log is open; raise ``StoreError`` otherwise."""
        self._check_open()

    def _integrity_check(self) -> list[str]:
        return []  # a dict cannot be corrupt

    def _count_review(self) -> int:
        with self._lock:
            return sum(not case.closed for case in self._cases.values())

    def _get(self, prediction_id: str) -> PredictionRecord:
        with self._lock:
            if prediction_id not in self._records:
                raise unknown_prediction(prediction_id)
            return self._records[prediction_id]

    def _count(self, model_version: str | None) -> int:
        with self._lock:
            if model_version is None:
                return len(self._records)
            return sum(r.model_version == model_version for r in self._records.values())

    def _select(self, window: Window) -> list[PredictionRecord]:
        since, until, model_version = window
        with self._lock:
            chosen = [
                r
                for r in self._records.values()
                if (since is None or r.created_at >= since)
                and (until is None or r.created_at < until)
                and (model_version is None or r.model_version == model_version)
            ]
        return sorted(chosen, key=lambda r: (r.created_at, r.id))

    def _iter(self, window: Window, batch_size: int) -> Iterator[PredictionRecord]:
        return iter(self._select(window))

    def _record_labels(
        self, pairs: list[tuple[str, str]], source: str, when: datetime
    ) -> list[FeedbackResult]:
        with self._lock:
            for prediction_id, _label in pairs:  # check all first: all or nothing
                self._get(prediction_id)
                case = self._cases.get(prediction_id)
                if case is not None and not case.closed:
                    held = holder(case.claimed_by, case.expires, when)
                    check_may_label(prediction_id, held, source)
            return [self._record_label(pid, label, source, when) for pid, label in pairs]

    def _record_label(
        self, prediction_id: str, label: str, source: str, when: datetime
    ) -> FeedbackResult:
        history = self._labels.setdefault(prediction_id, [])
        latest = history[-1] if history else None
        previous = None if latest is None else latest.label
        status = feedback_status(previous, label)
        if status is FeedbackStatus.DUPLICATE:
            assert latest is not None
            when = latest.received_at
        else:
            entry = FeedbackEntry(
                prediction_id=prediction_id, label=label, source=source, received_at=when
            )
            history.append(entry)
            case = self._cases.get(prediction_id)
            if case is not None and not case.closed:
                case.closed, case.status = True, CaseStatus.LABELED.value
        return FeedbackResult(
            prediction_id=prediction_id,
            label=label,
            status=status,
            source=source,
            received_at=when,
            previous_label=previous,
        )

    def _feedback_history(self, prediction_id: str) -> list[FeedbackEntry]:
        with self._lock:
            self._get(prediction_id)
            return list(self._labels.get(prediction_id, []))

    def _labelled_pairs(self, window: Window) -> list[tuple[PredictionRecord, FeedbackEntry]]:
        with self._lock:
            return [
                (r, self._labels[r.id][-1]) for r in self._select(window) if r.id in self._labels
            ]

    def _list_review(self, limit: int, offset: int, now: datetime) -> list[ReviewCase]:
        with self._lock:
            chosen = self._queue_order(pid for pid, case in self._cases.items() if not case.closed)
            return [self._case_at(pid, now) for pid in chosen[offset : offset + limit]]

    def _queue_order(self, ids: Iterable[str]) -> list[str]:
        def key(pid: str) -> tuple[float, datetime, str]:
            return self._cases[pid].entry.priority, self._records[pid].created_at, pid

        return sorted(ids, key=key)

    def _case_at(self, prediction_id: str, now: datetime) -> ReviewCase:
        case, record = self._cases[prediction_id], self._records[prediction_id]
        status, held = case_state(case.status, case.claimed_by, case.expires, now)
        reason = record.defer_reason.value if record.defer_reason is not None else None
        return ReviewCase(
            record=record,
            claimed_by=held,
            claimed_at=case.claimed_at if held else None,
            priority=case.entry.priority,
            reason=AUDIT_REASON if case.entry.audit else reason,
            status=status,
            audit=case.entry.audit,
            lease_expires_at=case.expires if held else None,
        )

    def _review_case(self, prediction_id: str, now: datetime) -> ReviewCase:
        with self._lock:
            record = self._get(prediction_id)
            if prediction_id not in self._cases:
                raise not_in_queue_error(prediction_id, record.decision, labelled=False)
            return self._case_at(prediction_id, now)

    def _open_case(self, prediction_id: str) -> _Case:
        record = self._get(prediction_id)
        case = self._cases.get(prediction_id)
        if case is None or case.closed:
            raise not_in_queue_error(prediction_id, record.decision, labelled=case is not None)
        return case

    def _take(self, prediction_id: str, reviewer: str, now: datetime, lease: timedelta) -> None:
        case = self._cases[prediction_id]
        if holder(case.claimed_by, case.expires, now) != reviewer:
            case.claimed_at = now
        case.claimed_by, case.expires = reviewer, now + lease
        case.status = CaseStatus.CLAIMED.value

    def _claim(
        self, prediction_id: str, reviewer: str, now: datetime, lease: timedelta
    ) -> ReviewCase:
        with self._lock:
            case = self._open_case(prediction_id)
            check_claim(prediction_id, holder(case.claimed_by, case.expires, now), reviewer)
            self._take(prediction_id, reviewer, now, lease)
            return self._case_at(prediction_id, now)

    def _claim_next(
        self, reviewer: str, now: datetime, lease: timedelta, resume: bool
    ) -> ReviewCase | None:
        with self._lock:
            served = [
                (pid, holder(case.claimed_by, case.expires, now))
                for pid, case in self._cases.items()
                if not case.closed and case.status in SERVED
            ]
            held = [pid for pid, by in served if resume and by == reviewer]
            free = [pid for pid, by in served if by is None]
            chosen = self._queue_order(held) or self._queue_order(free)
            if not chosen:
                return None
            self._take(chosen[0], reviewer, now, lease)
            return self._case_at(chosen[0], now)

    def _put_aside(
        self, prediction_id: str, reviewer: str, status: CaseStatus, now: datetime
    ) -> ReviewCase:
        with self._lock:
            case = self._open_case(prediction_id)
            check_release(
                prediction_id, holder(case.claimed_by, case.expires, now), reviewer, False
            )
            case.claimed_by, case.claimed_at, case.expires = None, None, None
            case.status = status.value
            return self._case_at(prediction_id, now)

    def _release(self, prediction_id: str, reviewer: str, force: bool, now: datetime) -> None:
        with self._lock:
            record = self._get(prediction_id)
            case = self._cases.get(prediction_id)
            if case is None:
                raise not_in_queue_error(prediction_id, record.decision, labelled=False)
            if case.closed:
                return
            check_release(
                prediction_id, holder(case.claimed_by, case.expires, now), reviewer, force
            )
            case.claimed_by, case.claimed_at, case.expires = None, None, None
            case.status = CaseStatus.OPEN.value
