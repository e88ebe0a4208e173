"""What every backend shares: argument checks, defaults and the public method bodies.

A backend implements the ``_``-prefixed hooks; the checks, the clock and the error messages
live here once, so the in-memory and SQL logs cannot drift apart.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future
from datetime import datetime
from types import TracebackType
from typing import Self

import pandas as pd

from prudent.errors import ConfigError, DataError, StoreError
from prudent.store._frame import labelled_frame
from prudent.store._records import (
    FeedbackEntry,
    FeedbackResult,
    PredictionRecord,
    ReviewCase,
    as_utc,
    utc_now,
)
from prudent.store._rules import check_allowed, check_name, unknown_prediction

__all__ = ["LogBase", "Window", "check_positive"]

Window = tuple[datetime | None, datetime | None, str | None]
"""``(since, until, model_version)``, times already in UTC."""


def check_positive(value: object, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` when it is an integer of at least ``minimum``; raise ``ConfigError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"{name} must be an integer of at least {minimum}, but {value!r} was received."
        )
    return value


def _window(since: datetime | None, until: datetime | None, model_version: str | None) -> Window:
    since = None if since is None else as_utc(since, "since")
    until = None if until is None else as_utc(until, "until")
    return since, until, model_version


def _check_id(prediction_id: object) -> str:
    if not isinstance(prediction_id, str):
        raise unknown_prediction(prediction_id)
    return prediction_id


class LogBase(ABC):
    """The public methods of a prediction log, written once over a backend's hooks."""

    _closed: bool = False

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock

    # -- writing -----------------------------------------------------------------------------
    def write(self, records: Sequence[PredictionRecord]) -> None:
        """Log records and return once they are committed.

        Parameters
        ----------
        records
            The predictions; ids already logged are skipped (first write wins).

        Raises
        ------
        StoreError
            When the log is closed or the database fails.
        OverloadedError
            When the write queue is full.
        """
        self.write_async(records).result()

    def write_async(self, records: Sequence[PredictionRecord]) -> Future[None]:
        """Log records; the future resolves once they are committed.

        Parameters
        ----------
        records
            The predictions.

        Returns
        -------
        concurrent.futures.Future
            Resolves to None after the commit, or to the ``StoreError`` that prevented it.

        Raises
        ------
        StoreError
            When the log is closed.
        OverloadedError
            When the write queue is full.
        DataError
            When an item is not a ``PredictionRecord``.
        """
        self._check_open()
        for record in records:
            if not isinstance(record, PredictionRecord):
                raise DataError(
                    f"write() takes PredictionRecord items, but a {type(record).__name__} was "
                    "received; build one PredictionRecord per row."
                )
        return self._submit(list(records))

    def __enter__(self) -> Self:
        """Return the log itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the log."""
        self.close()

    # -- feedback ----------------------------------------------------------------------------
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
        pairs = [(_check_id(pid), check_allowed(label, allowed_labels)) for pid, label in items]
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
        return self._feedback_history(_check_id(prediction_id))

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
        return self._claim(_check_id(prediction_id), reviewer, self._clock())

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
        self._release(_check_id(prediction_id), reviewer, force)

    # -- reading -----------------------------------------------------------------------------
    def get(self, prediction_id: str) -> PredictionRecord:
        """Return one logged prediction.

        Parameters
        ----------
        prediction_id
            Its id.

        Returns
        -------
        PredictionRecord
            As written.

        Raises
        ------
        UnknownPredictionError
            When no prediction has that id.
        """
        self._check_open()
        return self._get(_check_id(prediction_id))

    def count(self, *, model_version: str | None = None) -> int:
        """Count logged predictions, of one model version or all.

        Parameters
        ----------
        model_version
            Count this bundle hash only.

        Returns
        -------
        int
            The number of predictions.
        """
        self._check_open()
        return self._count(model_version)

    def iter_predictions(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        model_version: str | None = None,
        batch_size: int = 1000,
    ) -> Iterator[PredictionRecord]:
        """Yield logged predictions with ``since <= created_at < until``, oldest first.

        Parameters
        ----------
        since, until
            The time window (aware datetimes); open-ended when None.
        model_version
            Keep one bundle hash only.
        batch_size
            Rows read per query (each in its own short transaction).

        Returns
        -------
        Iterator of PredictionRecord
            In ``(created_at, id)`` order.
        """
        self._check_open()
        batch_size = check_positive(batch_size, "batch_size")
        return self._iter(_window(since, until, model_version), batch_size)

    def labelled_predictions(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        model_version: str | None = None,
        *,
        expand_inputs: bool = True,
    ) -> pd.DataFrame:
        """Return every labelled prediction with its latest label and logged inputs.

        Parameters
        ----------
        since, until
            Keep predictions with ``since <= created_at < until``.
        model_version
            Keep one model version only.
        expand_inputs
            One column per input feature when true; one ``inputs`` column of dicts when false.

        Returns
        -------
        pandas.DataFrame
            The columns of ``META_COLUMNS`` (``label`` is the latest label), then the inputs,
            oldest prediction first.
        """
        self._check_open()
        pairs = self._labelled_pairs(_window(since, until, model_version))
        return labelled_frame(pairs, expand_inputs=expand_inputs)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(
                f"This {type(self).__name__} is closed; open a new one to use the log."
            )

    # -- hooks -------------------------------------------------------------------------------
    @abstractmethod
    def _submit(self, records: list[PredictionRecord]) -> Future[None]: ...

    @abstractmethod
    def _get(self, prediction_id: str) -> PredictionRecord: ...

    @abstractmethod
    def _count(self, model_version: str | None) -> int: ...

    @abstractmethod
    def _iter(self, window: Window, batch_size: int) -> Iterator[PredictionRecord]: ...

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

    @abstractmethod
    def _labelled_pairs(self, window: Window) -> list[tuple[PredictionRecord, FeedbackEntry]]: ...

    @abstractmethod
    def close(self) -> None:
        """Commit every queued write, then release the database; later calls fail."""
