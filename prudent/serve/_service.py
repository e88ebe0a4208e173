"""The service's lifecycle, free of any protocol: load, hot swap, drain, stop.

The bundle is loaded, the log opened and the smoke prediction run on a background thread, so
that a liveness probe answers at once while :meth:`Service.health` says why it is not ready yet
(or ever: a tampered bundle is refused, and the reason is logged). Refusals are domain errors
(:class:`~prudent.errors.UnknownModelError`, :class:`~prudent.errors.NotReadyError`,
:class:`~prudent.errors.ReloadRefusedError`); ``prudent.api`` maps them to statuses.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prudent.config import Settings
from prudent.data import Schema
from prudent.errors import (
    BundleError,
    ConfigError,
    NotReadyError,
    ReloadRefusedError,
    UnknownModelError,
)
from prudent.serve._health import Health
from prudent.serve._limits import InputLimits
from prudent.serve._metrics import ServeMetrics
from prudent.serve._predictor import Predictor, ServingOptions
from prudent.serve._served import BackupFn, PrimaryFn, check_replacement
from prudent.serve._shadow import Shadow, ShadowOptions
from prudent.store import (
    LogStore,
    PredictionRecord,
    QueueEntry,
    SqlPredictionLog,
    Triage,
    review_only,
    utc_now,
)

if TYPE_CHECKING:
    from prudent.bundle import Bundle

__all__ = ["Service"]

logger = logging.getLogger("prudent.serve")

_STAYS_UP = (
    "The server keeps running, live but not ready (predictions get 503): fix or replace the "
    "bundle, then reload it (SIGHUP, or POST /admin/reload), or stop the server."
)
"""Said after a first load that failed: the process waits for a bundle (R-V2-HEALTH,
R-BUNDLE-INTEGRITY) instead of exiting, and a reload loads it."""


class Service:
    """Holds what the routes need; see the module docstring.

    Parameters
    ----------
    settings
        The service settings.
    metrics
        The metrics of this app.
    bundle
        An already loaded bundle; loaded from ``settings.bundle`` when None.
    log
        An open prediction log (the caller closes it); opened from ``settings.log_db`` when None.
    triage
        Gives, for a bundle, which of its predictions the log opened from ``settings.log_db``
        queues for review (by default every ``review``); the faces pass a
        ``prudent.feedback.QueuePolicy`` built from the bundle's manifest (its cost matrix).
        It is called again for each bundle loaded, a hot swap included, and each prediction
        is triaged by the policy of the bundle that made it.
    clock, primary, backup
        Passed to :class:`~prudent.serve.Predictor`.
    """

    def __init__(
        self,
        settings: Settings,
        metrics: ServeMetrics,
        *,
        bundle: Bundle | None = None,
        log: LogStore | None = None,
        triage: Callable[[Bundle], Triage] | None = None,
        clock: Callable[[], datetime] = utc_now,
        primary: PrimaryFn | None = None,
        backup: BackupFn | None = None,
    ) -> None:
        if bundle is None and settings.bundle is None:
            raise ConfigError("No bundle to serve: give its folder (prudent serve BUNDLE).")
        self.settings = settings
        self.metrics = metrics
        self.predictor: Predictor | None = None
        self.failure: str | None = None
        self._bundle = bundle
        self._log = log
        self._own_log = log is None
        self._triage_for = triage
        self._triages: dict[str, Triage] = {}
        """Bundle version → its triage (the bundles served lately: the current one last)."""
        self._seams = (clock, primary, backup)
        self._draining = False
        self._task: asyncio.Future[None] | None = None
        self._reload_lock = asyncio.Lock()
        self._reloads: set[asyncio.Task[tuple[str, str]]] = set()

    def describe(self) -> tuple[Schema | None, list[Any] | None]:
        """The bundle's schema and classes for the API documentation (None when unreadable).

        Read from the manifest without verifying the bundle: documentation only; the verified
        load decides whether anything is served.
        """
        if self._bundle is not None:
            return self._bundle.schema, self._bundle.classes
        assert self.settings.bundle is not None
        try:
            manifest = json.loads((self.settings.bundle / "manifest.json").read_text("utf-8"))
            return Schema.from_dict(manifest["schema"]), list(manifest["classes"])
        except (OSError, ValueError, KeyError, TypeError):
            return None, None

    def start(self) -> None:
        """Begin loading on a background thread (call from the event loop)."""
        self._task = asyncio.ensure_future(asyncio.to_thread(self.load))

    def load(self) -> None:
        """Load the bundle, open the log, build the predictor and smoke-test it; blocks."""
        log = self._log
        try:
            bundle = self._bundle if self._bundle is not None else _load(self.settings)
            _limit_threads(self.settings.model_threads)
            if log is None:
                log = SqlPredictionLog.open(
                    self.settings.log_db,
                    synchronous=self.settings.synchronous,
                    triage=self._triage,
                )
            self._new_triage(bundle)
            predictor = self._predictor(bundle, log)
            predictor.warm_up()
            predictor.shadow = self._shadow(predictor)
        except Exception as exc:
            self.failure = f"{type(exc).__name__}: {exc}"
            logger.error("prudent is not ready: %s. %s", self.failure.rstrip("."), _STAYS_UP)
            if self._own_log and log is not None:
                log.close()
            return
        self._log = log
        self.predictor = predictor
        logger.info(
            "Serving bundle %s as %r (log: %s); %s",
            bundle.version,
            self.settings.model_name,
            getattr(log, "url", type(log).__name__),
            predictor.health().reason,
        )

    async def reload(self) -> tuple[str, str]:
        """Load the bundle folder again and serve it from now on, while requests run.

        The new bundle is loaded, verified and smoke-tested before it replaces the old one;
        requests already started finish on the old one and none is refused (R-HOT-SWAP). One
        reload runs at a time.

        Returns
        -------
        tuple of (str, str)
            The version served before, and the version served now.

        Raises
        ------
        ReloadRefusedError
            The new bundle is invalid, tampered with, or differs in inputs or classes; the old
            one is still served, and the log says why.
        NotReadyError
            The service is still loading its first bundle, or shutting down.
        """
        async with self._reload_lock:
            try:
                return await asyncio.to_thread(self._swap)
            except BundleError as exc:
                raise ReloadRefusedError(f"{exc} The bundle served is unchanged.") from exc

    def reload_soon(self) -> None:
        """Start :meth:`reload` in the background (on SIGHUP); its outcome is logged."""
        task = asyncio.ensure_future(self.reload())
        self._reloads.add(task)
        task.add_done_callback(self._reloaded)

    def _reloaded(self, task: asyncio.Task[tuple[str, str]]) -> None:
        self._reloads.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: the outcome was logged by the reload itself

    def _swap(self) -> tuple[str, str]:
        predictor = self.predictor
        if self._draining or predictor is None:
            if self._draining or self._task is None or not self._task.done():
                raise NotReadyError("The service is starting or shutting down; reload later.")
            self.load()  # the first load failed: try again, the bundle may be fixed now
            if self.predictor is None:
                self.metrics.reloads.labels(outcome="refused").inc()
                raise BundleError(f"The bundle still cannot be served: {self.failure}.")
            self.failure = None
            self.metrics.reloads.labels(outcome="swapped").inc()
            return "none", self.predictor.bundle.version
        if self.settings.bundle is None:
            raise BundleError("This service was given a bundle, not a folder: nothing to reload.")
        try:
            bundle = _load(self.settings)
            _limit_threads(self.settings.model_threads)
            self._new_triage(bundle)
            previous = predictor.swap(bundle)
        except Exception as exc:
            self.metrics.reloads.labels(outcome="refused").inc()
            logger.error("Reload refused; still serving %s: %s", predictor.bundle.version, exc)
            if isinstance(exc, BundleError):
                raise
            raise BundleError(
                f"The new bundle cannot be loaded: {type(exc).__name__}: {exc}"
            ) from exc
        self.metrics.reloads.labels(outcome="swapped").inc()
        logger.info("Hot swap: now serving bundle %s (was %s).", bundle.version, previous)
        return previous, bundle.version

    def _new_triage(self, bundle: Bundle) -> None:
        """Build ``bundle``'s triage before it serves (the four latest bundles are kept)."""
        if self._triage_for is None:
            return
        kept = {v: t for v, t in self._triages.items() if v != bundle.version}
        kept[bundle.version] = self._triage_for(bundle)
        self._triages = dict(list(kept.items())[-4:])  # replaced whole: readers see one dict

    def _triage(self, record: PredictionRecord) -> QueueEntry | None:
        """Triage ``record`` by the policy of the bundle that made it (else the one served)."""
        triages, served = self._triages, self.predictor
        chosen = triages.get(record.model_version)
        if chosen is None and served is not None:
            chosen = triages.get(served.bundle.version)
        if chosen is None and triages:
            chosen = list(triages.values())[-1]
        return (chosen or review_only)(record)

    def _predictor(self, bundle: Bundle, log: LogStore) -> Predictor:
        s = self.settings
        options = ServingOptions(
            model_name=s.model_name,
            limits=InputLimits(max_rows=s.max_rows, max_string_chars=s.max_string_chars),
            max_concurrency=s.max_concurrency,
            queue_size=s.queue_size,
            deadline_ms=s.deadline_ms,
            primary_share=s.primary_share,
            batch_rows=s.batch_rows,
            model_process=s.model_process,
            model_threads=s.model_threads,
        )
        clock, primary, backup = self._seams
        return Predictor(
            bundle,
            log,
            clock,
            options=options,
            metrics=self.metrics,
            primary=primary,
            backup=backup,
        )

    def _shadow(self, predictor: Predictor) -> Shadow | None:
        """The shadow of ``serve --shadow``, or None; a shadow that cannot start is logged and
        left out: it never keeps the service from serving."""
        s = self.settings
        if s.shadow is None:
            return None
        try:
            bundle = _load(s.shadow)
            check_replacement(predictor.bundle, bundle)
        except Exception as exc:
            logger.error("Shadow %s is not scored, serving without it: %s", s.shadow, exc)
            return None
        options = ShadowOptions(
            timeout_ms=s.shadow_timeout_ms, queue_size=s.shadow_queue_size, nice=s.shadow_nice
        )
        logger.info(
            "Shadow scoring with bundle %s; its answers go to %s.", bundle.version, s.log_db
        )
        return Shadow(bundle, s.log_db, self.metrics, options=options, clock=self._seams[0])

    def drain(self) -> None:
        """Stop being ready at once (shutdown begins); requests already started complete.

        Only sets a flag, so that it is safe to call from a signal handler.
        """
        self._draining = True

    async def stop(self) -> None:
        """Drain, wait for the loader, stop the model threads, then flush and close the log."""
        self.drain()
        if self._task is not None:
            await self._task
        if self.predictor is not None:
            await asyncio.to_thread(self.predictor.close)
            if self.predictor.shadow is not None:
                await asyncio.to_thread(self.predictor.shadow.close)
        if self._own_log and self._log is not None:
            await asyncio.to_thread(self._log.close)
            logger.info("Prediction log flushed and closed.")

    def health(self) -> Health:
        """Whether the service is ready, and why not; blocks (pings the log)."""
        if self._draining or self.predictor is None:
            if self._draining:
                reason = "draining: the service is shutting down"
            else:
                reason = self.failure or "loading the bundle"
            self.metrics.ready.set(0)
            return Health(live=True, ready=False, reason=reason)
        return self.predictor.health()

    def predictor_for(self, name: str, version: str | None = None) -> Predictor:
        """Return the predictor serving model ``name`` (and ``version`` when given).

        Raises
        ------
        UnknownModelError
            Another model name or version.
        NotReadyError
            The bundle is not loaded (yet, or it failed to load).
        """
        if name != self.settings.model_name:
            raise UnknownModelError(
                f"Model {name!r} is not served here; the model is {self.settings.model_name!r}."
            )
        if self.predictor is None:
            reason = self.failure or "the bundle is still loading"
            raise NotReadyError(f"Model {name!r} is not ready: {reason.rstrip('.')}.")
        if version is not None and version != self.predictor.bundle.version:
            raise UnknownModelError(
                f"Model {name!r} has no version {version!r}; the version served is "
                f"{self.predictor.bundle.version!r}.",
            )
        return self.predictor


def _limit_threads(n: int) -> None:
    """Cap the BLAS and OpenMP pools of every library loaded (process-wide, on purpose).

    Only when a pool is larger: resizing a pool while another thread computes in it is not
    safe in every BLAS, and on a hot swap the model threads are busy.
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    if any(pool.get("num_threads", 1) > n for pool in threadpool_info()):
        threadpool_limits(limits=n)


def _load(source: Settings | Path) -> Bundle:
    from prudent.bundle import load

    path = source.bundle if isinstance(source, Settings) else source
    assert path is not None
    return load(path.resolve())  # a link (a registry alias) is read at one target
