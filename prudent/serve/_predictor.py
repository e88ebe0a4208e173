"""The serving core: predict, fall back, log durably, answer. It knows no protocol.

``Predictor.predict_records`` is what both HTTP APIs call. The model runs on a thread pool, off
the event loop; a fixed number of slots bounds the work (the next request is refused at once);
the primary path gets a share of the deadline, then the backup model, then review; and the
answer is returned only once its rows are committed to the prediction log. Requests that arrive
while every model thread is busy are scored together in one call (``serve._batching``), the
model's thread builds each one's log records right after (``LogRows``), and their rows are
committed together by the log's writer (group commit).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from prudent.errors import (
    BundleError,
    DataError,
    DeadlineExceededError,
    OverloadedError,
    PrudentError,
    StoreError,
)
from prudent.models import Predictions
from prudent.serve._admission import Admission, Ticket
from prudent.serve._batch import LogRows, PredictionBatch, Tally, build_records
from prudent.serve._batching import Batcher
from prudent.serve._fallback import review_answer
from prudent.serve._health import Health
from prudent.serve._limits import InputLimits
from prudent.serve._metrics import ServeMetrics
from prudent.serve._model_process import ModelProcess
from prudent.serve._rows import Rows, as_frame
from prudent.serve._served import BackupFn, PrimaryFn, Served, check_replacement, smoke_error
from prudent.serve._shadow import Shadow
from prudent.store import LogStore, utc_now

if TYPE_CHECKING:
    from prudent.bundle import Bundle

__all__ = ["Predictor", "ServingOptions"]

T = TypeVar("T")
_Answer = tuple[Predictions, str | None, LogRows | None]


@dataclass(frozen=True)
class ServingOptions:
    """How the serving core bounds its work.

    Parameters
    ----------
    model_name
        The name the model is served under.
    limits
        What one request may hold.
    max_concurrency
        Threads computing predictions at once.
    queue_size
        Requests allowed to wait for a thread; more are refused with ``OverloadedError``.
    deadline_ms
        Time within which every request is answered.
    primary_share
        Share of the deadline the primary path gets before the backup is asked.
    batch_rows
        Most rows of queued requests scored together in one call of the primary path
        (1: every request alone).
    gather_ms
        How long a model thread started while another computes waits for requests to queue
        before it scores them (a lone request never waits; see ``serve._batching``).
    model_process
        Score a saved bundle's primary path in a process of its own
        (:class:`~prudent.serve._model_process.ModelProcess`), fed by one batching thread, so
        that the model never holds the service's interpreter lock.
    model_threads
        Most threads of the model process's BLAS and OpenMP pools.
    """

    model_name: str = "prudent"
    limits: InputLimits = field(default_factory=InputLimits)
    max_concurrency: int = 2
    queue_size: int = 32
    deadline_ms: float = 2000.0
    primary_share: float = 0.6
    batch_rows: int = 256
    gather_ms: float = 5.0
    model_process: bool = False
    model_threads: int = 1


async def _wait(future: Future[T], timeout: float) -> Future[T] | None:
    """Wait up to ``timeout`` seconds for a thread's future; None when it is still running."""
    waiter = asyncio.wrap_future(future)
    waiter.add_done_callback(lambda f: f.cancelled() or f.exception())
    done, _ = await asyncio.wait({waiter}, timeout=max(timeout, 0.0))
    return future if done else None


