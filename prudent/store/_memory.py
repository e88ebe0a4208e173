"""A prediction log held in memory, for unit tests: the same behaviour as the SQL one."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

from prudent.store._base import LogBase
from prudent.store._core import Window
from prudent.store._records import (
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
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    closed: bool = False


class InMemoryPredictionLog(LogBase):
    """A :class:`PredictionLog` in a dict, for tests of the layers above the store.

    Writes are "committed" at once; everything else (duplicates, corrections, the review queue
    and its errors) behaves as :class:`SqlPredictionLog` does, and the same tests run on both.

    Parameters
    ----------
    clock
        Returns the current UTC time (for label and claim times).

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

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(clock)
        self._lock = threading.RLock()
        self._records: dict[str, PredictionRecord] = {}
        self._labels: dict[str, list[FeedbackEntry]] = {}
        self._cases: dict[str, _Case] = {}

    def _submit(self, records: list[PredictionRecord]) -> Future[None]:
        with self._lock:
            for record in records:
                if record.id not in self._records:
                    self._records[record.id] = record
                    if record.decision == "review":
                        self._cases[record.id] = _Case()
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

    def integrity_check(self) -> list[str]:
        """Return no problems: a dict cannot be corrupt.

        Returns
        -------
        list of str
            Always empty.
        """
        self._check_open()
        return []

    def count_review(self) -> int:
        """Count open review cases.

        Returns
        -------
        int
            Cases decided ``review`` and not yet labelled.
        """
        self._check_open()
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
                    check_may_label(prediction_id, case.claimed_by, source)
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
            if case is not None:
                case.closed = True
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

    def _list_review(self, limit: int, offset: int) -> list[ReviewCase]:
        with self._lock:
            open_ids = [pid for pid, case in self._cases.items() if not case.closed]
            records = sorted(
                (self._records[pid] for pid in open_ids), key=lambda r: (r.created_at, r.id)
            )
            return [self._review_case(r.id) for r in records[offset : offset + limit]]

    def _review_case(self, prediction_id: str) -> ReviewCase:
        case = self._cases[prediction_id]
        return ReviewCase(
            record=self._records[prediction_id],
            claimed_by=case.claimed_by,
            claimed_at=case.claimed_at,
        )

    def _open_case(self, prediction_id: str) -> _Case:
        record = self._get(prediction_id)
        case = self._cases.get(prediction_id)
        if case is None or case.closed:
            raise not_in_queue_error(prediction_id, record.decision, labelled=case is not None)
        return case

    def _claim(self, prediction_id: str, reviewer: str, now: datetime) -> ReviewCase:
        with self._lock:
            case = self._open_case(prediction_id)
            check_claim(prediction_id, case.claimed_by, reviewer)
            if case.claimed_by != reviewer:
                case.claimed_by, case.claimed_at = reviewer, now
            return self._review_case(prediction_id)

    def _release(self, prediction_id: str, reviewer: str, force: bool) -> None:
        with self._lock:
            record = self._get(prediction_id)
            case = self._cases.get(prediction_id)
            if case is None:
                raise not_in_queue_error(prediction_id, record.decision, labelled=False)
            if case.closed:
                return
            check_release(prediction_id, case.claimed_by, reviewer, force)
            case.claimed_by, case.claimed_at = None, None
