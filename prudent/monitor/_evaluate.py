"""Evaluate the alert rules now: one evaluator across replicas, one notification per incident.

Each evaluation takes (or renews) the ``monitor`` lease in the log's database; a process that
does not hold it evaluates nothing and reports who does. The holder reads, for each distinct
rule window, the predictions of the last ``window`` as one window (drift included), observes
every rule, steps its stored state (:mod:`prudent.monitor._state`), delivers what is owed —
to the log (``prudent.monitor`` logger) and to the webhook when one is set — and saves the
states, all on the same database, so a replica that takes the lease over carries on where the
last one stopped.

An incident belongs to one model version. A rule whose stored state was evaluated for another
model (a hot swap, or another bundle evaluated on this log) starts afresh for this one, once a
firing incident of the other is resolved (delivered as resolved, with that model's version;
while it is not delivered, the rule waits); a process that does not hold the lease shows such a
rule as inactive for its model, the observation naming the other.

A *what-if* evaluator (``what_if=True``, ``prudent monitor --at``) judges the rules at its
clock's time without the lease: it stores no state and delivers nothing, and what a real
evaluation would have delivered is listed in its :attr:`Evaluation.sent`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prudent.monitor._figures import Estimate, NotEnoughData
from prudent.monitor._monitor import monitor_log
from prudent.monitor._notify import check_webhook, post_json
from prudent.monitor._reference import Reference
from prudent.monitor._rules import RuleSpec, load_rules
from prudent.monitor._sql import WindowSpec
from prudent.monitor._state import AlertState, Observation, due, step
from prudent.monitor._windows import WindowSummary
from prudent.store import AlertStore, utc_now

__all__ = [
    "LEASE",
    "AlertEvaluator",
    "Evaluation",
    "alert_line",
    "alert_payload",
    "alert_states",
]

LEASE = "monitor"
"""The name of the evaluator's lease."""

logger = logging.getLogger("prudent.monitor")
Counters = Callable[[], Mapping[str, float]]


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation did.

    Parameters
    ----------
    at
        When it ran.
    evaluated
        False when another process holds the lease (nothing was evaluated).
    holder
        Who holds the lease.
    states
        Every rule's state after it (when not evaluated, the stored ones of this model: a rule
        last evaluated for another model is inactive, its observation naming that model).
    sent
        The notifications delivered.
    summaries
        The window read for each rule window length (empty when not evaluated).
    what_if
        True for a what-if evaluation: nothing was stored and nothing delivered; ``sent``
        lists what would have been.
    """

    at: datetime
    evaluated: bool
    holder: str | None
    states: tuple[AlertState, ...]
    sent: tuple[dict[str, Any], ...] = ()
    summaries: Mapping[timedelta, WindowSummary | None] = field(default_factory=dict)
    what_if: bool = False


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _observe(
    spec: RuleSpec, reference: Reference, w: WindowSummary | None, key: str
) -> Observation:
    rule = spec.bind(reference.promises)
    if rule is None:
        return Observation(key, note=f"no reference value for {spec.measure} in this model")
    if w is None:
        return Observation(key, note="no predictions in the window")
    value = rule.measure(w)
    if isinstance(value, bool):
        flag = float(value)
        if w.n < spec.min_sample:
            return Observation(key, flag, flag, flag, w.n, None, f"{w.n} < {spec.min_sample} rows")
        return Observation(key, flag, flag, flag, w.n, value)
    if isinstance(value, NotEnoughData) or not isinstance(value, Estimate):
        n = getattr(value, "n", 0)
        return Observation(key, n=n, note=str(value))
    if value.n < spec.min_sample:
        return Observation(key, value.point, value.low, value.high, value.n, None,
                           f"{value.n} < {spec.min_sample} rows")  # fmt: skip
    return Observation(key, value.point, value.low, value.high, value.n, rule.breaches(w))


def _figure(value: float | None, low: float | None, high: float | None, note: str) -> str:
    """A figure with its interval, or "no data" (and why) when there is none."""
    if value is None:
        return f"no data ({note})" if note else "no data"
    if low is None or high is None or low == high:
        return f"{value:.3g}"
    return f"{value:.3g} [{low:.3g}, {high:.3g}]"


def alert_line(payload: dict[str, Any]) -> str:
    """One readable line of a notification: status, rule, figure, threshold, window, model.

    Examples
    --------
    >>> alert_line({"status": "firing", "rule": "ood_rate_spike", "measure": "ood_rate",
    ...             "value": {"point": None, "low": None, "high": None, "n": 0},
    ...             "threshold": 0.01, "window": "12:00/13:00", "model_version": "f60f"})
    'firing ood_rate_spike: ood_rate = no data (threshold 0.01) over 12:00/13:00, model f60f'
    """
    seen = payload["value"]
    figure = _figure(seen["point"], seen["low"], seen["high"], payload.get("note") or "")
    model = f", model {payload['model_version']}" if payload.get("model_version") else ""
    return (
        f"{payload['status']} {payload['rule']}: {payload['measure']} = {figure} "
        f"(threshold {payload['threshold']}) over {payload['window']}{model}"
    )


def alert_payload(
    spec: RuleSpec, state: AlertState, status: str, model_version: str | None
) -> dict[str, Any]:
    """Return the JSON message of a notification: the rule, window, value and threshold.

    Parameters
    ----------
    spec
        The rule.
    state
        Its state (firing or resolved).
    status
        ``"firing"`` or ``"resolved"``.
    model_version
        The monitored bundle's version.

    Returns
    -------
    dict
        The message; ``summary`` is it as one line (``no data`` when the window held none).
    """
    seen = state.observation or Observation("")
    fired = None if state.fired_at is None else state.fired_at.isoformat()
    payload = {
        "status": status, "rule": spec.name, "labels": dict(spec.labels),
        "incident": f"{spec.name}|{state.labels_key}|{fired}", "measure": spec.measure,
        "description": spec.description, "window": seen.window,
        "window_seconds": spec.window.total_seconds(),
        "value": {"point": seen.value, "low": seen.low, "high": seen.high, "n": seen.n},
        "threshold": state.threshold, "direction": spec.direction,
        "fired_at": fired,
        "resolved_at": None if state.resolved_at is None else state.resolved_at.isoformat(),
        "model_version": model_version, "note": seen.note,
    }  # fmt: skip
    return payload | {"summary": alert_line(payload)}


def _ended(state: AlertState, now: datetime) -> AlertState:
    """Another model's state as this model takes its rule over: a firing incident resolves."""
    if state.state != "firing":
        return state
    return dataclasses.replace(state, state="resolved", resolved_at=now, since=None)


