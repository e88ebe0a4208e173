"""Learning from what comes back: the model registry (versions, aliases, history, rollback),
retraining and recalibration from labelled feedback, the promotion gate, and the champion
against its shadow on labelled live traffic."""

from prudent.retrain._burn_in import BurnInRule, BurnInVerdict, burn_in
from prudent.retrain._gate import GateResult, run_gate
from prudent.retrain._gate_checks import Check, GateOptions, promised_accuracy
from prudent.retrain._promotion import GateRefused, gate_report, promote_gated
from prudent.retrain._records import Event, Version
from prudent.retrain._registry import CHALLENGER, CHAMPION, Registry
from prudent.retrain._retrain import Retrained, recalibrate, retrain
from prudent.retrain._shadow import ShadowComparison, compare_shadow

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "BurnInRule",
    "BurnInVerdict",
    "Check",
    "Event",
    "GateOptions",
    "GateRefused",
    "GateResult",
    "Registry",
    "Retrained",
    "ShadowComparison",
    "Version",
    "burn_in",
    "compare_shadow",
    "gate_report",
    "promised_accuracy",
    "promote_gated",
    "recalibrate",
    "retrain",
    "run_gate",
]
