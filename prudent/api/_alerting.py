"""The service's alert evaluation: a thread that evaluates the rules every few seconds.

Every server process runs one; the lease in the log's database lets one of them (across every
replica) evaluate at a time. The loop waits one interval before its first evaluation, builds
the reference from the bundle being served (again after a hot swap), and sets the monitor's
gauges on the service's metrics registry.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from prudent.config import Settings
from prudent.monitor import AlertEvaluator, MonitorGauges, Reference, load_rules
from prudent.serve import ServeMetrics
from prudent.store import normalise_url

if TYPE_CHECKING:
    from prudent.serve import Predictor

__all__ = ["AlertLoop", "sql_log_url"]

logger = logging.getLogger("prudent.monitor")


class AlertLoop:
    """Evaluates the alert rules of the served model until stopped.

    Parameters
    ----------
    settings
        ``monitor_interval_s`` (0: never start), ``alerts``, ``alert_webhook``, ``log_db``.
    metrics
        The service's metrics (the gauges go on its registry; log write failures are read).
    predictor
        Returns the predictor once loaded (None before).
    """

    def __init__(
        self, settings: Settings, metrics: ServeMetrics, predictor: Callable[[], Predictor | None]
    ) -> None:
        self._settings, self._metrics, self._predictor = settings, metrics, predictor
        self._rules = load_rules(settings.alerts)  # a bad file fails at start, by key
        self._gauges = MonitorGauges(metrics.registry)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._evaluator: AlertEvaluator | None = None

    def start(self) -> None:
        """Start the thread (nothing when the interval is 0)."""
        if self._settings.monitor_interval_s > 0:
            self._thread = threading.Thread(target=self._run, name="prudent-alerts", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread and give the lease up; blocks until it ends."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        if self._evaluator is not None:
            self._evaluator.close()

    def _run(self) -> None:
        interval = self._settings.monitor_interval_s
        while not self._stop.wait(interval):
            try:
                evaluator = self._current()
                if evaluator is not None:
                    evaluator.evaluate()
            except Exception as exc:  # the loop outlives a database hiccup
                logger.error("alert evaluation failed: %s: %s", type(exc).__name__, exc)

    def _current(self) -> AlertEvaluator | None:
        predictor = self._predictor()
        url = None if predictor is None else self._log_url(predictor)
        if predictor is None or url is None:
            return None
        version = predictor.bundle.version
        old = self._evaluator
        if old is not None and old.reference.model_version == version:
            return old
        if old is not None:
            old.close()
        reference = Reference.from_bundle(predictor.bundle)
        ttl = timedelta(seconds=max(30.0, 3 * self._settings.monitor_interval_s))
        self._evaluator = AlertEvaluator(
            url, reference, self._rules, webhook=self._settings.alert_webhook,
            counters=self._counters, lease_ttl=ttl,
            on_evaluation=lambda e: self._gauges.update(e, reference.promises),
        )  # fmt: skip
        return self._evaluator

    def _counters(self) -> dict[str, float]:
        total = self._metrics.registry.get_sample_value("prudent_log_write_failures_total")
        return {"log_write_failures": float(total or 0.0)}

    def _log_url(self, predictor: Predictor) -> str | None:
        return sql_log_url(predictor, self._settings.log_db)


def sql_log_url(predictor: Predictor, configured: str) -> str | None:
    """The URL of the predictor's SQL log with its password (the log shows it hidden): the
    settings' when it is the same database; None for a log that is not SQL."""
    shown = getattr(predictor.log, "url", None)
    if shown is None:
        return None
    same = normalise_url(configured).render_as_string() == shown
    return configured if same else str(shown)
