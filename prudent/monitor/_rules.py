"""Alert rules as configured: the shipped ``alerts.yaml``, overridden key by key by a user file.

A :class:`RuleSpec` is a rule as written (durations, a threshold relative to the promise or the
reference); :meth:`RuleSpec.bind` reads it against one model's promises and gives the
:class:`~prudent.monitor.AlertRule` that judges windows. Every mistake in a file is a
``ConfigError`` naming the file and the key (``rules.ood_rate_spike.window``), what was
expected and what was found.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from prudent.errors import ConfigError
from prudent.monitor._alerts import AlertRule, Measure, confidence_drift, input_drift
from prudent.monitor._reference import Promises

__all__ = ["MEASURES", "RuleSpec", "default_rules", "load_rules", "parse_duration"]


@dataclass(frozen=True)
class _Measure:
    read: Measure | None
    promise: Callable[[Promises], float | None] | None = None
    reference: Callable[[Promises], float | None] | None = None


def _target(p: Promises) -> float | None:
    """The accuracy promise as the fit checks it: the target less its tolerance (``None``:
    no accuracy promised, the rule does not apply)."""
    return p.kept_accuracy


def _error_rate(p: Promises) -> float | None:
    """The error rate the accuracy promise allows among accepted rows (``None``: none)."""
    kept = p.kept_accuracy
    return None if kept is None else 1 - kept


MEASURES: Mapping[str, _Measure] = {
    "high_confidence_error_rate": _Measure(lambda w: w.high_confidence_errors, promise=_error_rate),
    "realised_accuracy": _Measure(lambda w: w.accuracy.realised, promise=_target),
    "expected_accuracy": _Measure(lambda w: w.accuracy.expected, promise=_target),
    "ood_rate": _Measure(lambda w: w.ood_rate, reference=lambda p: p.ood_rate),
    "accept_rate": _Measure(lambda w: w.decisions["accept"], reference=lambda p: p.accept_rate),
    "confidence_drift": _Measure(confidence_drift),
    "input_drift": _Measure(input_drift),
    "log_write_failures": _Measure(None),
}
"""What a rule can watch: how to read it from a window, and its promise or reference value."""

_KEYS = ("measure", "direction", "threshold", "window", "min_sample", "for", "cooldown",
         "repeat_interval", "labels", "enabled", "description")  # fmt: skip
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_THRESHOLD = re.compile(r"^\s*(promise|reference)\s*(?:([+-])\s*([0-9.]+(?:e-?\d+)?))?\s*$")


def parse_duration(value: object, key: str) -> timedelta:
    """Read ``30s``, ``10m``, ``1h``, ``1d`` or a number of seconds.

    Examples
    --------
    >>> parse_duration("90m", "window"), parse_duration(0, "for")
    (datetime.timedelta(seconds=5400), datetime.timedelta(0))
    """
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([smhd]?)\s*", str(value))
    if isinstance(value, bool) or match is None:
        raise ConfigError(
            f"{key} must be a duration such as 30s, 10m, 1h or 1d, but {value!r} was received."
        )
    return timedelta(seconds=float(match[1]) * _UNITS[match[2] or "s"])


@dataclass(frozen=True)
class RuleSpec:
    """One alert rule as configured (see ``alerts.yaml`` for each key's meaning).

    Parameters
    ----------
    name
        The rule's name.
    measure
        A key of :data:`MEASURES`.
    direction
        Which side of the threshold is bad.
    threshold
        A number, or ``"promise"`` / ``"reference"`` with an optional ``± offset``.
    window, for_, cooldown, repeat_interval
        Durations.
    min_sample
        Fewest rows behind the figure.
    labels
        Carried in notifications; with the name, the de-duplication key.
    description
        One line for people.
    """

    name: str
    measure: str
    direction: Literal["above", "below"] = "above"
    threshold: float | str = 0.0
    window: timedelta = timedelta(hours=1)
    min_sample: int = 200
    for_: timedelta = timedelta(minutes=10)
    cooldown: timedelta = timedelta(hours=1)
    repeat_interval: timedelta = timedelta(hours=24)
    labels: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    def threshold_for(self, promises: Promises) -> float | None:
        """Return the threshold read against ``promises`` (None when the model has no such
        value, e.g. no OOD detector for ``reference`` of ``ood_rate``)."""
        if isinstance(self.threshold, float | int):
            return float(self.threshold)
        match = _THRESHOLD.match(self.threshold)
        assert match is not None  # checked on load
        source = getattr(MEASURES[self.measure], match[1])
        base = None if source is None else source(promises)
        if base is None:
            return None
        offset = float(match[3] or 0.0) * (-1 if match[2] == "-" else 1)
        return float(base) + offset

    def bind(self, promises: Promises, window: timedelta | None = None) -> AlertRule | None:
        """Return the rule that judges windows for a model, or None when it does not apply.

        Parameters
        ----------
        promises
            The model's promises.
        window
            The length of the windows it will judge (its own ``window`` by default):
            ``for`` and ``cooldown`` become counts of such windows.

        Returns
        -------
        AlertRule or None
            None for a threshold the model has no value for, or a measure not read from
            windows (``log_write_failures``).
        """
        threshold = self.threshold_for(promises)
        read = MEASURES[self.measure].read
        if threshold is None or read is None:
            return None
        step = (window or self.window).total_seconds() or 1.0
        return AlertRule(
            self.name, read, self.direction, threshold,
            for_windows=1 + math.ceil(self.for_.total_seconds() / step),
            cooldown=math.ceil(self.cooldown.total_seconds() / step),
            min_sample=self.min_sample,
        )  # fmt: skip

    @property
    def labels_key(self) -> str:
        """The labels as one sorted ``k=v,…`` string."""
        return ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Alert rules file '{path}' cannot be read: {exc}") from exc
    if not isinstance(data, dict) or set(data) - {"defaults", "rules"}:
        raise ConfigError(
            f"Alert rules file '{path}' must be a mapping with the keys 'defaults' and "
            f"'rules', but it has {sorted(data) if isinstance(data, dict) else type(data)}."
        )
    for part in ("defaults", "rules"):
        if not isinstance(data.get(part) or {}, dict):
            raise ConfigError(f"{path}: '{part}' must be a mapping of keys to values.")
    return data


def _check_keys(where: str, entry: object) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a mapping of rule keys, but {entry!r} was received.")
    unknown = sorted(set(entry) - set(_KEYS))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]} is not a rule key; the keys are {list(_KEYS)}.")
    return entry


def _threshold(where: str, measure: str, value: object) -> float | str:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    match = _THRESHOLD.match(str(value)) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(
            f"{where}.threshold must be a number or 'promise'/'reference' with an optional "
            f"'+ 0.05' or '- 0.05', but {value!r} was received."
        )
    if getattr(MEASURES[measure], match[1]) is None:
        raise ConfigError(
            f"{where}.threshold: the measure {measure!r} has no {match[1]} value; give a number."
        )
    return str(value)


def _spec(name: str, merged: dict[str, Any], where: str) -> RuleSpec:
    measure = merged.get("measure")
    if measure not in MEASURES:
        raise ConfigError(f"{where}.measure must be one of {sorted(MEASURES)}, but {measure!r} "
                          "was received.")  # fmt: skip
    direction = merged.get("direction", "above")
    if direction not in ("above", "below"):
        raise ConfigError(f"{where}.direction must be 'above' or 'below', not {direction!r}.")
    min_sample = merged.get("min_sample", 200)
    if isinstance(min_sample, bool) or not isinstance(min_sample, int) or min_sample < 0:
        raise ConfigError(f"{where}.min_sample must be an integer >= 0, not {min_sample!r}.")
    labels = merged.get("labels") or {}
    if not isinstance(labels, dict):
        raise ConfigError(f"{where}.labels must be a mapping of names to values, not {labels!r}.")
    window = parse_duration(merged.get("window", "1h"), f"{where}.window")
    if window <= timedelta(0):
        raise ConfigError(f"{where}.window must be longer than 0.")
    return RuleSpec(
        name=name, measure=str(measure), direction=direction,
        threshold=_threshold(where, str(measure), merged.get("threshold", 0.0)),
        window=window, min_sample=min_sample,
        for_=parse_duration(merged.get("for", 0), f"{where}.for"),
        cooldown=parse_duration(merged.get("cooldown", 0), f"{where}.cooldown"),
        repeat_interval=parse_duration(merged.get("repeat_interval", "24h"),
                                       f"{where}.repeat_interval"),
        labels={str(k): str(v) for k, v in labels.items()},
        description=str(merged.get("description", "")),
    )  # fmt: skip


def _shipped() -> Path:
    return Path(str(resources.files("prudent.monitor").joinpath("alerts.yaml")))


def load_rules(path: Path | None = None) -> list[RuleSpec]:
    """Return the shipped rules, overridden by the file at ``path`` when given.

    Each key is taken from, last wins: the shipped ``defaults``, the shipped rule, the user's
    ``defaults`` (every rule), the user's rule.

    Parameters
    ----------
    path
        A user ``alerts.yaml`` (same shape as the shipped one).

    Returns
    -------
    list of RuleSpec
        The enabled rules, shipped ones first.

    Raises
    ------
    ConfigError
        For an unreadable file, an unknown key or a bad value, naming the file and the key.
    """
    shipped = _read_yaml(_shipped())
    user = _read_yaml(path) if path is not None else {}
    source = str(path) if path is not None else "alerts.yaml"
    # shipped defaults < shipped rule < user defaults < user rule
    mine = _check_keys(f"{source}: defaults", user.get("defaults") or {})
    rules = {name: {**shipped.get("defaults", {}), **entry, **mine}
             for name, entry in shipped["rules"].items()}  # fmt: skip
    for name, entry in (user.get("rules") or {}).items():
        base = rules.get(str(name), {**shipped.get("defaults", {}), **mine})
        rules[str(name)] = {**base, **_check_keys(f"{source}: rules.{name}", entry)}
    specs = []
    for name, merged in rules.items():
        if merged.get("enabled", True) is False:
            continue
        specs.append(_spec(name, merged, f"{source}: rules.{name}"))
    return specs


def default_rules(promises: Promises, window: timedelta | None = None) -> list[AlertRule]:
    """The shipped rules that read windows, bound to a model's promises.

    Parameters
    ----------
    promises
        The bundle's promises.
    window
        The length of the windows they will judge (each rule's own by default).

    Returns
    -------
    list of AlertRule
        High-confidence errors above the promised error rate; realised and expected accuracy
        below the promise; OOD rate 5 points above the reference's; accept rate 10 points
        below it; confidence drift; input drift.
    """
    bound = (spec.bind(promises, window) for spec in load_rules())
    return [rule for rule in bound if rule is not None]
