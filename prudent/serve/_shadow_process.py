"""The shadow's own process: it loads the challenger, scores what the service sends, stores it.

:class:`ShadowProcess` is the service's handle on one such process; :func:`child_main` is what
runs in it. The process is forked from multiprocessing's fork server, which imports prudent's
loading code once (``serve/_shadow_boot.py``): the first start costs those imports (seconds
of CPU), a restart only the bundle's verified load (under a second for a small bundle). Where
there is no fork server, it is spawned. Either way the service's main module is imported again
in it, as multiprocessing does: a script that serves must guard its entry point with
``if __name__ == "__main__":`` (the ``prudent`` command does).

In the child the bundle is loaded (and its version checked), the BLAS/OpenMP pools are capped,
one row is scored (so that first-call costs are not charged to a batch's timeout), its
niceness is raised so that the kernel prefers the service (after the load, which runs once
per process) and the shadow log is opened on a connection of its own; then it answers batches
over one duplex pipe until told to stop, or until the service is gone::

    service -> child   Batch, ..., None (stop)
    child -> service   Reply("ready") or Reply("failed") once; then per batch
                       Reply("scored"), then Reply("stored") or Reply("failed");
                       or Reply("failed") alone when scoring raised

The child writes the answers itself, so that neither the rows' scoring nor their insert takes
the service's interpreter lock or its time; only the outcome comes back.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from prudent.errors import BundleError
from prudent.serve._health import smoke_rows
from prudent.store import ShadowLog, ShadowRecord

if TYPE_CHECKING:
    from multiprocessing.context import ForkServerContext, SpawnContext

    from prudent.bundle import Bundle
    from prudent.models import Predictions

__all__ = [
    "Batch",
    "ChildHandle",
    "ChildSpec",
    "Reply",
    "ShadowProcess",
    "child_context",
    "child_main",
    "send_within",
]

PRELOAD = ["prudent.serve._shadow_boot"]
"""Imported once by the fork server, before it forks any shadow or model process."""

_STOP_WAIT_S = 5.0
_PIPE_BUFFER = 32 * 1024
"""Bytes a pipe surely holds before its reader reads (Linux: 64 KiB or more)."""


@dataclass(frozen=True)
class ChildSpec:
    """What a shadow process loads and how it runs.

    Parameters
    ----------
    bundle
        The challenger's folder (resolved).
    version
        The version the service checked; the child refuses another one.
    log_url
        The prediction log's database, where the answers are stored.
    nice
        Added to the child's niceness once the bundle is loaded (0 leaves it).
    threads
        Most threads of the child's BLAS and OpenMP pools.
    """

    bundle: Path
    version: str
    log_url: str
    nice: int = 10
    threads: int = 1


@dataclass(frozen=True)
class Batch:
    """Served requests to score: each request's rows, prediction ids and answer time."""

    frames: list[pd.DataFrame]
    ids: list[list[str]]
    stamps: list[datetime]

    @property
    def rows(self) -> int:
        """How many rows the batch holds."""
        return sum(len(i) for i in self.ids)


@dataclass(frozen=True)
class Reply:
    """A message from the child: ``ready``, ``scored``, ``stored`` or ``failed`` (and why);
    ``timeout`` is the handle's own, when it killed a child that did not answer in time."""

    kind: Literal["ready", "scored", "stored", "failed", "timeout"]
    detail: str = ""
    elapsed_ms: float = 0.0


