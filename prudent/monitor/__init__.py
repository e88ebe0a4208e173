"""prudent.monitor: reads the prediction log, never the request path.

Windows of the log (by hour, day or N predictions) are summarised in SQL — decision mix, OOD
rate, confidence quantiles, conformal set size, class shares and, once labels arrive, accepted
accuracy against the promise, high-confidence errors, ECE with its consistency test and
conformal coverage — every figure with its interval, or a typed "not enough data". Each window
is tested for drift against the bundle's locked-test reference (per-feature tests, BH across
features, an effect floor), and the accuracy calibrated confidences expect is set beside the
realised one, marked unreliable when the window no longer looks like the reference.

Alert rules come from the shipped ``alerts.yaml``, overridden by a user file
(:func:`load_rules`); :class:`AlertEvaluator` evaluates them on the log (one evaluator across
replicas, by a lease in the database), keeps their states there and sends one notification
per incident; :func:`alert_states` reads the current states; :func:`false_alarm_rates`
replays each rule over reference data. :func:`logged_versions` says which models a log holds
predictions of.
"""

from __future__ import annotations

from prudent.monitor._alerts import AlertRule, Incident, evaluate_rules
from prudent.monitor._detector import ReferenceDriftDetector
from prudent.monitor._drift import (
    DriftBaseline,
    DriftOptions,
    DriftReport,
    SeriesDrift,
    window_drift,
)
from prudent.monitor._estimate import AccuracyEstimate
from prudent.monitor._evaluate import AlertEvaluator, Evaluation, alert_line, alert_states
from prudent.monitor._export import alert_dict, report_dict, window_dict
from prudent.monitor._figures import Estimate, Figure, NotEnoughData, figure_dict
from prudent.monitor._gauges import MonitorGauges, duration_label
from prudent.monitor._histogram import Calibration
from prudent.monitor._logged import logged_versions
from prudent.monitor._monitor import MonitorReport, monitor_log
from prudent.monitor._notify import notify_incidents
from prudent.monitor._reference import Outcomes, Promises, Reference, promise_tolerance
from prudent.monitor._replay import FalseAlarmRate, false_alarm_rates
from prudent.monitor._rules import MEASURES, RuleSpec, default_rules, load_rules
from prudent.monitor._sql import WindowSpec
from prudent.monitor._state import AlertState, Observation
from prudent.monitor._windows import QUANTILES, SummaryOptions, WindowSummary

__all__ = [
    "MEASURES",
    "QUANTILES",
    "AccuracyEstimate",
    "AlertEvaluator",
    "AlertRule",
    "AlertState",
    "Calibration",
    "DriftBaseline",
    "DriftOptions",
    "DriftReport",
    "Estimate",
    "Evaluation",
    "FalseAlarmRate",
    "Figure",
    "Incident",
    "MonitorGauges",
    "MonitorReport",
    "NotEnoughData",
    "Observation",
    "Outcomes",
    "Promises",
    "Reference",
    "ReferenceDriftDetector",
    "RuleSpec",
    "SeriesDrift",
    "SummaryOptions",
    "WindowSpec",
    "WindowSummary",
    "alert_dict",
    "alert_line",
    "alert_states",
    "default_rules",
    "duration_label",
    "evaluate_rules",
    "false_alarm_rates",
    "figure_dict",
    "load_rules",
    "logged_versions",
    "monitor_log",
    "notify_incidents",
    "promise_tolerance",
    "report_dict",
    "window_dict",
    "window_drift",
]