class Predictor:
    """Serve a bundle's predictions and log each one durably.

    Labels come back through :func:`prudent.feedback.ingest_labels` on the same log (the
    service's ``POST /feedback``, the review page and ``prudent feedback`` call it).

    Parameters
    ----------
    bundle
        The loaded bundle.
    log
        The prediction log; ``predict_records`` returns after its rows are committed.
    clock
        Returns the current UTC time (stamped on the records).
    options
        Limits, concurrency and deadline.
    metrics
        Where counts and histograms go; a fresh registry by default.
    primary
        The normal prediction path; ``bundle.predict`` by default (a seam for fault tests).
    backup
        The degraded path, given the rows and why the primary failed; the backup model alone
        by default.
    """

    def __init__(
        self,
        bundle: Bundle,
        log: LogStore,
        clock: Callable[[], datetime] = utc_now,
        *,
        options: ServingOptions | None = None,
        metrics: ServeMetrics | None = None,
        primary: PrimaryFn | None = None,
        backup: BackupFn | None = None,
    ) -> None:
        self.log = log
        self.clock = clock
        self.options = options or ServingOptions()
        self.metrics = metrics or ServeMetrics()
        self._served = self._serving(bundle, primary, backup)
        n = self.options.max_concurrency
        threads = 1 if self.model_process is not None else n  # the process scores one at a time
        self._admission = Admission(n + self.options.queue_size)
        self._primary_pool = ThreadPoolExecutor(threads, thread_name_prefix="prudent-primary")
        self._backup_pool = ThreadPoolExecutor(n, thread_name_prefix="prudent-backup")
        self._batcher = Batcher(
            self._primary_pool,
            threads=threads,
            max_rows=self.options.batch_rows,
            gather_s=self.options.gather_ms / 1000.0,
        )
        self._smoke_error: str | None = "the smoke prediction has not run yet"
        self._draining = False
        self.shadow: Shadow | None = None  # serve --shadow: handed each answered request
        self.metrics.bundle_info.labels(self.model_name, bundle.version).set(1)

    @property
    def model_name(self) -> str:
        """The name the model is served under."""
        return self.options.model_name

    @property
    def bundle(self) -> Bundle:
        """The bundle served now."""
        return self._served.bundle

    @property
    def model_process(self) -> ModelProcess | None:
        """The process scoring the served bundle's primary path, when it has one."""
        primary = self._served.primary
        return primary if isinstance(primary, ModelProcess) else None

    def _serving(
        self, bundle: Bundle, primary: PrimaryFn | None = None, backup: BackupFn | None = None
    ) -> Served:
        """``bundle`` with its paths: the primary in a process of its own when asked for (and
        the bundle is saved, and no primary is given)."""
        o = self.options
        if o.model_process and primary is None and bundle.path is not None:
            primary = ModelProcess(
                bundle,
                timeout_s=o.deadline_ms * o.primary_share / 1000.0,
                threads=o.model_threads,
                on_change=self._model_process_changed,
            )
        return Served.of(bundle, primary, backup)

    def _model_process_changed(
        self, process: ModelProcess, running: bool, lost: str | None
    ) -> None:
        """Count a lost model process; show whether the served bundle's one runs."""
        if lost is not None:
            self.metrics.model_process_lost.labels(reason=lost).inc()
        served = getattr(self, "_served", None)  # None while the first one is being built
        if served is None or served.primary is process:
            self.metrics.model_process.set(1 if running else 0)

    @property
    def busy(self) -> int:
        """Requests holding a slot now (computing, or waiting for a thread or the log)."""
        return self._admission.in_use

    @property
    def classes(self) -> list[Any]:
        """The bundle's classes."""
        return self.bundle.classes

    # -- predictions -------------------------------------------------------------------------
    async def predict_records(self, rows: Rows, *, limits_checked: bool = False) -> PredictionBatch:
        """Predict ``rows``, log every row, and return once the log has committed them.

        Parameters
        ----------
        rows
            One column per model input, one row per case, values as received; or the JSON
            records (:class:`~prudent.serve._rows.Records`), made into a table on the model's
            thread together with the other requests scored with them.
        limits_checked
            The caller has already refused what ``options.limits`` refuses (the JSON API's
            request model does), so the rows are not checked again.

        Returns
        -------
        PredictionBatch
            The predictions with their ids.

        Raises
        ------
        DataError
            ``SchemaError`` or ``InputLimitError`` naming the field at fault.
        OverloadedError
            Every slot is taken: retry later.
        DeadlineExceededError
            The request waited for a thread, or for the log, past its deadline.
        StoreError
            The log could not commit the rows; nothing was acknowledged.
        """
        served = self._served  # this request's bundle, even if another is swapped in meanwhile
        if not limits_checked:
            self.options.limits.check(as_frame(rows), served.bundle.schema)
        start = time.monotonic()
        try:
            ticket = self._admission.enter()
        except OverloadedError:
            self.metrics.overloaded.inc()
            raise
        self.metrics.in_flight.inc()
        try:
            out, fallback, ready = await self._answer(served, rows, start, ticket)
            if ready is None:  # a fallback answer: its records are built on a thread
                ready = await asyncio.to_thread(self._log_rows, served.bundle, rows, out, start)
            ids, written, tally = self._hand_to_log(ready)
            await self._commit(written, start)
        finally:
            ticket.leave()
            self.metrics.in_flight.dec()
        tally.apply(self.metrics)
        if self.shadow is not None:
            self.shadow.submit(rows, ids, served.bundle.version)
        return PredictionBatch(out, ids, self.model_name, served.bundle.version, fallback)

    def _log_rows(self, bundle: Bundle, rows: Rows, out: Predictions, start: float) -> LogRows:
        """The rows' ids, records and tally (on the model's thread, or another one)."""
        latency_ms = (time.monotonic() - start) * 1000.0
        records = partial(
            build_records,
            rows,
            out,
            model_name=self.model_name,
            model_version=bundle.version,
            latency_ms=latency_ms,
            clock=self.clock,
        )
        return LogRows.build(out, records)

    def _hand_to_log(self, ready: LogRows) -> tuple[list[str], Future[None], Tally]:
        """Hand the rows' records to the log (it commits them on its own thread)."""
        if isinstance(ready.records, BaseException):
            raise ready.records
        try:
            written = self.log.write_async(ready.records)
        except PrudentError:
            self.metrics.log_write_failures.inc()
            raise
        return ready.ids, written, ready.tally

    def _seconds_left(self, start: float, share: float) -> float:
        return self.options.deadline_ms * share / 1000.0 - (time.monotonic() - start)

    async def _answer(self, served: Served, rows: Rows, start: float, ticket: Ticket) -> _Answer:
        budget_ms = self.options.deadline_ms * self.options.primary_share

        def finish(out: Predictions) -> tuple[Predictions, LogRows]:
            return out, self._log_rows(served.bundle, rows, out, start)

        future = ticket.track(self._batcher.submit(served, rows, finish))
        done = await _wait(future, self._seconds_left(start, self.options.primary_share))
        error = None if done is None else done.exception()
        if done is None:
            if future.cancel():
                raise DeadlineExceededError(
                    f"The request waited {budget_ms:.0f} ms for a free thread; the service is "
                    "saturated, retry later."
                )
            why = f"the primary model passed its deadline ({budget_ms:.0f} ms)"
        elif error is None:
            out, ready = done.result()
            return out, None, ready
        elif isinstance(error, DataError):
            raise error
        else:
            why = f"the primary model failed ({type(error).__name__})"
        out, fallback = await self._fall_back(served, rows, why, start, ticket)
        return out, fallback, None

    async def _fall_back(
        self, served: Served, rows: Rows, why: str, start: float, t: Ticket
    ) -> tuple[Predictions, str]:
        def backup() -> Predictions:
            return served.backup(as_frame(rows), why)

        future = t.submit(self._backup_pool, backup)
        done = await _wait(future, self._seconds_left(start, 0.9))
        error = None if done is None else done.exception()
        if done is None:
            future.cancel()
            why += "; the backup model passed the deadline too"
        elif error is None:
            self.metrics.fallbacks.labels(to="backup").inc()
            return done.result(), "backup"
        elif isinstance(error, DataError):
            raise error
        else:
            why += f"; the backup model failed too ({type(error).__name__})"
        self.metrics.fallbacks.labels(to="review").inc()
        return review_answer(served.bundle, len(rows), why), "review"

    async def _commit(self, written: Future[None], start: float) -> None:
        done = await _wait(written, max(self._seconds_left(start, 1.05), 0.05))
        if done is None:
            self.metrics.log_write_failures.inc()
            raise DeadlineExceededError(
                "The prediction log did not commit in time; no prediction was acknowledged, "
                "retry later."
            )
        error = done.exception()
        if error is not None:
            self.metrics.log_write_failures.inc()
            if isinstance(error, PrudentError):
                raise error
            raise StoreError(f"The prediction log failed: {type(error).__name__}: {error}")

    # -- health and lifecycle ----------------------------------------------------------------
    def warm_up(self) -> None:
        """Run one smoke prediction on a stored example row (not logged); blocks."""
        self._smoke_error = smoke_error(self._served)

    def swap(self, bundle: Bundle) -> str:
        """Serve ``bundle`` from now on, once it passed its checks; return the old version.

        The new bundle must have the served one's inputs and classes and pass a smoke
        prediction; then it replaces the old one at once. Requests already started finish on
        the bundle they began with; none is refused. Blocks (the smoke prediction).

        Parameters
        ----------
        bundle
            The new bundle, loaded and verified.

        Returns
        -------
        str
            The version served until now.

        Raises
        ------
        BundleError
            The bundle differs in inputs or classes, or failed its smoke prediction; the old
            one is still served.
        """
        old = self._served
        check_replacement(old.bundle, bundle)
        new = self._serving(bundle)
        error = smoke_error(new)
        if error is not None:
            if isinstance(new.primary, ModelProcess):
                new.primary.close()
            raise BundleError(f"The new bundle was not swapped in: {error}.")
        self._served = new
        running = new.primary.pid is not None if isinstance(new.primary, ModelProcess) else False
        self.metrics.model_process.set(1 if running else 0)
        if isinstance(old.primary, ModelProcess):
            old.primary.close()  # after its last call: requests begun on it still finish
        self._smoke_error = None
        self.metrics.bundle_info.labels(self.model_name, bundle.version).set(1)
        if old.bundle.version != bundle.version:
            self.metrics.bundle_info.remove(self.model_name, old.bundle.version)
        return old.bundle.version

    def drain(self) -> None:
        """Stop being ready (new traffic should go elsewhere); requests still complete."""
        self._draining = True
        self.metrics.ready.set(0)

    def health(self) -> Health:
        """Check readiness now: smoke prediction passed, not draining, the log writable; blocks.

        Returns
        -------
        Health
            ``ready`` with the reason when it is not.
        """
        reason = "draining: the service is shutting down" if self._draining else self._smoke_error
        if reason is None:
            try:
                self.log.ping()
            except PrudentError as exc:
                reason = f"the prediction log is not writable: {exc}"
        self.metrics.ready.set(0 if reason else 1)
        return Health(live=True, ready=reason is None, reason=reason or "ready")

    def close(self) -> None:
        """Stop the thread pools once their work is done (the log is the caller's to close)."""
        self.drain()
        self._batcher.close()
        self._primary_pool.shutdown(wait=True)  # its batches end once nothing is queued
        self._backup_pool.shutdown(wait=True, cancel_futures=True)
        process = self.model_process
        if process is not None:
            process.close()
