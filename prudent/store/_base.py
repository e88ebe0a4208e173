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
        self.write_async(records).result()

    def write_async(self, records: Sequence[PredictionRecord]) -> Future[None]:
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
        self._check_open()
        return self._get(check_id(prediction_id))

    def count(self, *, model_version: str | None = None) -> int:
        self._check_open()
        return self._count(model_version)

    def iter_predictions(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        model_version: str | None = None,
        batch_size: int = 1000,
    ) -> Iterator[PredictionRecord]:
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
        self._check_open()
        pairs = self._labelled_pairs(utc_window(since, until, model_version))
        return labelled_frame(pairs, expand_inputs=expand_inputs)

    def integrity_check(self) -> list[str]:
        self._check_open()
        return self._integrity_check()

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

    @abstractmethod
    def _integrity_check(self) -> list[str]: ...
