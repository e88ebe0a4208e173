"""The core every log backend shares: the clock, the closed state, argument checks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self

from prudent.errors import ConfigError, StoreError
from prudent.store._protocol import PredictionLog
from prudent.store._queue import Triage, review_only
from prudent.store._records import as_utc, utc_now
from prudent.store._rules import unknown_prediction

__all__ = ["LogCore", "Window", "check_id", "check_positive", "utc_window"]

Window = tuple[datetime | None, datetime | None, str | None]
"""``(since, until, model_version)``, times already in UTC."""


def check_positive(value: object, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` when it is an integer of at least ``minimum``; raise ``ConfigError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"{name} must be an integer of at least {minimum}, but {value!r} was received."
        )
    return value


def utc_window(since: datetime | None, until: datetime | None, model_version: str | None) -> Window:
    """Return the window with its times checked and in UTC."""
    since = None if since is None else as_utc(since, "since")
    until = None if until is None else as_utc(until, "until")
    return since, until, model_version


def check_id(prediction_id: object) -> str:
    """Return the id when it is a string; any other value cannot be in the log."""
    if not isinstance(prediction_id, str):
        raise unknown_prediction(prediction_id)
    return prediction_id


class LogCore(PredictionLog, ABC):
    """The clock, the queue's triage, the closed flag and the context manager of every log."""

    _closed: bool = False

    def __init__(
        self, clock: Callable[[], datetime] = utc_now, triage: Triage = review_only
    ) -> None:
        self._clock = clock
        self._triage = triage

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(
                f"This {type(self).__name__} is closed; open a new one to use the log."
            )

    @abstractmethod
    def close(self) -> None: ...
