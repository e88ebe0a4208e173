"""The served model in a process of its own, so that scoring never holds the service's GIL.

A 1-row prediction holds Python's interpreter lock for most of its few milliseconds, and so
does the HTTP server's own work on each request (parsing, validation, the answer): in one
process they take turns, and eight concurrent clients get little more than one. In a process
of its own the model scores while the service reads and answers other requests, on the other
core.

:class:`ModelProcess` is the predictor's primary path when ``prudent serve`` runs with
``model_process`` (the default). The child is forked from the fork server that the shadow uses
too (``serve/_shadow_boot.py`` preloads the loading code), loads the bundle from its folder
(verified; refused unless it is still the version the service checked), caps its BLAS and
OpenMP pools, scores one stored row so that first-call costs are paid at once, and then
answers over one duplex pipe::

    service -> child   parts (each request's rows as received: tables or JSON records),
                       ..., None (stop)
    child -> service   ("ready", version) or ("failed", why, refused) once;
                       then per call ("scored", Predictions) or ("raised", exception)

A call that raises in the child raises the same exception in the service (a :class:`DataError`
stays a 4xx; anything else makes the predictor answer with the backup model, as in process).
A call the child does not answer within ``timeout_s`` raises :class:`ModelProcessLate` (the
backup answers it) and the child is left to finish it: when the answer comes the child serves
again (a slow batch costs no restart); when it has not come within ``hung_s`` the child is
killed. A child that dies or is killed so fails its call with :class:`ModelProcessLost` and
is started again after 1 s. While there is no child free, calls are scored in the service's
own process, so the service answers throughout. A child that cannot start is tried again
after a pause that doubles up to 60 s, except when the bundle itself was refused (changed on
disk): then the service keeps scoring in process and says so once.
"""

from __future__ import annotations

import logging
import pickle
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from prudent.errors import BundleError
from prudent.models import Predictions
from prudent.serve._rows import Rows, rows_frame
from prudent.serve._shadow_process import ChildHandle, load_in_child, send_within, start_child

if TYPE_CHECKING:
    from prudent.bundle import Bundle

__all__ = ["ModelProcess", "ModelProcessLate", "ModelProcessLost", "ModelSpec", "model_main"]

logger = logging.getLogger("prudent.serve")

_STOP_WAIT_S = 5.0
_MAX_DELAY_S = 60.0

OnChange = Callable[["ModelProcess", bool, str | None], None]
"""Told ``(process, running, lost_reason)`` each time the child starts (``True, None``), is
lost (``False, "crashed" | "timeout"``), cannot start or is stopped (``False, None``)."""


class ModelProcessLate(TimeoutError):
    """The model's process did not answer a call in time; it is given until its hung bound
    to answer (then it serves again) before it is killed."""

    def __init__(self, message: str, sent_at: float) -> None:
        super().__init__(message)
        self.sent_at = sent_at


class ModelProcessLost(RuntimeError):
    """The model's process died (``reason`` ``"crashed"``) or was killed for slowness
    (``"timeout"``) while scoring a call."""

    def __init__(self, message: str, reason: Literal["crashed", "timeout"]) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ModelSpec:
    """What the model's process loads and how it runs.

    Parameters
    ----------
    bundle
        The bundle's folder (resolved).
    version
        The version the service checked; the child refuses another one.
    threads
        Most threads of the child's BLAS and OpenMP pools.
    """

    bundle: Path
    version: str
    threads: int = 1


def model_main(spec: ModelSpec, conn: Connection) -> None:
    """Run the model's process: load, say ready (or why not), then score calls until stopped.

    Parameters
    ----------
    spec
        What to load and how to run.
    conn
        The child's end of the pipe to the service.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service decides when its model stops
    try:
        bundle = load_in_child(spec.bundle, spec.version, spec.threads)
    except Exception as exc:
        conn.send(("failed", f"{type(exc).__name__}: {exc}", isinstance(exc, BundleError)))
        return
    conn.send(("ready", bundle.version))
    while True:
        try:
            parts = conn.recv()
        except EOFError:  # the service is gone
            return
        if parts is None:
            return
        try:
            out = bundle.predictions(rows_frame(parts))
        except Exception as exc:
            conn.send(("raised", _portable(exc)))
        else:
            conn.send(("scored", out))


def _portable(exc: Exception) -> Exception:
    """``exc`` itself when it survives pickling, else a RuntimeError naming it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


