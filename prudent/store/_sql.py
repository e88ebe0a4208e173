"""The prediction log on SQLite or PostgreSQL, through SQLAlchemy Core."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Self, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from prudent.errors import ConfigError, StoreError
from prudent.store import _sql_read as read
from prudent.store import _sql_write as write
from prudent.store._base import LogBase
from prudent.store._core import Window, check_positive
from prudent.store._engine import Engines, create_engines, normalise_url
from prudent.store._migrate import upgrade
from prudent.store._queue import Triage, review_only
from prudent.store._records import (
    CaseStatus,
    FeedbackEntry,
    FeedbackResult,
    PredictionRecord,
    ReviewCase,
    utc_now,
)
from prudent.store._writer import BatchWriter, describe_db_error

__all__ = ["SqlPredictionLog"]

T = TypeVar("T")


@contextmanager
def _db_errors(what: str) -> Iterator[None]:
    try:
        yield
    except SQLAlchemyError as exc:
        raise StoreError(f"The prediction log failed {what}: {describe_db_error(exc)}") from exc


class SqlPredictionLog(LogBase):
    """The durable :class:`PredictionLog`: SQLite (WAL) or PostgreSQL (psycopg 3).

    Build it with :meth:`open`. One writer thread owns the write connection and commits
    queued rows in small batches; ``write`` returns only after its rows are committed.

    Parameters
    ----------
    engines
        The write and read engines (see :meth:`open`).
    writer
        The writer thread over the write engine.
    clock
        Returns the current UTC time.
    triage
        Which predictions enter the review queue, and their priority.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as folder, SqlPredictionLog.open(
    ...     os.path.join(folder, "log.db")
    ... ) as log:
    ...     r = PredictionRecord(model_version="v1", model_name="m", inputs={"x": 1.0},
    ...                          probabilities={"a": 0.9, "b": 0.1}, prediction="a",
    ...                          decision="accept")
    ...     log.write([r])
    ...     log.get(r.id).prediction, log.add_feedback(r.id, "b").status.value
    ('a', 'created')
    """

    def __init__(
        self,
        engines: Engines,
        writer: BatchWriter,
        clock: Callable[[], datetime],
        triage: Triage = review_only,
    ):
        super().__init__(clock, triage)
        self._engines = engines
        self._writer = writer

    @classmethod
    def open(
        cls,
        url: str | Path,
        *,
        synchronous: str = "FULL",
        batch_rows: int = 64,
        batch_ms: float = 5.0,
        queue_size: int = 10_000,
        busy_timeout_ms: int = 5000,
        clock: Callable[[], datetime] = utc_now,
        triage: Triage = review_only,
    ) -> Self:
        """Open (creating and migrating when needed) the log at ``url``.

        Parameters
        ----------
        url
            ``sqlite:///path.db`` or a file path; ``postgresql://…`` (driven by psycopg 3).
        synchronous
            SQLite only: ``"FULL"`` (a commit survives power loss) or ``"NORMAL"`` (survives a
            process crash, faster).
        batch_rows
            Most rows committed in one transaction.
        batch_ms
            Most time the writer spends gathering queued rows into one batch; it never waits
            for rows that have not arrived.
        queue_size
            Most writes waiting to be committed; more are refused with ``OverloadedError``.
        busy_timeout_ms
            SQLite only: how long to wait for a lock held by another process.
        clock
            Returns the current UTC time (for label and claim times).
        triage
            Which predictions enter the review queue and with what priority
            (``prudent.feedback.QueuePolicy``); by default every ``review``, oldest first.

        Returns
        -------
        SqlPredictionLog
            The open log; close it (or use ``with``) to drain its queue.

        Raises
        ------
        ConfigError
            For an unsupported URL or an invalid option.
        StoreError
            When the database cannot be opened or migrated.
        """
        batch_rows = check_positive(batch_rows, "batch_rows")
        queue_size = check_positive(queue_size, "queue_size")
        if not isinstance(batch_ms, int | float) or not batch_ms >= 0:
            raise ConfigError(f"batch_ms must be a number >= 0, but {batch_ms!r} was received.")
        engines = create_engines(
            normalise_url(url), synchronous=synchronous, busy_timeout_ms=busy_timeout_ms
        )
        try:
            with _db_errors(f"opening {engines.write.url.render_as_string()}"):
                upgrade(engines.write)
        except BaseException:
            engines.dispose()
            raise
        writer = BatchWriter(
            engines.write,
            write.insert_rows,
            batch_rows=batch_rows,
            batch_ms=float(batch_ms),
            queue_size=queue_size,
        )
        return cls(engines, writer, clock, triage)

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engines.write.url.render_as_string()

    # -- writing -----------------------------------------------------------------------------
    def _submit(self, records: list[PredictionRecord]) -> Future[None]:
        if not records:
            done: Future[None] = Future()
            done.set_result(None)
            return done
        return self._writer.submit_rows([write.row_of(r, self._triage(r)) for r in records])

    def _call(self, fn: Callable[[Connection], T]) -> T:
        result: T = self._writer.submit_call(fn).result()
        return result

    def flush(self) -> None:
        """Return once every write queued before this call is committed."""
        self._check_open()
        self._call(lambda _connection: None)

    def close(self) -> None:
        """Commit every queued write, stop the writer and close the connections (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        self._engines.dispose()

    def ping(self) -> None:
        """Take the write lock and release it: proves the database is writable now.

        Raises
        ------
        StoreError
            When the log is closed or the database cannot be written.
        """
        self._check_open()
        self._call(lambda connection: connection.exec_driver_sql("SELECT 1").all())

    # -- reading -----------------------------------------------------------------------------
    def _read(self, fn: Callable[[Connection], T], what: str) -> T:
        with _db_errors(what), self._engines.read.connect() as connection:
            return fn(connection)

    def _integrity_check(self) -> list[str]:
        """Run ``PRAGMA integrity_check`` (SQLite) or a trivial query (PostgreSQL)."""

        def check(connection: Connection) -> list[str]:
            if connection.dialect.name != "sqlite":
                connection.exec_driver_sql("SELECT 1").all()
                return []
            rows = [str(r[0]) for r in connection.exec_driver_sql("PRAGMA integrity_check")]
            return [] if rows == ["ok"] else rows

        return self._read(check, "checking integrity")

    def _count_review(self) -> int:
        return self._read(read.count_open_cases, "counting review cases")

    def _get(self, prediction_id: str) -> PredictionRecord:
        row = self._read(lambda c: read.fetch_prediction(c, prediction_id), "reading a prediction")
        return read.record_from_row(row)

    def _count(self, model_version: str | None) -> int:
        return self._read(lambda c: read.count_predictions(c, model_version), "counting")

    def _iter(self, window: Window, batch_size: int) -> Iterator[PredictionRecord]:
        terms = read.window_filter(*window)
        after: tuple[datetime, str] | None = None
        while True:
            self._check_open()
            fetch = partial(read.page_predictions, terms=terms, after=after, limit=batch_size)
            page = self._read(fetch, "reading predictions")
            yield from page
            if len(page) < batch_size:
                return
            after = (page[-1].created_at, page[-1].id)

    def _labelled_pairs(self, window: Window) -> list[tuple[PredictionRecord, FeedbackEntry]]:
        terms = read.window_filter(*window)
        return self._read(lambda c: read.labelled_rows(c, terms), "reading labels")

    def _feedback_history(self, prediction_id: str) -> list[FeedbackEntry]:
        return self._read(lambda c: read.feedback_entries(c, prediction_id), "reading labels")

    def _list_review(self, limit: int, offset: int, now: datetime) -> list[ReviewCase]:
        fetch = partial(read.open_cases, limit=limit, offset=offset, now=now)
        return self._read(fetch, "reading the review queue")

    def _review_case(self, prediction_id: str, now: datetime) -> ReviewCase:
        return self._read(lambda c: read.fetch_case(c, prediction_id, now), "reading a case")

    # -- feedback and review (through the writer) --------------------------------------------
    def _record_labels(
        self, pairs: list[tuple[str, str]], source: str, when: datetime
    ) -> list[FeedbackResult]:
        def record(connection: Connection) -> list[FeedbackResult]:
            return [write.record_label(connection, p, lab, source, when) for p, lab in pairs]

        return self._call(record)

    def _claim(
        self, prediction_id: str, reviewer: str, now: datetime, lease: timedelta
    ) -> ReviewCase:
        return self._call(lambda c: write.claim_case(c, prediction_id, reviewer, now, lease))

    def _claim_next(
        self, reviewer: str, now: datetime, lease: timedelta, resume: bool
    ) -> ReviewCase | None:
        return self._call(lambda c: write.claim_next_case(c, reviewer, now, lease, resume))

    def _put_aside(
        self, prediction_id: str, reviewer: str, status: CaseStatus, now: datetime
    ) -> ReviewCase:
        put = partial(write.put_aside_case, status=status.value, now=now)
        return self._call(lambda c: put(c, prediction_id, reviewer))

    def _release(self, prediction_id: str, reviewer: str, force: bool, now: datetime) -> None:
        self._call(lambda c: write.release_case(c, prediction_id, reviewer, force, now))

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"SqlPredictionLog({self.url!r}, {state})"
