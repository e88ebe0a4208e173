"""Alert rules over the windows: one incident per sustained breach, not one alert per noisy window.

A window *breaches* a rule only when the whole interval of its figure lies beyond the threshold
(the low end above it, or the high end below it), so a point estimate that wanders past the
line on a small window does not count; "not enough data" never breaches. A rule *fires* after
``for_windows`` breaching windows in a row and stays one incident until a window does not
breach; the incident then *resolves*. After a resolve the rule stays quiet for ``cooldown``
windows, so a flapping measure gives one incident, not a storm.

This evaluates the history a report holds (as ``prudent monitor`` prints it); delivering the
incidents is :func:`~prudent.monitor.notify_incidents`'s job.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from prudent.errors import ConfigError
from prudent.monitor._drift import DriftReport
from prudent.monitor._figures import Estimate, Figure
from prudent.monitor._windows import WindowSummary

__all__ = ["AlertRule", "Incident", "Measure", "confidence_drift", "evaluate_rules", "input_drift"]

Measure = Callable[[WindowSummary], Figure | bool]
"""Reads a rule's figure (breaching by its interval) or flag from a window."""


@dataclass(frozen=True)
class AlertRule:
    """One alert rule.

    Parameters
    ----------
    name
        What it watches, e.g. ``"high_confidence_error_rate_above_promise"``.
    measure
        The window's figure (breaching by its interval) or a flag (breaching when true).
    direction
        ``"above"`` or ``"below"`` the threshold (ignored for flags).
    threshold
        The line the interval must clear.
    for_windows
        Breaching windows in a row before it fires.
    cooldown
        Windows after a resolve during which it cannot fire again.
    min_sample
        Fewest rows behind the figure (the window's rows for a flag); fewer never breaches.
    """

    name: str
    measure: Measure
    direction: Literal["above", "below"] = "above"
    threshold: float = 0.0
    for_windows: int = 1
    cooldown: int = 1
    min_sample: int = 0

    def breaches(self, window: WindowSummary) -> bool:
        """Whether ``window`` breaches the rule (see the module notes).

        Parameters
        ----------
        window
            The window.

        Returns
        -------
        bool
            True when the figure's whole interval is beyond the threshold, or the flag is set.
        """
        value = self.measure(window)
        if isinstance(value, bool):
            return value and window.n >= self.min_sample
        if not isinstance(value, Estimate) or value.n < self.min_sample:
            return False
        return (
            value.low > self.threshold if self.direction == "above" else value.high < self.threshold
        )


@dataclass(frozen=True)
class Incident:
    """One firing of a rule, from the window it fired in to the one it resolved in.

    Parameters
    ----------
    rule
        The rule's name.
    fired
        The key of the window in which it fired.
    resolved
        The key of the first window that no longer breached, or None while it still fires.
    windows
        Keys of the breaching windows of the incident.
    threshold
        The rule's threshold.
    """

    rule: str
    fired: str
    resolved: str | None
    windows: tuple[str, ...]
    threshold: float


def confidence_drift(w: WindowSummary) -> bool:
    """Whether the window's confidences drifted from the reference's."""
    drift = w.drift
    return isinstance(drift, DriftReport) and "confidence" in drift.drifted


def input_drift(w: WindowSummary) -> bool:
    """Whether an input feature of the window drifted from the reference's."""
    drift = w.drift
    outputs = ("confidence", "OOD score")
    return isinstance(drift, DriftReport) and any(d not in outputs for d in drift.drifted)


def _incidents(rule: AlertRule, windows: Sequence[WindowSummary]) -> list[Incident]:
    out: list[Incident] = []
    run: list[str] = []
    quiet_until = -1
    for i, w in enumerate(windows):
        if rule.breaches(w):
            run.append(w.key)
            continue
        if len(run) >= rule.for_windows and i - len(run) + rule.for_windows - 1 > quiet_until:
            out.append(Incident(rule.name, run[rule.for_windows - 1], w.key, tuple(run),
                                rule.threshold))  # fmt: skip
            quiet_until = i + rule.cooldown
        run = []
    if (
        len(run) >= rule.for_windows
        and len(windows) - len(run) + rule.for_windows - 1 > quiet_until
    ):
        out.append(Incident(rule.name, run[rule.for_windows - 1], None, tuple(run), rule.threshold))
    return out


def evaluate_rules(rules: Sequence[AlertRule], windows: Sequence[WindowSummary]) -> list[Incident]:
    """Replay ``windows`` through every rule and return the incidents, rule by rule.

    Parameters
    ----------
    rules
        The rules (:func:`~prudent.monitor.default_rules` for the defaults).
    windows
        The report's windows, oldest first.

    Returns
    -------
    list of Incident
        One per sustained breach; ``resolved`` is None for one still firing at the end.

    Raises
    ------
    ConfigError
        When a rule's threshold is NaN, ``for_windows < 1`` or ``cooldown < 0``.
    """
    bad = [r.name for r in rules if math.isnan(r.threshold) or r.for_windows < 1 or r.cooldown < 0]
    if bad:
        raise ConfigError(
            f"Alert rule {bad[0]!r} needs a threshold that is a number, for_windows >= 1 and "
            "cooldown >= 0."
        )
    return [incident for rule in rules for incident in _incidents(rule, windows)]