class _Child(ChildHandle):
    """One running model process and the service's end of its pipe."""

    @classmethod
    def spawn(cls, spec: ModelSpec) -> _Child:
        """Start a child; it then loads (see :meth:`ready`)."""
        return cls(*start_child(model_main, spec, "prudent-model"))

    def ready(self, timeout_s: float) -> tuple[str, bool] | None:
        """Wait until the child has loaded: None, else ``(why, refused)`` (it is gone then)."""
        try:
            reply = self.conn.recv() if self.conn.poll(timeout_s) else None
        except (EOFError, OSError):
            reply = ("failed", f"the process {self.gone()}", False)
        if reply is not None and reply[0] == "ready":
            return None
        self.kill()
        if reply is None:
            return f"it did not load in {timeout_s:.0f} s", False
        return str(reply[1]), bool(reply[2])

    def score(self, parts: Sequence[Rows], timeout_s: float) -> Predictions:
        """Score ``parts`` in the child; its exception is raised here.

        Raises
        ------
        ModelProcessLost
            The child ended (``crashed``), or did not read a large call within ``timeout_s``
            (``timeout``: it is killed then).
        ModelProcessLate
            The child read the call but did not answer within ``timeout_s``; it may still.
        """
        start = time.monotonic()
        try:
            sent = send_within(self.conn, self.process, list(parts), timeout_s)
            if not sent:  # killed by send_within's watchdog
                self.kill()
                why = f"the model's process read no call in {timeout_s * 1000:.0f} ms"
                raise ModelProcessLost(why, "timeout")
            left = timeout_s - (time.monotonic() - start)
            answered = self.conn.poll(max(left, 0.0))
            reply: tuple[str, object] = self.conn.recv() if answered else ("late", None)
            kind, value = reply
        except (EOFError, OSError) as exc:
            why = f"the model's process {self.gone()} ({type(exc).__name__} on its pipe)"
            raise ModelProcessLost(why, "crashed") from exc
        if kind == "late":
            why = f"the model's process gave no answer in {timeout_s * 1000:.0f} ms"
            raise ModelProcessLate(why, start)
        if kind == "raised" and isinstance(value, BaseException):
            raise value
        if not isinstance(value, Predictions):
            raise TypeError(f"the model's process answered {kind!r}")
        return value

    def late_answer(self, within_s: float) -> Literal["crashed", "timeout"] | None:
        """Wait up to ``within_s`` for the answer to a late call and drop it: None when it
        came (the child is free again), else the reason it is lost (``timeout``: still
        silent, killed; ``crashed``)."""
        try:
            if not self.conn.poll(max(within_s, 0.0)):
                self.kill()
                return "timeout"
            self.conn.recv()
        except (EOFError, OSError):
            return "crashed"
        return None


