"""Shadow scoring: a second bundle scores every served request in a process of its own.

The predictor hands each answered request's rows and prediction ids to :meth:`Shadow.submit`,
which only puts them on a bounded queue (a full queue drops them, counted) and returns. A
thread of the service's takes what is waiting (up to ``batch_rows`` rows) and sends it to the
shadow's process (:mod:`prudent.serve._shadow_process`), which loaded the challenger itself,
runs at a lower priority, scores the batch and stores the answers under the same ids
(:class:`~prudent.store.ShadowLog`, on its own connection); only the outcome comes back. So
the scoring takes neither the service's interpreter lock nor, when the cores are busy, their
time from the responses.

A batch that fails to score or to store is dropped; a process that does not answer within
the timeout is killed, and one that dies (or cannot load) is started again after a pause that
doubles from 1 s to 60 s while it keeps failing. Every row not compared is counted
(``prudent_shadow_rows_total{outcome}``), every restart too
(``prudent_shadow_restarts_total{reason}``), and each is said in the log at most once a
minute; nothing of it reaches a response. :meth:`Shadow.close` scores what is queued, then
stops the process (killed if it does not stop in time).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from prudent.serve._metrics import ServeMetrics
from prudent.serve._rows import Rows, as_frame
from prudent.serve._shadow_process import Batch, ChildSpec, ShadowProcess
from prudent.store import utc_now

if TYPE_CHECKING:
    from prudent.bundle import Bundle

__all__ = ["Shadow", "ShadowOptions"]

logger = logging.getLogger("prudent.serve")

_Job = tuple[Rows, list[str], datetime]
_STOP: _Job = (pd.DataFrame(), [], datetime.min)
_MAX_DELAY_S = 60.0
_STORE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ShadowOptions:
    """How much a shadow may hold and take.

    Parameters
    ----------
    timeout_ms
        Longest a batch may take to score (from being sent to the shadow's process); a
        slower process is killed, its batch dropped (``timeout``), and it is started again.
    queue_size
        Requests waiting to be scored; more are dropped at once (``queue_full``).
    batch_rows
        Most rows scored in one call (waiting requests are scored together up to it).
    nice
        Niceness added to the shadow's process once it has loaded its bundle (0 to 19): the
        kernel then gives the cores to the service first.
    threads
        Most threads of the shadow's BLAS and OpenMP pools.
    start_timeout_s
        Longest a shadow process may take to load its bundle before it is killed.
    """

    timeout_ms: float = 2000.0
    queue_size: int = 64
    batch_rows: int = 512
    nice: int = 10
    threads: int = 1
    start_timeout_s: float = 600.0


class Shadow:
    """Score served requests with ``bundle`` in a process of its own and store the answers.

    Parameters
    ----------
    bundle
        The shadow (challenger) bundle, saved: its process loads it again from its folder
        (verified, and refused unless it is still this version).
    log_url
        The prediction log's database, where the shadow's process stores its answers.
    metrics
        Where the outcomes and restarts are counted.
    options
        Timeout, queue and batch sizes, priority.
    clock
        Returns the current UTC time, stamped on each request's answers when it is handed over.
    """

    def __init__(
        self,
        bundle: Bundle,
        log_url: str | Path,
        metrics: ServeMetrics,
        *,
        options: ShadowOptions | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if bundle.path is None:
            raise ValueError("A shadow bundle must be saved: its process loads it from disk.")
        self.version = bundle.version
        self.options = options or ShadowOptions()
        o = self.options
        self._spec = ChildSpec(
            bundle.path.resolve(), bundle.version, str(log_url), nice=o.nice, threads=o.threads
        )
        self._metrics = metrics
        self._clock = clock
        self._queue: queue.Queue[_Job] = queue.Queue(maxsize=o.queue_size)
        self._said: dict[str, float] = {}
        self._child: ShadowProcess | None = None
        self._delay = 0.0
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prudent-shadow", daemon=True)
        self._thread.start()

    @property
    def pid(self) -> int | None:
        """The shadow process's id, None while none is running."""
        child = self._child
        return child.pid if child is not None and child.alive() else None

    def submit(self, frame: Rows, ids: list[str], served_version: str) -> None:
        """Queue a served request's rows for the shadow; never blocks, never raises.

        Parameters
        ----------
        frame
            The rows as received (records are made into a table on the shadow's thread).
        ids
            Their prediction ids.
        served_version
            The version that answered them: nothing is queued when it is the shadow's own
            (after the shadow was promoted and swapped in).
        """
        if served_version == self.version or not ids:
            return
        try:
            self._queue.put_nowait((frame, ids, self._clock()))
        except queue.Full:
            self._count("queue_full", len(ids), f"its queue of {self.options.queue_size} is full")

    def close(self, timeout_s: float = 30.0) -> None:
        """Score what is queued, then stop the shadow's process (waits at most ``timeout_s``;
        then the process is killed and what is left is dropped)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                self._queue.put(_STOP, timeout=0.1)
                break
            except queue.Full:
                continue
        self._thread.join(max(deadline - time.monotonic(), 0.0))
        if self._thread.is_alive():
            self._closing.set()
            child = self._child
            if child is not None:
                child.kill()
            self._thread.join(5.0)

    def _run(self) -> None:
        self._running()  # started at once: its load does not wait for the first request
        while True:
            jobs = self._take()
            stop = jobs[-1] is _STOP
            jobs = [j for j in jobs if j is not _STOP]
            if jobs:
                self._score(Batch([as_frame(f) for f, _, _ in jobs], [i for _, i, _ in jobs],
                                  [t for _, _, t in jobs]))  # fmt: skip
            if stop:
                break
        if self._child is not None:
            self._child.stop()

    def _take(self) -> list[_Job]:
        """Wait for one job, then take those waiting, up to ``batch_rows`` rows; a stop when
        :meth:`close` gave up waiting."""
        while True:
            try:
                jobs = [self._queue.get(timeout=0.5)]
                break
            except queue.Empty:
                if self._closing.is_set():
                    return [_STOP]
        rows = len(jobs[0][1])
        while rows < self.options.batch_rows and jobs[-1] is not _STOP:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            jobs.append(job)
            rows += len(job[1])
        return jobs

    def _score(self, batch: Batch) -> None:
        try:
            child = self._running()
            if child is None:
                self._count("failed", batch.rows, "the service stopped before it started")
                return
            timeout_s = self.options.timeout_ms / 1000.0
            reply = child.score(batch, timeout_s, max(_STORE_TIMEOUT_S, timeout_s))
        except Exception as exc:  # never let the thread die: the queue would only fill
            why = f"{type(exc).__name__}: {exc}"
            self._count("failed", batch.rows, why)
            self._lost("crashed" if self._child is not None else "start_failed", why)
            return
        if reply.kind == "stored":
            self._metrics.shadow.labels(outcome="scored").inc(batch.rows)
            self._delay = 0.0
            return
        timeout = reply.kind == "timeout"
        self._count("timeout" if timeout else "failed", batch.rows, reply.detail)
        if not child.alive():
            self._lost("timeout" if timeout else "crashed", reply.detail)

    def _running(self) -> ShadowProcess | None:
        """The shadow's process, started (again) when there is none; None when closing."""
        if self._child is not None and not self._child.alive():
            self._lost("crashed", f"it ended with exit code {self._child.process.exitcode}")
        while self._child is None:
            if self._closing.wait(self._delay):
                return None
            try:
                started = ShadowProcess.start(self._spec, self.options.start_timeout_s)
            except Exception as exc:  # the process could not even be created
                started = f"{type(exc).__name__}: {exc}"
            if isinstance(started, str):
                self._lost("start_failed", started)
                continue
            if self._closing.is_set():
                started.kill()
                return None
            self._child = started
            logger.info("Shadow %s scores in process %s.", self.version, started.pid)
        return self._child

    def _lost(self, reason: str, why: str) -> None:
        """Count a shadow process that ended, and wait longer before the next start."""
        if self._child is not None:
            self._child.kill()
            self._child = None
        if self._closing.is_set():
            return  # killed by close(): not started again
        self._delay = min(max(2.0 * self._delay, 1.0), _MAX_DELAY_S)
        self._metrics.shadow_restarts.labels(reason=reason).inc()
        self._say(
            "restart",
            "Shadow %s: its process is started again in %.0f s (%s): %s; responses are "
            "unaffected (see prudent_shadow_restarts_total).",
            self.version, self._delay, reason, why,
        )  # fmt: skip

    def _count(self, outcome: str, n: int, why: str) -> None:
        self._metrics.shadow.labels(outcome=outcome).inc(n)
        self._say(
            outcome,
            "Shadow %s: %d row(s) not compared (%s): %s; responses are unaffected "
            "(see prudent_shadow_rows_total).",
            self.version, n, outcome, why,
        )  # fmt: skip

    def _say(self, key: str, message: str, *args: object) -> None:
        """Log a warning, at most once a minute per ``key``."""
        now = time.monotonic()
        if now - self._said.get(key, -120.0) >= 60.0:
            self._said[key] = now
            logger.warning(message, *args)
