"""Admission control: a fixed number of slots, refused at once when all are taken.

A request holds its slot until it has answered *and* every thread task it started has ended,
so a model call abandoned at its deadline still counts against the limit until it returns:
the number of threads busy with predictions never exceeds the number of slots.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

from prudent.errors import OverloadedError, ServiceError

__all__ = ["Admission", "Ticket"]

T = TypeVar("T")


class Ticket:
    """One admitted request's hold on a slot; see :class:`Admission`."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release = release
        self._pending = 1
        self._lock = threading.Lock()

    def submit(self, pool: Executor, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(*args)`` on ``pool``; the slot is kept until it ends.

        Raises
        ------
        ServiceError
            When the pool no longer accepts work (the service is shutting down).
        """
        try:
            future = pool.submit(fn, *args)
        except RuntimeError as exc:
            raise ServiceError("The service is shutting down; retry on another replica.") from exc
        return self.track(future)

    def track(self, future: Future[T]) -> Future[T]:
        """Keep the slot until ``future`` ends (work started elsewhere for this request)."""
        with self._lock:
            self._pending += 1
        future.add_done_callback(lambda _f: self._done())
        return future

    def leave(self) -> None:
        """Mark the request answered; the slot frees once its tasks have ended too."""
        self._done()

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1
            last = self._pending == 0
        if last:
            self._release()


class Admission:
    """Let at most ``capacity`` requests in at once; refuse the next with ``OverloadedError``.

    Parameters
    ----------
    capacity
        Slots: requests computing plus requests waiting for a thread.

    Examples
    --------
    >>> gate = Admission(1)
    >>> ticket = gate.enter()
    >>> gate.enter()
    Traceback (most recent call last):
    ...
    prudent.errors.OverloadedError: All 1 prediction slots are taken; retry in a moment.
    >>> ticket.leave(); gate.in_use
    0
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._free = threading.BoundedSemaphore(capacity)
        self._used = 0
        self._lock = threading.Lock()

    @property
    def in_use(self) -> int:
        """Slots taken now."""
        return self._used

    def enter(self) -> Ticket:
        """Take a slot without waiting.

        Returns
        -------
        Ticket
            Give it back with :meth:`Ticket.leave`.

        Raises
        ------
        OverloadedError
            When every slot is taken.
        """
        if not self._free.acquire(blocking=False):
            raise OverloadedError(
                f"All {self.capacity} prediction slots are taken; retry in a moment."
            )
        with self._lock:
            self._used += 1
        return Ticket(self._release)

    def _release(self) -> None:
        with self._lock:
            self._used -= 1
        self._free.release()
