"""Shadow scoring: a second bundle scores every served request off the response path.

The predictor hands each answered request's rows and prediction ids to :meth:`Shadow.submit`,
which only puts them on a bounded queue (a full queue drops them, counted) and returns. One
thread of the shadow's own takes what is waiting, waits for a moment when no request is being
computed (at most its timeout: requests come first), scores it in one call, and stores the
answers under the same ids (:class:`~prudent.store.ShadowLog`). A shadow that fails, or takes
longer than its timeout, has its answers dropped and counted
(``prudent_shadow_rows_total{outcome}``) and said in the log (at most once a minute per
outcome); nothing of it reaches a response. A thread cannot be stopped from outside: a shadow
stuck for good keeps its thread, and every later request is dropped as ``queue_full``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from prudent.models import Predictions
from prudent.serve._metrics import ServeMetrics
from prudent.store import ShadowRecord, utc_now

if TYPE_CHECKING:
    from prudent.bundle import Bundle

__all__ = ["Shadow", "ShadowOptions", "ShadowWriter"]

logger = logging.getLogger("prudent.serve")

ShadowWriter = Callable[[Sequence[ShadowRecord]], None]
"""Stores shadow answers (``ShadowLog.write``); blocks; raises on failure."""

_Job = tuple[pd.DataFrame, list[str]]
_STOP: _Job = (pd.DataFrame(), [])


@dataclass(frozen=True)
class ShadowOptions:
    """How much a shadow may hold and take.

    Parameters
    ----------
    timeout_ms
        Longest a batch may take to score; slower answers are dropped (``timeout``).
    queue_size
        Requests waiting to be scored; more are dropped at once (``queue_full``).
    batch_rows
        Most rows scored in one call (waiting requests are scored together up to it).
    """

    timeout_ms: float = 2000.0
    queue_size: int = 64
    batch_rows: int = 512


class Shadow:
    """Score served requests with ``bundle`` on a thread of its own and store the answers.

    Parameters
    ----------
    bundle
        The shadow (challenger) bundle.
    write
        Stores its answers (``ShadowLog.write``).
    metrics
        Where the outcomes are counted.
    options
        Timeout, queue and batch sizes.
    score
        Scores rows (``bundle.predictions`` by default; a seam for fault tests).
    clock
        Returns the current UTC time (stamped on the answers).
    idle
        Whether no request is being computed now: a batch waits for such a moment (up to
        the timeout) before it is scored, so the shadow takes the cores when requests do not.
    """

    def __init__(
        self,
        bundle: Bundle,
        write: ShadowWriter,
        metrics: ServeMetrics,
        *,
        options: ShadowOptions | None = None,
        score: Callable[[pd.DataFrame], Predictions] | None = None,
        clock: Callable[[], datetime] = utc_now,
        idle: Callable[[], bool] = lambda: True,
    ) -> None:
        self.version = bundle.version
        self.options = options or ShadowOptions()
        self._write = write
        self._metrics = metrics
        self._score = score or bundle.predictions
        self._clock = clock
        self._idle = idle
        self._queue: queue.Queue[_Job] = queue.Queue(maxsize=self.options.queue_size)
        self._said: dict[str, float] = {}
        self._thread = threading.Thread(target=self._run, name="prudent-shadow", daemon=True)
        self._thread.start()

    def submit(self, frame: pd.DataFrame, ids: list[str], served_version: str) -> None:
        """Queue a served request's rows for the shadow; never blocks, never raises.

        Parameters
        ----------
        frame
            The rows as received.
        ids
            Their prediction ids.
        served_version
            The version that answered them: nothing is queued when it is the shadow's own
            (after the shadow was promoted and swapped in).
        """
        if served_version == self.version or not ids:
            return
        try:
            self._queue.put_nowait((frame, ids))
        except queue.Full:
            self._count("queue_full", len(ids), f"its queue of {self.options.queue_size} is full")

    def close(self, timeout_s: float = 5.0) -> None:
        """Score what is queued, then stop the thread (waits at most ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                self._queue.put(_STOP, timeout=0.1)
                break
            except queue.Full:
                continue
        self._thread.join(max(deadline - time.monotonic(), 0.0))

    def _run(self) -> None:
        while True:
            jobs = self._take()
            stop = jobs and jobs[-1] is _STOP
            jobs = [j for j in jobs if j is not _STOP]
            if jobs:
                self._wait_idle()
                self._score_jobs(jobs)
            if stop:
                return

    def _take(self) -> list[_Job]:
        """Block for one job, then take those waiting, up to ``batch_rows`` rows."""
        jobs = [self._queue.get()]
        rows = len(jobs[0][1])
        while rows < self.options.batch_rows and jobs[-1] is not _STOP:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            jobs.append(job)
            rows += len(job[1])
        return jobs

    def _wait_idle(self) -> None:
        deadline = time.monotonic() + self.options.timeout_ms / 1000.0
        while not self._idle() and time.monotonic() < deadline:
            time.sleep(0.002)

    def _score_jobs(self, jobs: list[_Job]) -> None:
        ids = [i for _, job_ids in jobs for i in job_ids]
        start = time.monotonic()
        try:
            frame = pd.concat([f for f, _ in jobs], ignore_index=True)
            out = self._score(frame)
            elapsed_ms = (time.monotonic() - start) * 1000.0
            if elapsed_ms > self.options.timeout_ms:
                limit = self.options.timeout_ms
                self._count("timeout", len(ids), f"it took {elapsed_ms:.0f} ms (limit {limit:.0f})")
                return
            self._write(_records(ids, out, self.version, self._clock(), elapsed_ms / len(ids)))
        except Exception as exc:
            self._count("failed", len(ids), f"{type(exc).__name__}: {exc}")
            return
        self._metrics.shadow.labels(outcome="scored").inc(len(ids))

    def _count(self, outcome: str, n: int, why: str) -> None:
        self._metrics.shadow.labels(outcome=outcome).inc(n)
        now = time.monotonic()
        if now - self._said.get(outcome, -120.0) >= 60.0:  # at most once a minute per outcome
            self._said[outcome] = now
            logger.warning(
                "Shadow %s: %d row(s) not compared (%s): %s; responses are unaffected "
                "(see prudent_shadow_rows_total).",
                self.version, n, outcome, why,
            )  # fmt: skip


def _records(
    ids: list[str], out: Predictions, version: str, now: datetime, latency_ms: float
) -> list[ShadowRecord]:
    return [
        ShadowRecord(
            prediction_id=pid, model_version=version, created_at=now,
            probabilities=values["probabilities"], prediction=values["prediction"],
            confidence=values["confidence"], decision=str(values["decision"]),
            latency_ms=latency_ms,
        )
        for pid, values in zip(ids, out.records(), strict=True)
    ]  # fmt: skip
