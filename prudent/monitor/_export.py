"""A monitor report as plain JSON data, for scripts (``prudent monitor --json``) and pages."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from prudent.monitor._alerts import Incident
from prudent.monitor._drift import DriftReport
from prudent.monitor._figures import NotEnoughData, figure_dict
from prudent.monitor._monitor import MonitorReport
from prudent.monitor._replay import FalseAlarmRate
from prudent.monitor._rules import RuleSpec
from prudent.monitor._state import AlertState
from prudent.monitor._windows import WindowSummary

__all__ = ["alert_dict", "report_dict", "window_dict"]


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _drift_dict(drift: DriftReport | NotEnoughData | None) -> dict[str, Any] | None:
    if drift is None:
        return None
    if isinstance(drift, NotEnoughData):
        return figure_dict(drift)
    return {
        "n": drift.n,
        "drifted": list(drift.drifted),
        "series": [
            {
                "name": s.name,
                "test": s.test,
                "statistic": s.statistic,
                "p_value": s.p_value,
                "p_adjusted": s.p_adjusted,
                "effect": s.effect,
                "effect_name": s.effect_name,
                "floor": s.floor,
                "drifted": s.drifted,
                "n": s.n,
            }
            for s in drift.series
        ],
    }


def window_dict(w: WindowSummary) -> dict[str, Any]:
    """Return one window summary as plain JSON data.

    Parameters
    ----------
    w
        The window.

    Returns
    -------
    dict
        Every figure as ``{"point", "low", "high", "n"}`` or ``{"status": "not enough data"}``.
    """
    acc = w.accuracy
    return {
        "window": w.key,
        "start": w.start.isoformat(),
        "end": w.end.isoformat(),
        "n": w.n,
        "decisions": {k: figure_dict(v) for k, v in w.decisions.items()},
        "ood_rate": figure_dict(w.ood_rate),
        "confidence_quantiles": {str(q): figure_dict(v) for q, v in w.confidence.items()},
        "mean_set_size": figure_dict(w.mean_set_size),
        "class_share": {k: figure_dict(v) for k, v in w.class_share.items()},
        "labelled": w.labelled,
        "accepted_accuracy": figure_dict(w.accepted_accuracy),
        "high_confidence_error_rate": figure_dict(w.high_confidence_errors),
        "ece": figure_dict(w.calibration.ece),
        "ece_p_value": w.calibration.p_value,
        "conformal_coverage": figure_dict(w.coverage),
        "expected_accuracy": figure_dict(acc.expected),
        "expected_accuracy_labelled": figure_dict(acc.expected_labelled),
        "realised_accuracy": figure_dict(acc.realised),
        "accuracy_gap": figure_dict(acc.gap),
        "estimate_reliable": acc.reliable,
        "estimate_unreliable_because": list(acc.reasons),
        "drift": _drift_dict(w.drift),
        "notes": list(w.notes),
    }


def report_dict(report: MonitorReport, incidents: Sequence[Incident] = ()) -> dict[str, Any]:
    """Return a monitor report as plain JSON data.

    Parameters
    ----------
    report
        The report of :func:`monitor_log`.
    incidents
        Alert incidents found in it (:func:`evaluate_rules`).

    Returns
    -------
    dict
        The window option, the promises read against, one entry per window, the incidents.
    """
    p = report.reference.promises
    spec = report.window
    return {
        "model_version": report.reference.model_version,
        "window": spec.kind if spec.kind != "rows" else spec.size,
        "promises": {
            "accept_threshold": _number(p.accept_threshold),
            "target_accuracy": p.target_accuracy,
            "conformal_coverage": 1 - p.alpha,
            "reference_ood_rate": p.ood_rate,
        },
        "drift_options": vars(report.drift_options),
        "windows": [window_dict(w) for w in report.windows],
        "incidents": [
            {"rule": i.rule, "fired": i.fired, "resolved": i.resolved,
             "windows": list(i.windows), "threshold": _number(i.threshold)}
            for i in incidents
        ],
    }  # fmt: skip


def _when(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def alert_dict(
    spec: RuleSpec, state: AlertState, false_alarms: FalseAlarmRate | None = None
) -> dict[str, Any]:
    """Return one rule with its state, last observation and expected false-alarm rate.

    Parameters
    ----------
    spec
        The rule.
    state
        Its current state.
    false_alarms
        Its replay over reference data, when computed.

    Returns
    -------
    dict
        The rule's settings, ``state``, ``observation`` and ``false_alarm_rate``.
    """
    seen = state.observation
    replay = None
    if false_alarms is not None:
        replay = {"rate": false_alarms.rate, "windows": false_alarms.windows,
                  "rows_per_window": false_alarms.rows, "note": false_alarms.note}  # fmt: skip
    return {
        "rule": spec.name, "measure": spec.measure, "direction": spec.direction,
        "threshold": _number(state.threshold), "threshold_rule": spec.threshold,
        "window_seconds": spec.window.total_seconds(), "min_sample": spec.min_sample,
        "for_seconds": spec.for_.total_seconds(),
        "cooldown_seconds": spec.cooldown.total_seconds(),
        "repeat_interval_seconds": spec.repeat_interval.total_seconds(),
        "labels": dict(spec.labels), "state": state.state,
        "since": _when(state.since), "fired_at": _when(state.fired_at),
        "resolved_at": _when(state.resolved_at), "evaluated_at": _when(state.evaluated_at),
        "observation": None if seen is None else {
            "window": seen.window, "value": seen.value, "low": seen.low, "high": seen.high,
            "n": seen.n, "breaching": seen.breaching, "note": seen.note},
        "false_alarm_rate": replay,
    }  # fmt: skip