class ModelProcess:
    """A saved bundle's primary path, scored in a process of its own (started in the
    background; scored in process until it runs, and whenever it is lost).

    Parameters
    ----------
    bundle
        The bundle, saved: the child loads it again from its folder.
    timeout_s
        Longest a call may wait for the child (then it raises :class:`ModelProcessLate`, and
        calls are scored in process while the child finishes it).
    hung_s
        Longest the child may take over one call before it is killed and started again
        (default: ten times ``timeout_s``, at least 10 s): a slow batch is waited for, a hung
        child is not.
    threads
        Most threads of the child's BLAS and OpenMP pools.
    start_timeout_s
        Longest a child may take to load before it is killed.
    on_change
        Told each start and loss (the service's gauge and counter).
    """

    def __init__(
        self,
        bundle: Bundle,
        *,
        timeout_s: float,
        hung_s: float | None = None,
        threads: int = 1,
        start_timeout_s: float = 300.0,
        on_change: OnChange | None = None,
    ) -> None:
        if bundle.path is None:
            raise ValueError("The model's process loads the bundle from disk: save it first.")
        self.bundle = bundle
        self.timeout_s = timeout_s
        self.hung_s = max(timeout_s, max(10.0 * timeout_s, 10.0) if hung_s is None else hung_s)
        self.start_timeout_s = start_timeout_s
        self._spec = ModelSpec(bundle.path.resolve(), bundle.version, threads)
        self._on_change = on_change or (lambda process, running, reason: None)
        self._child: _Child | None = None
        self._starting: _Child | None = None  # loading, not yet ready
        self._late: _Child | None = None  # finishing a late call
        self._pipe = threading.Lock()  # one call at a time on the pipe
        self._wanted = threading.Event()  # the starter should start a child
        self._closing = threading.Event()
        self._delay = 0.0
        self.starts = 0
        self._wanted.set()
        self._starter = threading.Thread(target=self._run, name="prudent-model-start", daemon=True)
        self._starter.start()

    @property
    def pid(self) -> int | None:
        """The child's process id; None while there is none."""
        child = self._child
        return child.process.pid if child is not None else None

    def __call__(self, frame: pd.DataFrame) -> Predictions:
        """Score ``frame`` (a primary path: ``Served.primary``)."""
        return self.score([frame])

    def score(self, parts: Sequence[Rows]) -> Predictions:
        """Score the rows of ``parts`` together, in the child when it runs, else here.

        Raises
        ------
        ModelProcessLost
            The child died while scoring them (it is started again).
        ModelProcessLate
            The child did not answer within ``timeout_s`` (a thread waits for it).
        """
        with self._pipe:
            child = self._child
            if child is None:
                return self.bundle.predictions(rows_frame(parts))
            try:
                out = child.score(parts, self.timeout_s)
            except ModelProcessLost as lost:
                self._lost(child, lost)
                raise
            except ModelProcessLate as late:
                self._child, self._late = None, child
                self._on_change(self, False, None)
                threading.Thread(
                    target=self._await, args=(child, late.sent_at), name="prudent-model-late",
                    daemon=True,
                ).start()  # fmt: skip
                raise
        self._delay = 0.0
        return out

    def _await(self, child: _Child, sent_at: float) -> None:
        """Let a late child finish its call: it serves again, or it is killed at ``hung_s``."""
        reason = child.late_answer(self.hung_s - (time.monotonic() - sent_at))
        with self._pipe:
            self._late = None
            if self._closing.is_set():
                child.kill()
                return
            if reason is None:
                self._child = child
                self._on_change(self, True, None)
                return
        why = f"no answer in {self.hung_s:.0f} s" if reason == "timeout" else child.gone()
        self._lost(child, ModelProcessLost(f"the model's process {why}", reason))

    def _lost(self, child: _Child, lost: ModelProcessLost) -> None:
        child.kill()
        self._child = None
        self._on_change(self, False, lost.reason)
        if self._closing.is_set():
            return
        self._delay = min(max(2.0 * self._delay, 1.0), _MAX_DELAY_S)
        logger.warning(
            "Bundle %s: the model's process was lost (%s); scoring in the service's own "
            "process until it runs again, in %.0f s.", self.bundle.version, lost, self._delay,
        )  # fmt: skip
        self._wanted.set()

    def _run(self) -> None:
        """Start a child whenever one is wanted, until closed."""
        while self._wanted.wait() and not self._closing.is_set():
            if self._closing.wait(self._delay):
                return
            self._wanted.clear()
            try:
                started = self._starting = _Child.spawn(self._spec)
                failed = started.ready(self.start_timeout_s)
            except Exception as exc:  # the process could not even be created
                failed = (f"{type(exc).__name__}: {exc}", False)
            finally:
                self._starting = None
            if self._closing.is_set():
                if failed is None:
                    started.kill()
                return
            if failed is None:
                self._child = started
                self.starts += 1
                self._on_change(self, True, None)
                if self.starts > 1:
                    logger.warning(
                        "Bundle %s: the model's process is running again (process %s).",
                        self.bundle.version, started.process.pid,
                    )  # fmt: skip
                continue
            why, refused = failed
            self._on_change(self, False, None)
            if refused:
                logger.error(
                    "Bundle %s: the model's process cannot start (%s); scoring in the "
                    "service's own process.", self.bundle.version, why,
                )  # fmt: skip
                return
            self._delay = min(max(2.0 * self._delay, 1.0), _MAX_DELAY_S)
            logger.warning(
                "Bundle %s: the model's process did not start (%s); scoring in the service's "
                "own process, trying again in %.0f s.", self.bundle.version, why, self._delay,
            )  # fmt: skip
            self._wanted.set()

    def close(self) -> None:
        """Stop the child (calls then score in process); waits for a call it is scoring."""
        self._closing.set()
        self._wanted.set()
        deadline = time.monotonic() + _STOP_WAIT_S
        while self._starter.is_alive() and time.monotonic() < deadline:
            starting = self._starting
            if starting is not None:  # loading: not waited for
                starting.kill()
            self._starter.join(0.05)
        late = self._late
        if late is not None:  # finishing a late call: not waited for
            late.kill()
        with self._pipe:
            child, self._child = self._child, None
        if child is not None:
            child.stop()
            self._on_change(self, False, None)
