"""The public methods of every log backend: argument checks, defaults and the method bodies.

A backend implements the ``_``-prefixed hooks; the checks, the clock and the error messages
live here once (and in :mod:`prudent.store._feedback`), so the in-memory and SQL logs cannot
drift apart.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from datetime import datetime

import pandas as pd

from prudent.errors import DataError
from prudent.store._core import Window, check_id, check_positive, utc_window
from prudent.store._feedback import FeedbackMethods
from prudent.store._frame import labelled_frame
from prudent.store._records import FeedbackEntry, PredictionRecord

__all__ = ["LogBase"]


class LogBase(FeedbackMethods):
    """The public methods of a prediction log, written once over a backend's hooks."""

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
        return self._get(check_id(prediction_id))

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
        return self._iter(utc_window(since, until, model_version), batch_size)

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
        pairs = self._labelled_pairs(utc_window(since, until, model_version))
        return labelled_frame(pairs, expand_inputs=expand_inputs)

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
    def _labelled_pairs(self, window: Window) -> list[tuple[PredictionRecord, FeedbackEntry]]: ...
