"""The alert evaluation's figures as Prometheus gauges, on a registry passed in.

After each evaluation the evaluator's process sets, per rule window (``window="1h"``) and
measure, the figure and its 95% interval (``bound="point"|"low"|"high"``), the rows behind
it, the model's promise or reference value for each measure, and one 0/1 gauge per rule
(firing). The shipped ``prometheus-rules.yaml`` reads the same gauges, so Prometheus can apply
the default rules itself. A process that does not hold the evaluator's lease clears its
gauges, so only the evaluating replica exports them (``mostrecent`` in multi-process mode).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Literal

from prometheus_client import CollectorRegistry, Gauge

from prudent.monitor._evaluate import Evaluation
from prudent.monitor._figures import Estimate
from prudent.monitor._reference import Promises
from prudent.monitor._rules import MEASURES

__all__ = ["MonitorGauges", "duration_label"]

_PROMISE = "promise"
_REFERENCE = "reference"


def duration_label(value: timedelta) -> str:
    """Return a window length as Prometheus writes durations (``90s``, ``10m``, ``1h``, ``1d``).

    Examples
    --------
    >>> duration_label(timedelta(hours=1)), duration_label(timedelta(seconds=90))
    ('1h', '90s')
    """
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class MonitorGauges:
    """The monitor's gauges, registered on ``registry``.

    Parameters
    ----------
    registry
        Where they are registered (the service's).
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        mode: Literal["mostrecent"] = "mostrecent"
        self.measure = Gauge(
            "prudent_monitor_measure",
            "A monitored measure over the last window, with its 95% interval (bound).",
            ("measure", "window", "bound"), registry=registry, multiprocess_mode=mode,
        )  # fmt: skip
        self.rows = Gauge(
            "prudent_monitor_rows",
            "Rows behind a monitored measure over the last window (labelled rows for accuracy).",
            ("measure", "window"), registry=registry, multiprocess_mode=mode,
        )  # fmt: skip
        self.expected = Gauge(
            "prudent_monitor_expected",
            "What a measure was at fit time: the promise (kind=promise) or the reference value.",
            ("measure", "kind"), registry=registry, multiprocess_mode=mode,
        )  # fmt: skip
        self.firing = Gauge(
            "prudent_alert_firing",
            "1 while the alert rule fires (prudent's own evaluation), else 0.",
            ("rule",), registry=registry, multiprocess_mode=mode,
        )  # fmt: skip
        self._all = (self.measure, self.rows, self.expected, self.firing)

    def update(self, evaluation: Evaluation, promises: Promises) -> None:
        """Set the gauges from an evaluation (cleared when it did not evaluate).

        Parameters
        ----------
        evaluation
            What the evaluator did.
        promises
            The model's promises and reference values.
        """
        for gauge in self._all:
            gauge.clear()
        if not evaluation.evaluated:
            return
        for length, summary in evaluation.summaries.items():
            if summary is None:
                continue
            window = duration_label(length)
            for name, measure in MEASURES.items():
                seen = None if measure.read is None else measure.read(summary)
                self._set(name, window, seen, summary.n)
        for name, values in _expected(promises).items():
            for kind, number in values.items():
                self.expected.labels(measure=name, kind=kind).set(number)
        for state in evaluation.states:
            self.firing.labels(rule=state.rule).set(1.0 if state.state == "firing" else 0.0)

    def _set(self, name: str, window: str, value: object, n: int) -> None:
        if isinstance(value, bool):
            bounds = dict.fromkeys(("point", "low", "high"), float(value))
        elif isinstance(value, Estimate):
            bounds = {"point": value.point, "low": value.low, "high": value.high}
            n = value.n
        else:
            return
        for bound, number in bounds.items():
            self.measure.labels(measure=name, window=window, bound=bound).set(number)
        self.rows.labels(measure=name, window=window).set(n)


def _expected(promises: Promises) -> Mapping[str, Mapping[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, measure in MEASURES.items():
        for kind, source in ((_PROMISE, measure.promise), (_REFERENCE, measure.reference)):
            value = None if source is None else source(promises)
            if value is not None:
                out.setdefault(name, {})[kind] = float(value)
    return out
