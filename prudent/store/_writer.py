"""The single writer: one thread, one connection, a bounded queue, small committed batches.

Callers put jobs on the queue and get a :class:`~concurrent.futures.Future` that resolves only
after the job's transaction has committed, so a service can answer after its rows are durable.
Row jobs that are already waiting are committed together (group commit), up to ``batch_rows``
rows or ``batch_ms`` spent gathering; the writer never idles waiting for more, so a lone row is
committed at once. Call jobs (feedback, claims) each run alone in their own transaction.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from prudent.errors import OverloadedError, PrudentError, StoreError

__all__ = ["BatchWriter", "describe_db_error"]

T = TypeVar("T")
RowsFn = Callable[[Connection, list[dict[str, Any]]], None]


@dataclass(eq=False)
class _Job:
    future: Future[Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    call: Callable[[Connection], Any] | None = None


_STOP = _Job(Future())


class BatchWriter:
    """Commit row batches and single calls on one connection, in one thread.

    Parameters
    ----------
    engine
        The write engine (``BEGIN IMMEDIATE`` on SQLite).
    insert_rows
        Writes a list of row dicts on a connection (inside the writer's transaction).
    batch_rows
        Most rows committed in one transaction (a single job larger than this stays whole).
    batch_ms
        Most time spent gathering waiting jobs into one batch.
    queue_size
        Most jobs waiting; a job beyond it is refused with ``OverloadedError``.
    """

    def __init__(
        self,
        engine: Engine,
        insert_rows: RowsFn,
        *,
        batch_rows: int = 64,
        batch_ms: float = 5.0,
        queue_size: int = 10_000,
    ) -> None:
        self._engine = engine
        self._insert_rows = insert_rows
        self._batch_rows = batch_rows
        self._batch_s = batch_ms / 1000.0
        self._queue: queue.Queue[_Job] = queue.Queue(maxsize=queue_size)
        self._lock = threading.Lock()
        self._closed = False
        self._connection: Connection | None = None  # used by the writer thread only
        self._thread = threading.Thread(target=self._run, name="prudent-store-writer", daemon=True)
        self._thread.start()

    def submit_rows(self, rows: list[dict[str, Any]]) -> Future[None]:
        """Queue rows for insertion; the future resolves once they are committed."""
        return self._submit(_Job(Future(), rows=rows))

    def submit_call(self, call: Callable[[Connection], Any]) -> Future[Any]:
        """Queue ``call(connection)``, run alone in one transaction; resolves to its result."""
        return self._submit(_Job(Future(), call=call))

    def _submit(self, job: _Job) -> Future[Any]:
        with self._lock:
            if self._closed:
                raise StoreError("The prediction log is closed; open it again to write.")
            try:
                self._queue.put_nowait(job)
            except queue.Full:
                raise OverloadedError(
                    f"The prediction log's write queue is full ({self._queue.maxsize} waiting "
                    "writes); retry later or raise queue_size."
                ) from None
        return job.future

    def close(self, timeout: float | None = None) -> None:
        """Refuse new jobs, commit every queued one, and stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        pending: _Job | None = None
        while True:
            job = pending if pending is not None else self._queue.get()
            pending = None
            if job is _STOP:
                self._drop_connection()
                return
            if job.call is not None:
                self._run_call(job)
                continue
            batch, pending = self._gather(job)
            self._commit_rows(batch)

    def _gather(self, first: _Job) -> tuple[list[_Job], _Job | None]:
        """Take waiting row jobs after ``first``; return them and the job that ended the run."""
        batch, n_rows = [first], len(first.rows)
        deadline = time.monotonic() + self._batch_s
        while n_rows < self._batch_rows and time.monotonic() < deadline:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is _STOP or job.call is not None:
                return batch, job
            batch.append(job)
            n_rows += len(job.rows)
        return batch, None

    def _transact(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one transaction on the writer's connection.

        A connection found dead (a restarted server) is replaced and the work tried once more:
        the failed transaction was rolled back, so the retry is safe.
        """
        for attempt in (1, 2):
            if self._connection is None or self._connection.invalidated:
                self._drop_connection()
                self._connection = self._engine.connect()
            try:
                with self._connection.begin():
                    return work(self._connection)
            except SQLAlchemyError as exc:
                self._drop_connection()  # start afresh next time
                lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
                if not (lost and attempt == 1):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._connection.close()
            self._connection = None

    def _commit_rows(self, batch: list[_Job]) -> None:
        live = [job for job in batch if job.future.set_running_or_notify_cancel()]
        if not live:
            return
        rows = [row for job in live for row in job.rows]
        try:
            self._transact(lambda connection: self._insert_rows(connection, rows))
        except Exception:  # retry each job alone: a bad one fails by itself, a lost link heals
            for job in live:
                self._commit_one(job)
            return
        for job in live:
            job.future.set_result(None)

    def _commit_one(self, job: _Job) -> None:
        try:
            self._transact(lambda connection: self._insert_rows(connection, job.rows))
        except Exception as exc:
            job.future.set_exception(_as_store_error(exc, f"writing {len(job.rows)} row(s)"))
        else:
            job.future.set_result(None)

    def _run_call(self, job: _Job) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        assert job.call is not None
        try:
            result = self._transact(job.call)
        except Exception as exc:
            job.future.set_exception(_as_store_error(exc, "a write"))
        else:
            job.future.set_result(result)


def describe_db_error(exc: BaseException) -> str:
    """Return the driver's error class and the first line of its message.

    Later lines (PostgreSQL's DETAIL) may quote the failing row, so they are left out.

    Examples
    --------
    >>> describe_db_error(ValueError("null value in column\\nDETAIL: Failing row contains (x)"))
    'ValueError: null value in column'
    """
    detail = getattr(exc, "orig", None) or exc
    lines = str(detail).strip().splitlines() or [""]
    return f"{type(detail).__name__}: {lines[0]}"


def _as_store_error(exc: Exception, what: str) -> Exception:
    if isinstance(exc, PrudentError):
        return exc
    if isinstance(exc, SQLAlchemyError):
        error = StoreError(f"The prediction log failed {what}: {describe_db_error(exc)}")
        error.__cause__ = exc
        return error
    return exc