def _another(state: AlertState, version: str | None) -> bool:
    """Whether ``state`` was judged for another model than ``version`` (None: any model)."""
    return None not in (state.model_version, version) and state.model_version != version


def _own(spec: RuleSpec, state: AlertState, version: str | None) -> AlertState:
    """The state as the model ``version`` sees it: inactive when another model's."""
    if not _another(state, version):
        return state
    note = f"last evaluated for model {state.model_version}, not this one"
    return AlertState(spec.name, dict(spec.labels), observation=Observation("", note=note))


def _current(store: AlertStore, specs: Sequence[RuleSpec]) -> tuple[AlertState, ...]:
    stored = {(s.rule, s.labels_key): AlertState.from_stored(s) for s in store.states()}
    return tuple(
        stored.get((spec.name, spec.labels_key)) or AlertState(spec.name, dict(spec.labels))
        for spec in specs
    )


class _Counts:
    """Samples of the process's counters, for their increase over a rule's window."""

    def __init__(self, read: Counters | None) -> None:
        self._read = read
        self._samples: deque[tuple[datetime, Mapping[str, float]]] = deque(maxlen=10_000)

    def sample(self, now: datetime) -> None:
        if self._read is not None:
            self._samples.append((now, dict(self._read())))

    def observe(self, spec: RuleSpec, key: str, now: datetime, threshold: float) -> Observation:
        inside = [v for t, v in self._samples if t >= now - spec.window]
        if self._read is None or len(inside) < 2:
            return Observation(key, note="counted by the service only, over two evaluations")
        rise = inside[-1].get(spec.measure, 0.0) - inside[0].get(spec.measure, 0.0)
        return Observation(key, rise, rise, rise, len(inside), rise > threshold)


