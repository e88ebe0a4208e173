"""Burn-in: after a promotion, roll back when the new champion does worse than the one before.

The figures are the monitor's (:func:`prudent.monitor.monitor_log` over one ``span`` window):
the new champion's predictions since its promotion against the previous champion's before it.
The rule fires when the new champion's whole 95% interval of realised accepted accuracy (once
labels came back), or of its estimated accuracy (mean confidence of accepted predictions,
only while the monitor finds the estimate reliable), lies below the previous champion's
interval of the same figure — the monitor's alerts breach the same way, by whole intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prudent.bundle import load
from prudent.monitor import AccuracyEstimate, Estimate, Reference, WindowSpec, monitor_log
from prudent.retrain._records import Event
from prudent.retrain._registry import CHAMPION, Registry

__all__ = ["BurnInRule", "BurnInVerdict", "burn_in"]


@dataclass(frozen=True)
class BurnInRule:
    """The burn-in rule.

    Attributes
    ----------
    enabled
        Off: never roll back.
    realised
        Compare realised accuracy (labels).
    estimated
        Compare estimated accuracy (no labels needed; only when reliable).
    """

    enabled: bool = True
    realised: bool = True
    estimated: bool = True


@dataclass(frozen=True)
class BurnInVerdict:
    """Whether to roll back, and why (with the figures)."""

    rollback: bool
    reason: str


def _accuracy(
    registry: Registry, url: str, name: str, since: datetime | None, until: datetime | None
) -> AccuracyEstimate:
    reference = Reference.from_bundle(load(registry.version(name).path))
    report = monitor_log(url, reference, window=WindowSpec("span"), since=since, until=until)
    if not report.windows:
        raise LookupError(name)
    return report.windows[0].accuracy


def _below(new: object, old: object) -> bool:
    return isinstance(new, Estimate) and isinstance(old, Estimate) and new.high < old.low


def _text(e: object) -> str:
    assert isinstance(e, Estimate)
    return f"{e.point:.3f} [{e.low:.3f}, {e.high:.3f}] on {e.n}"


def _compare(new: AccuracyEstimate, old: AccuracyEstimate, rule: BurnInRule) -> str | None:
    if rule.realised and _below(new.realised, old.realised):
        return f"realised accuracy {_text(new.realised)} is below {_text(old.realised)}"
    if rule.estimated and new.reliable and _below(new.expected, old.expected):
        return f"estimated accuracy {_text(new.expected)} is below {_text(old.expected)}"
    return None


def _last_promotion(registry: Registry) -> Event | None:
    moves = [e for e in registry.history() if e.alias == CHAMPION]
    last = moves[-1] if moves else None
    return last if last is not None and last.action == "promote" and last.previous else None


def burn_in(
    registry: Registry, log_url: str, rule: BurnInRule | None = None, *, apply: bool = True
) -> BurnInVerdict:
    """Check the champion promoted last against the one it replaced; roll back if worse.

    Parameters
    ----------
    registry
        The registry.
    log_url
        The prediction log both champions wrote to.
    rule
        The rule (default: on, realised and estimated accuracy).
    apply
        Roll back when the rule fires (``False``: only say so).

    Returns
    -------
    BurnInVerdict
    """
    rule = rule or BurnInRule()
    event = _last_promotion(registry)
    if not rule.enabled:
        return BurnInVerdict(False, "the burn-in rule is off")
    if event is None or event.previous is None:
        return BurnInVerdict(
            False,
            "no promotion to watch: the champion's last move was not a promotion over another "
            "version (a first promotion, or a rollback)",
        )
    since = datetime.fromisoformat(event.at)
    try:
        new = _accuracy(registry, log_url, event.version, since, None)
        old = _accuracy(registry, log_url, event.previous, None, since)
    except LookupError as exc:
        return BurnInVerdict(False, f"{exc.args[0]} has no logged prediction in its period yet")
    why = _compare(new, old, rule)
    if why is None:
        return BurnInVerdict(False, f"{event.version} holds up against {event.previous}")
    reason = f"burn-in: {event.version}'s {why} of {event.previous} before it"
    if apply:
        registry.rollback(by="burn-in", reason=reason)
    return BurnInVerdict(True, reason)
