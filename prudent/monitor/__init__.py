"""prudent.monitor: reads the prediction log, never the request path.

Windows of the log (by hour, day or N predictions) are summarised in SQL — decision mix, OOD
rate, confidence quantiles, conformal set size, class shares and, once labels arrive, accepted
accuracy against the promise, high-confidence errors, ECE with its consistency test and
conformal coverage — every figure with its interval, or a typed "not enough data". Each window
is tested for drift against the bundle's locked-test reference (per-feature tests, BH across
features, an effect floor), and the accuracy calibrated confidences expect is set beside the
realised one, marked unreliable when the window no longer looks like the reference.
"""

from __future__ import annotations

from prudent.monitor._alerts import AlertRule, Incident, default_rules, evaluate_rules
from prudent.monitor._detector import ReferenceDriftDetector
from prudent.monitor._drift import (
    DriftBaseline,
    DriftOptions,
    DriftReport,
    SeriesDrift,
    window_drift,
)
from prudent.monitor._estimate import AccuracyEstimate
from prudent.monitor._export import report_dict, window_dict
from prudent.monitor._figures import Estimate, Figure, NotEnoughData, figure_dict
from prudent.monitor._histogram import Calibration
from prudent.monitor._monitor import MonitorReport, monitor_log
from prudent.monitor._notify import notify_incidents
from prudent.monitor._reference import Promises, Reference
from prudent.monitor._sql import WindowSpec
from prudent.monitor._windows import QUANTILES, SummaryOptions, WindowSummary

__all__ = [
    "QUANTILES",
    "AccuracyEstimate",
    "AlertRule",
    "Calibration",
    "DriftBaseline",
    "DriftOptions",
    "DriftReport",
    "Estimate",
    "Figure",
    "Incident",
    "MonitorReport",
    "NotEnoughData",
    "Promises",
    "Reference",
    "ReferenceDriftDetector",
    "SeriesDrift",
    "SummaryOptions",
    "WindowSpec",
    "WindowSummary",
    "default_rules",
    "evaluate_rules",
    "figure_dict",
    "monitor_log",
    "notify_incidents",
    "report_dict",
    "window_dict",
    "window_drift",
]