class AlertEvaluator:
    """Evaluates a model's alert rules against its prediction log (see the module notes).

    Parameters
    ----------
    url
        The log database (it also keeps the alert states and the lease).
    reference
        The model's reference (:meth:`Reference.from_bundle`).
    rules
        The rules (:func:`load_rules` by default: the shipped ones).
    webhook
        Where notifications are POSTed as JSON, besides the log.
    clock
        The current time.
    counters
        The service's own counters (``{"log_write_failures": total}``), for the rules that
        watch them.
    lease_ttl
        How long the lease lasts unless renewed (give ~3 evaluation intervals).
    send
        Replaces the webhook POST (``(url, payload) -> delivered``).
    on_evaluation
        Called after each evaluation (the Prometheus gauges), but a what-if one.
    what_if
        Judge the rules at the clock's time without taking the lease, storing no state and
        delivering nothing (neither the webhook nor the log's ``ALERT`` line): an evaluation
        "as if it were" another time must not hold back the real notifications.
    """

    def __init__(
        self,
        url: str | Path,
        reference: Reference,
        rules: Sequence[RuleSpec] | None = None,
        *,
        webhook: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        counters: Counters | None = None,
        lease_ttl: timedelta = timedelta(minutes=3),
        send: Callable[[str, dict[str, Any]], bool] | None = None,
        on_evaluation: Callable[[Evaluation], None] | None = None,
        what_if: bool = False,
    ) -> None:
        self.url, self.reference = url, reference
        self.rules = tuple(load_rules() if rules is None else rules)
        self.webhook = None if webhook is None else check_webhook(webhook)
        self._clock, self._ttl = clock, lease_ttl
        self._send = send or post_json
        self._counts = _Counts(counters)
        self._on_evaluation = on_evaluation
        self.what_if = what_if
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._store = AlertStore.open(url)

    def close(self, release: bool = True) -> None:
        """Give the lease up (unless ``release`` is false) and close the database."""
        if release:
            self._store.release(LEASE, self.holder)
        self._store.close()

    def states(self) -> tuple[AlertState, ...]:
        """Every rule's stored state for this model (inactive for a rule never evaluated, or
        evaluated for another model: its observation names that model)."""
        mine = self.reference.model_version
        stored = _current(self._store, self.rules)
        return tuple(_own(spec, s, mine) for spec, s in zip(self.rules, stored, strict=True))

    def evaluate(self) -> Evaluation:
        """Evaluate every rule once, when this process holds (or can take) the lease.

        Returns
        -------
        Evaluation
            The states after it and the notifications delivered.

        Raises
        ------
        StoreError
            When the log cannot be read or the states cannot be saved.
        """
        now = self._clock()
        self._counts.sample(now)
        if not self.what_if and not self._store.acquire(LEASE, self.holder, self._ttl, now):
            holder = self._store.holder(LEASE, now)
            return Evaluation(now, False, holder, self.states())
        summaries = self._summaries(now)
        sent: list[dict[str, Any]] = []
        stored = _current(self._store, self.rules)
        states = [self._step(spec, before, summaries, now, sent)
                  for spec, before in zip(self.rules, stored, strict=True)]  # fmt: skip
        if self.what_if:
            return Evaluation(now, True, None, tuple(states), tuple(sent), summaries, True)
        self._store.save([s.stored() for s in states], now)
        result = Evaluation(now, True, self.holder, tuple(states), tuple(sent), summaries)
        if self._on_evaluation is not None:
            self._on_evaluation(result)
        return result

    def run(self, interval: float, stop: threading.Event) -> None:
        """Evaluate every ``interval`` seconds until ``stop`` is set; a failed evaluation is
        logged and the next one tried."""
        while not stop.is_set():
            try:
                self.evaluate()
            except Exception as exc:  # the loop outlives a database hiccup
                logger.error("alert evaluation failed: %s: %s", type(exc).__name__, exc)
            stop.wait(interval)

    def _summaries(self, now: datetime) -> dict[timedelta, WindowSummary | None]:
        out: dict[timedelta, WindowSummary | None] = {}
        for length in sorted({s.window for s in self.rules if s.measure != "log_write_failures"}):
            report = monitor_log(self.url, self.reference, window=WindowSpec("span"),
                                 since=now - length, until=now)  # fmt: skip
            out[length] = report.windows[0] if report.windows else None
        return out

    def _step(
        self, spec: RuleSpec, before: AlertState,
        summaries: Mapping[timedelta, WindowSummary | None], now: datetime,
        sent: list[dict[str, Any]],
    ) -> AlertState:  # fmt: skip
        """Observe ``spec``, step its state and deliver what is owed (appended to ``sent``)."""
        mine = self.reference.model_version
        if _another(before, mine):  # another model's: its incident ends
            ended = self._owed(spec, _ended(before, now), now, sent)
            if ended.state == "resolved" and ended.sent == "firing":
                return ended  # its resolve is owed again next time; this model waits
            before = AlertState(spec.name, dict(spec.labels))
        state = step(spec, before, self._observation(spec, summaries, now), now)
        threshold = spec.threshold_for(self.reference.promises)
        return self._owed(
            spec, dataclasses.replace(state, threshold=threshold, model_version=mine), now, sent
        )

    def _owed(
        self, spec: RuleSpec, state: AlertState, now: datetime, sent: list[dict[str, Any]]
    ) -> AlertState:
        """Deliver the notification ``state`` is owed, if any; return it with what was sent."""
        status = due(spec, state, now)
        if status is None:
            return state
        payload = alert_payload(spec, state, status, state.model_version)
        if not self.what_if and not self._deliver(payload):
            return state
        sent.append(payload)
        return dataclasses.replace(state, sent=status, last_sent_at=now)

    def _observation(
        self, spec: RuleSpec, summaries: Mapping[timedelta, WindowSummary | None], now: datetime
    ) -> Observation:
        key = f"{_stamp(now - spec.window)}/{_stamp(now)}"
        if spec.measure == "log_write_failures":
            threshold = spec.threshold_for(self.reference.promises)
            return self._counts.observe(spec, key, now, float(threshold or 0.0))
        return _observe(spec, self.reference, summaries.get(spec.window), key)

    def _deliver(self, payload: dict[str, Any]) -> bool:
        logger.warning("ALERT %s", alert_line(payload))
        return self.webhook is None or self._send(self.webhook, payload)


def alert_states(url: str | Path, rules: Sequence[RuleSpec] | None = None) -> list[AlertState]:
    """Return the current state of every alert rule, as the evaluator last stored it.

    Parameters
    ----------
    url
        The log database.
    rules
        The rules (the shipped ones by default); a rule never evaluated is inactive.

    Returns
    -------
    list of AlertState
        One per rule, in the rules' order.
    """
    store = AlertStore.open(url)
    try:
        return list(_current(store, load_rules() if rules is None else rules))
    finally:
        store.close()
