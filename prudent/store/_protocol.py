"""The seams other layers take: a prediction log, a feedback log and a review queue.

One database holds all three (:class:`LogStore`); each caller names the part it uses. The
feedback log and the review queue are in ``_review_protocol.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

import pandas as pd

from prudent.store._records import PredictionRecord
from prudent.store._review_protocol import FeedbackLog, ReviewQueue

__all__ = ["LogStore", "PredictionLog"]


@runtime_checkable
class PredictionLog(Protocol):
    """A durable log of predictions.

    ``write`` returns, and the future of ``write_async`` resolves, only after the rows are
    committed: a service answers only then. Writing an id already logged does nothing, so
    retries are safe. :class:`~prudent.store.SqlPredictionLog` stores to SQLite or
    PostgreSQL; :class:`~prudent.store.InMemoryPredictionLog` behaves the same for tests.
    """

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
        ...

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
        ...

    def flush(self) -> None:
        """Return once every write queued so far is committed."""
        ...

    def close(self) -> None:
        """Commit every queued write, then release the database; later calls fail."""
        ...

    def ping(self) -> None:
        """Return when the log can be written to now; raise ``StoreError`` otherwise."""
        ...

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
        ...

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
        ...

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
        ...

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
        ...

    def integrity_check(self) -> list[str]:
        """Return the problems the database reports; empty when it is sound.

        Returns
        -------
        list of str
            The problems.
        """
        ...

    def __enter__(self) -> Self:
        """Return the log itself.

        Returns
        -------
        PredictionLog
            This log.
        """
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the log.

        Parameters
        ----------
        exc_type, exc, tb
            The exception leaving the ``with`` block, if any.
        """
        ...


@runtime_checkable
class LogStore(PredictionLog, FeedbackLog, ReviewQueue, Protocol):
    """The three on one database: labelling a queued prediction closes its case.

    :class:`~prudent.store.SqlPredictionLog` and :class:`~prudent.store.InMemoryPredictionLog`
    are log stores; the serving core takes one (it logs predictions and records feedback).
    """