def child_main(spec: ChildSpec, conn: Connection) -> None:
    """Run a shadow process: load, say ready (or why not), then answer batches until stopped.

    Parameters
    ----------
    spec
        What to load and how to run.
    conn
        The child's end of the pipe to the service.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service decides when its shadow stops
    try:
        bundle, store = _start(spec)
    except Exception as exc:
        conn.send(Reply("failed", f"{type(exc).__name__}: {exc}"))
        return
    try:
        conn.send(Reply("ready", bundle.version))
        while True:
            try:
                batch = conn.recv()
            except EOFError:  # the service is gone
                return
            if batch is None:
                return
            conn.send(_answer(bundle, store, batch, conn))
    finally:
        store.close()


def _start(spec: ChildSpec) -> tuple[Bundle, ShadowLog]:
    bundle = load_in_child(spec.bundle, spec.version, spec.threads)
    if spec.nice > 0:
        os.nice(spec.nice)
    return bundle, ShadowLog.open(spec.log_url)


def load_in_child(path: Path, version: str, threads: int) -> Bundle:
    """Load the bundle at ``path`` in a child process, as the service checked it, ready to score.

    Its BLAS and OpenMP pools are capped at ``threads``, and one stored row is scored so that
    first-call costs are not charged to a call's timeout (a model that raises on it raises
    call by call).

    Raises
    ------
    BundleError
        The bundle there is no longer ``version`` (or does not load verified).
    """
    from threadpoolctl import threadpool_limits

    from prudent._compat import import_skops_io
    from prudent.bundle import load

    import_skops_io()  # imported already when forked from the fork server
    bundle = load(path)
    if bundle.version != version:
        raise BundleError(
            f"The bundle at {path} is now version {bundle.version}, not the {version} the "
            "service checked; restart the service to serve it."
        )
    threadpool_limits(limits=threads)
    with contextlib.suppress(Exception):
        bundle.predictions(smoke_rows(bundle))
    return bundle


def start_child(
    target: Callable[[Any, Connection], None], spec: object, name: str
) -> tuple[BaseProcess, Connection]:
    """Start ``target(spec, conn)`` in a child process; the process and the service's end of
    the pipe."""
    context = child_context()
    ours, theirs = context.Pipe()
    process = context.Process(target=target, args=(spec, theirs), name=name, daemon=True)
    try:
        process.start()
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()  # the child has its own copy
    return process, ours


def _answer(bundle: Bundle, store: ShadowLog, batch: Batch, conn: Connection) -> Reply:
    """Score ``batch``, say so, then store the answers; the last reply is returned."""
    start = time.monotonic()
    try:
        out = bundle.predictions(pd.concat(batch.frames, ignore_index=True))
    except Exception as exc:
        return Reply("failed", f"{type(exc).__name__}: {exc}")
    elapsed_ms = (time.monotonic() - start) * 1000.0
    conn.send(Reply("scored", elapsed_ms=elapsed_ms))
    try:
        store.write(_records(batch, out, bundle.version, elapsed_ms / batch.rows))
    except Exception as exc:
        return Reply("failed", f"{type(exc).__name__}: {exc}")
    return Reply("stored", elapsed_ms=elapsed_ms)


def _records(batch: Batch, out: Predictions, version: str, latency_ms: float) -> list[ShadowRecord]:
    keys = [(pid, at) for ids, at in zip(batch.ids, batch.stamps, strict=True) for pid in ids]
    return [
        ShadowRecord(
            prediction_id=pid, model_version=version, created_at=at,
            probabilities=values["probabilities"], prediction=values["prediction"],
            confidence=values["confidence"], decision=str(values["decision"]),
            latency_ms=latency_ms,
        )
        for (pid, at), values in zip(keys, out.records(), strict=True)
    ]  # fmt: skip


class ChildHandle:
    """The service's end of one child process (a shadow's or the model's): the process and
    its pipe, stopped or killed once whichever thread asks first.

    Parameters
    ----------
    process
        The process.
    conn
        The service's end of its pipe.
    """

    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self._closing = threading.Lock()  # a scoring thread and close() may both kill

    def gone(self) -> str:
        """How the process ended (or that it still runs), after a short wait for it."""
        self.process.join(1.0)
        code = self.process.exitcode
        return "is still running" if code is None else f"ended with exit code {code}"

    def stop(self, timeout_s: float = _STOP_WAIT_S) -> None:
        """Tell the process to stop and wait for it (killed after ``timeout_s``)."""
        with contextlib.suppress(OSError, ValueError):  # already gone
            self.conn.send(None)
        self.process.join(timeout_s)
        self.kill()

    def kill(self) -> None:
        """Kill the process at once (no-op when it has ended) and close the pipe, once."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(_STOP_WAIT_S)
        with self._closing:
            if not self.conn.closed:
                self.conn.close()


