"""The service's Prometheus metrics, created on a registry passed in (never a global one).

Names follow R-METRICS: every name starts with ``prudent_``, counters end in ``_total`` and
durations in ``_seconds``. With several server processes, prometheus_client's multi-process
mode (``PROMETHEUS_MULTIPROC_DIR`` set before it is imported) stores values in shared files and
:func:`render_metrics` aggregates them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["CONTENT_TYPE", "ServeMetrics", "render_metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SHARE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
_SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 2.0, 5.0, 10.0)


class ServeMetrics:
    """Every metric the service exports, registered on ``registry``.

    Parameters
    ----------
    registry
        Where the metrics are registered; a fresh one by default.

    Examples
    --------
    >>> m = ServeMetrics()
    >>> m.predictions.labels(decision="accept").inc(3)
    >>> b"prudent_predictions_total" in render_metrics(m.registry)
    True
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        # registered in this order, which is the order of the exposition text
        self._add_traffic(self.registry)
        self._add_outcomes(self.registry)
        self._add_bundle(self.registry)
        self._add_process(self.registry)

    def _add_traffic(self, r: CollectorRegistry) -> None:
        """The HTTP requests and the predictions served: counts, durations, confidence and OOD
        score."""
        self.requests = Counter(
            "prudent_requests",
            "HTTP requests answered, by route template, method and status code.",
            ("endpoint", "method", "code"),
            registry=r,
        )
        self.request_duration = Histogram(
            "prudent_request_duration_seconds",
            "Time from request received to response sent, by route template.",
            ("endpoint",),
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.predictions = Counter(
            "prudent_predictions",
            "Rows predicted and logged, by decision (accept, rule, backup, review).",
            ("decision",),
            registry=r,
        )
        self.confidence = Histogram(
            "prudent_prediction_confidence",
            "Confidence of the predictions served.",
            buckets=_SHARE_BUCKETS,
            registry=r,
        )
        self.ood_score = Histogram(
            "prudent_prediction_ood_score",
            "Out-of-distribution score of the predictions served.",
            buckets=_SCORE_BUCKETS,
            registry=r,
        )

    def _add_outcomes(self, r: CollectorRegistry) -> None:
        """What went otherwise than planned: log failures, labels received, fallbacks, refusals
        for overload, and the requests in flight."""
        self.log_write_failures = Counter(
            "prudent_log_write_failures",
            "Prediction batches the log failed to commit (their requests got an error).",
            registry=r,
        )
        self.feedback = Counter(
            "prudent_feedback",
            "Labels received, by outcome (created, duplicate, correction, unknown, refused).",
            ("status",),
            registry=r,
        )
        self.fallbacks = Counter(
            "prudent_fallbacks",
            "Requests the primary model did not answer in time or at all, by who answered "
            "instead (backup, review).",
            ("to",),
            registry=r,
        )
        self.overloaded = Counter(
            "prudent_overloaded",
            "Prediction requests refused at once because every slot was taken.",
            registry=r,
        )
        self.in_flight = Gauge(
            "prudent_requests_in_flight",
            "Prediction requests being computed or waiting for a slot.",
            registry=r,
            multiprocess_mode="livesum",
        )

    def _add_bundle(self, r: CollectorRegistry) -> None:
        """The bundle served, its hot swaps, and the shadow model's rows and restarts."""
        self.bundle_info = Gauge(
            "prudent_bundle_info",
            "The bundle being served (value 1), by model name and bundle hash.",
            ("model_name", "version"),
            registry=r,
            multiprocess_mode="max",
        )
        self.reloads = Counter(
            "prudent_bundle_reloads",
            "Hot swaps asked for, by outcome (swapped, refused: the old bundle still served).",
            ("outcome",),
            registry=r,
        )
        self.shadow = Counter(
            "prudent_shadow_rows",
            "Served rows sent to the shadow model (serve --shadow), by outcome: scored and "
            "stored, or not compared (queue_full, timeout, failed); never in a response.",
            ("outcome",),
            registry=r,
        )
        self.shadow_restarts = Counter(
            "prudent_shadow_restarts",
            "Shadow processes started again (serve --shadow), by why the last one ended: "
            "crashed, timeout (killed: no answer in time), start_failed (could not load).",
            ("reason",),
            registry=r,
        )

    def _add_process(self, r: CollectorRegistry) -> None:
        """The model's own process, its losses, and readiness."""
        self.model_process = Gauge(
            "prudent_model_process",
            "1 when the served model scores in a process of its own, 0 while the service "
            "scores it in process (starting, restarting, or turned off).",
            registry=r,
            multiprocess_mode="min",
        )
        self.model_process_lost = Counter(
            "prudent_model_process_lost",
            "Model processes lost while scoring, by reason: crashed, timeout (killed: no "
            "answer to a call within its hung bound, 10 times the primary's share of the "
            "deadline or at least 10 s); each is started again.",
            ("reason",),
            registry=r,
        )
        self.ready = Gauge(
            "prudent_ready",
            "1 when the service is ready to predict, else 0.",
            registry=r,
            multiprocess_mode="min",
        )


class _WithoutCreated(CollectorRegistry):
    """A view of a registry without the ``*_created`` timestamps, which break the naming rules
    (a counter's family would hold a gauge not ending in ``_total``)."""

    def __init__(self, source: CollectorRegistry) -> None:
        super().__init__(auto_describe=False)
        self._source = source

    def collect(self) -> Iterator[Metric]:
        for metric in self._source.collect():
            metric.samples = [s for s in metric.samples if not s.name.endswith("_created")]
            yield metric


def render_metrics(registry: CollectorRegistry, multiprocess_dir: Path | None = None) -> bytes:
    """Return the metrics in the Prometheus text format.

    Parameters
    ----------
    registry
        The registry of this process.
    multiprocess_dir
        prometheus_client's multi-process folder, when several workers share it: the values of
        every worker are aggregated from it instead.

    Returns
    -------
    bytes
        The exposition text.
    """
    if multiprocess_dir is None:
        return generate_latest(_WithoutCreated(registry))
    merged = CollectorRegistry()
    MultiProcessCollector(merged, path=str(multiprocess_dir))  # type: ignore[no-untyped-call]
    return generate_latest(_WithoutCreated(merged))
