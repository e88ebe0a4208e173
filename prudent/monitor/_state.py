"""The life of one alert, evaluation after evaluation: inactive → pending → firing → resolved.

An evaluation *observes* each rule over its window ending now: breaching (the figure's whole
interval past the threshold, with at least ``min_sample`` rows), clear, or no evidence (not
enough data: nothing changes). A breach makes the rule *pending*; pending for ``for`` it
*fires* (at once when ``for`` is 0); a clear evaluation ends a pending rule quietly and
*resolves* a firing one; after a resolve it cannot fire again for ``cooldown``. One firing is
one incident: :func:`due` says when a notification is owed (the firing once, again every
``repeat_interval`` while it fires, and the resolve once), and what was delivered is kept in
the state (``sent``), so a failed delivery is tried again at the next evaluation and a
delivered one never twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from prudent.monitor._rules import RuleSpec
from prudent.store import StoredAlert

__all__ = ["AlertState", "Observation", "due", "step"]

State = Literal["inactive", "pending", "firing", "resolved"]


@dataclass(frozen=True)
class Observation:
    """What one evaluation saw of a rule's measure.

    Parameters
    ----------
    window
        The window read (``"2024-03-01T12:00:00Z/2024-03-01T13:00:00Z"``).
    value, low, high
        The figure and its 95% interval (a flag is 1 or 0; None when there is no figure).
    n
        Rows behind it.
    breaching
        True when past the threshold, False when clear, None when there is no evidence.
    note
        Why there is no evidence, when there is none.
    """

    window: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    n: int = 0
    breaching: bool | None = None
    note: str = ""


@dataclass(frozen=True)
class AlertState:
    """Where one rule (for one label set) stands.

    Parameters
    ----------
    rule
        The rule's name.
    labels
        Its labels.
    state
        ``"inactive"``, ``"pending"``, ``"firing"`` or ``"resolved"``.
    threshold
        Its threshold for this model (None when it does not apply).
    since
        When it became pending (or fired).
    fired_at, resolved_at
        When the current (or last) incident fired and resolved.
    sent, last_sent_at
        What was last delivered for that incident (``""``, ``"firing"``, ``"resolved"``) and
        when.
    observation
        The last evaluation's observation.
    evaluated_at
        When it was last evaluated.
    model_version
        The model it was evaluated for (None when stored before it was recorded): an
        incident belongs to one model version (see :class:`~prudent.monitor.AlertEvaluator`).
    """

    rule: str
    labels: Mapping[str, str] = field(default_factory=dict)
    state: State = "inactive"
    threshold: float | None = None
    since: datetime | None = None
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    sent: str = ""
    last_sent_at: datetime | None = None
    observation: Observation | None = None
    evaluated_at: datetime | None = None
    model_version: str | None = None

    @property
    def labels_key(self) -> str:
        """The labels as one sorted ``k=v,…`` string."""
        return ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))

    def stored(self) -> StoredAlert:
        """Return the state as the store keeps it."""
        record = {k: _json(v) for k, v in vars(self).items() if k not in ("rule", "state")}
        return StoredAlert(self.rule, self.labels_key, self.state, record)

    @classmethod
    def from_stored(cls, stored: StoredAlert) -> AlertState:
        """Read a state back from the store."""
        r = dict(stored.record)
        times = ("since", "fired_at", "resolved_at", "last_sent_at", "evaluated_at")
        values: dict[str, Any] = {k: None if r.get(k) is None else datetime.fromisoformat(r[k])
                                  for k in times}  # fmt: skip
        seen = r.get("observation")
        return cls(
            rule=stored.rule, labels=dict(r.get("labels") or {}),
            state=stored.state,  # type: ignore[arg-type]
            threshold=r.get("threshold"), sent=str(r.get("sent") or ""),
            model_version=r.get("model_version"),
            observation=None if seen is None else Observation(**seen), **values,
        )  # fmt: skip


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Observation):
        return dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _breach(spec: RuleSpec, s: AlertState, now: datetime) -> AlertState:
    if s.state == "firing":
        return s
    if s.state == "resolved" and s.resolved_at and now < s.resolved_at + spec.cooldown:
        return s  # cooling down
    since = s.since if s.state == "pending" and s.since is not None else now
    if now - since >= spec.for_:
        return dataclasses.replace(s, state="firing", since=since, fired_at=now,
                                   resolved_at=None, sent="", last_sent_at=None)  # fmt: skip
    return dataclasses.replace(s, state="pending", since=since)


def step(spec: RuleSpec, state: AlertState, seen: Observation, now: datetime) -> AlertState:
    """Return the rule's state after observing ``seen`` at ``now`` (see the module notes).

    Parameters
    ----------
    spec
        The rule.
    state
        Its state before.
    seen
        This evaluation's observation.
    now
        The evaluation's time.

    Returns
    -------
    AlertState
        Its state after.
    """
    s = dataclasses.replace(state, observation=seen, evaluated_at=now, labels=dict(spec.labels))
    if seen.breaching is None:
        return s
    if seen.breaching:
        return _breach(spec, s, now)
    if s.state == "firing":
        return dataclasses.replace(s, state="resolved", resolved_at=now, since=None)
    if s.state == "pending":
        return dataclasses.replace(s, state="inactive", since=None)
    return s


def due(spec: RuleSpec, state: AlertState, now: datetime) -> Literal["firing", "resolved"] | None:
    """Return the notification owed for ``state`` at ``now``, if any.

    Parameters
    ----------
    spec
        The rule (its ``repeat_interval``).
    state
        Its state after this evaluation.
    now
        The evaluation's time.

    Returns
    -------
    str or None
        ``"firing"`` (first, or repeated after ``repeat_interval``), ``"resolved"`` (once,
        when the firing was delivered), or None.
    """
    if state.state == "firing":
        last = state.last_sent_at
        if state.sent != "firing" or last is None or now - last >= spec.repeat_interval:
            return "firing"
    if state.state == "resolved" and state.sent == "firing":
        return "resolved"
    return None