class ShadowProcess(ChildHandle):
    """The service's handle on one running shadow process; build it with :meth:`start`."""

    @classmethod
    def start(cls, spec: ChildSpec, timeout_s: float) -> ShadowProcess | str:
        """Start a shadow process and wait until it is ready; blocks.

        Parameters
        ----------
        spec
            What it loads and how it runs.
        timeout_s
            Longest wait for it to load; a slower one is killed.

        Returns
        -------
        ShadowProcess or str
            The ready process, or why it could not start (it is gone then).
        """
        process, ours = start_child(child_main, spec, "prudent-shadow")
        child = cls(process, ours)
        reply = child._wait(timeout_s)
        if reply is None or reply.kind != "ready":
            child.kill()
            return reply.detail if reply is not None else f"it did not load in {timeout_s:.0f} s"
        return child

    @property
    def pid(self) -> int | None:
        """The process id."""
        return self.process.pid

    def alive(self) -> bool:
        """Whether the process is running."""
        return self.process.is_alive()

    def score(self, batch: Batch, timeout_s: float, store_timeout_s: float) -> Reply:
        """Have ``batch`` scored and stored; blocks until answered, or kills the process.

        Parameters
        ----------
        batch
            The rows and ids.
        timeout_s
            Longest wait for the scores (from sending the batch); then the process is killed
            and the reply is ``timeout``.
        store_timeout_s
            Longest wait for the insert once scored; then the process is killed too
            (``timeout``).

        Returns
        -------
        Reply
            ``stored``; ``timeout`` (killed for slowness); or ``failed`` with why.
        """
        start = time.monotonic()
        try:
            sent = self._send(batch, timeout_s)
        except (OSError, ValueError) as exc:
            return Reply("failed", self._gone(exc))
        first = self._wait(timeout_s - (time.monotonic() - start)) if sent else None
        if first is None:
            self.kill()
            return Reply("timeout", f"no answer in {timeout_s * 1000.0:.0f} ms")
        if first.kind != "scored":
            return first
        last = self._wait(store_timeout_s)
        if last is None:
            self.kill()
            return Reply("timeout", f"storing its answers took over {store_timeout_s:.0f} s")
        return last

    def _send(self, batch: Batch, timeout_s: float) -> bool:
        return send_within(self.conn, self.process, batch, timeout_s)

    def _wait(self, timeout_s: float) -> Reply | None:
        """The next reply; None after ``timeout_s``; ``failed`` when the process ended."""
        try:
            if not self.conn.poll(timeout_s):
                return None
            reply: Reply = self.conn.recv()
        except (EOFError, OSError, ValueError) as exc:
            return Reply("failed", self._gone(exc))
        return reply

    def _gone(self, exc: Exception) -> str:
        return f"the shadow process {self.gone()} ({type(exc).__name__} on its pipe)"


def send_within(conn: Connection, process: BaseProcess, message: object, timeout_s: float) -> bool:
    """Send ``message`` to a child; False when it did not read it within ``timeout_s``.

    A message larger than the pipe's buffer waits for the child to read it: a watchdog kills
    a child that does not, which ends the wait.

    Raises
    ------
    OSError
        The child ended by itself (its end of the pipe is closed).
    """
    data = ForkingPickler.dumps(message)
    if len(data) <= _PIPE_BUFFER:
        conn.send_bytes(data)
        return True
    watchdog = threading.Timer(timeout_s, process.kill)
    watchdog.start()
    try:
        conn.send_bytes(data)
    except OSError:
        if watchdog.is_alive():
            raise  # the child ended by itself
        return False
    finally:
        watchdog.cancel()
    return True


def child_context() -> ForkServerContext | SpawnContext:
    """Fork server where there is one (forks from a clean, pre-imported process), else spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context
