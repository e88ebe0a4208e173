"""Each rule's expected false-alarm rate: the rule replayed over windows of reference data.

The bundle's locked-test rows are what the model looks like when nothing has changed. Windows
are drawn from them with replacement (``windows`` of them, each of the rule's smallest judged
size: ``min_sample`` rows, and at least the drift test's minimum), summarised by the same code
as a logged window (:func:`~prudent.monitor._windows.summarise_window`: the model's decisions,
confidences, OOD flags and, the test set being labelled, its hits), tested for drift against
the reference, and replayed through the rule with its ``for`` and ``cooldown`` counted in
windows. Every incident there is a false alarm. The top class stands in for the decided label
(they differ only where class weights moved a decision).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from prudent.monitor._alerts import evaluate_rules
from prudent.monitor._drift import DriftBaseline, DriftOptions, window_drift
from prudent.monitor._histogram import ConfidenceHistogram
from prudent.monitor._reference import Outcomes, Reference
from prudent.monitor._rules import RuleSpec
from prudent.monitor._sql import FINE_BINS
from prudent.monitor._windows import SummaryOptions, WindowSummary, summarise_window
from prudent.store import DECISIONS

__all__ = ["FalseAlarmRate", "false_alarm_rates"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NEEDS_DRIFT = ("confidence_drift", "input_drift")


@dataclass(frozen=True)
class FalseAlarmRate:
    """A rule replayed over reference windows.

    Parameters
    ----------
    rule
        The rule's name.
    windows
        Windows replayed (0 when it could not be).
    rows
        Rows in each.
    breaches
        Windows that breached.
    incidents
        Incidents the rule raised over them: false alarms.
    note
        Why it was not replayed, when it was not.
    """

    rule: str
    windows: int
    rows: int
    breaches: int
    incidents: int
    note: str = ""

    @property
    def rate(self) -> float | None:
        """False alarms per evaluated window (None when not replayed)."""
        return self.incidents / self.windows if self.windows else None


def _counts(o: Outcomes, idx: np.ndarray, accept_threshold: float) -> dict[str, float]:
    conf, acc, ok = o.confidence[idx], o.accepted[idx], o.correct[idx]
    high, size, var = conf >= accept_threshold, o.set_size[idx], conf * (1 - conf)
    n, n_acc = len(idx), int(acc.sum())
    counts = {f"n_{d}": 0 for d in DECISIONS} | {"n_accept": n_acc, "n_review": n - n_acc}
    return counts | {
        "n": n, "n_answered": n, "sum_set": size.sum(), "sum_set2": (size * size).sum(),
        "n_acc": n_acc, "sum_c_acc": conf[acc].sum(), "sum_v_acc": var[acc].sum(),
        "n_labelled": n, "n_acc_lab": n_acc, "n_acc_ok": int((acc & ok).sum()),
        "sum_c_acc_lab": conf[acc].sum(), "sum_v_acc_lab": var[acc].sum(),
        "n_high": int(high.sum()), "n_high_wrong": int((high & ~ok).sum()),
        "n_cov_lab": 0, "n_covered": 0, "n_ood": int(o.is_ood[idx].sum()),
        "start": _EPOCH, "end": _EPOCH,
    }  # fmt: skip


def _histogram(o: Outcomes, idx: np.ndarray) -> ConfidenceHistogram:
    conf = o.confidence[idx]
    fine = np.clip((conf * FINE_BINS).astype(int), 0, FINE_BINS - 1)
    n = np.bincount(fine, minlength=FINE_BINS).astype(float)
    summed = np.bincount(fine, conf, minlength=FINE_BINS).astype(float)
    ok = np.bincount(fine, o.correct[idx].astype(float), minlength=FINE_BINS).astype(float)
    return ConfidenceHistogram(n, n.copy(), summed, ok)


def _windows(
    reference: Reference, rows: int, count: int, drift: bool, seed: int
) -> Iterator[WindowSummary]:
    o = reference.outcomes
    assert o is not None
    rng = np.random.default_rng(seed)
    baseline = DriftBaseline.of(reference) if drift else None
    options = SummaryOptions(n_resamples=20)
    for i in range(count):
        idx = rng.integers(len(o.confidence), size=rows)
        report = None
        if baseline is not None:
            frame = reference.features.iloc[rng.integers(len(reference.features), size=rows)]
            ood = reference.ood_score
            scores = ood[rng.integers(ood.size, size=rows)] if ood.size else None
            report = window_drift(baseline, frame.reset_index(drop=True),
                                  confidence=o.confidence[idx], ood_score=scores,
                                  options=DriftOptions())  # fmt: skip
        yield summarise_window(
            _counts(o, idx, reference.promises.accept_threshold), _histogram(o, idx), [],
            reference=reference, key=f"replay {i}", drift=report, options=options,
        )  # fmt: skip


def false_alarm_rates(
    reference: Reference, rules: Sequence[RuleSpec], *, windows: int = 200, seed: int = 0
) -> list[FalseAlarmRate]:
    """Replay each rule over ``windows`` windows drawn from the reference (module notes).

    Parameters
    ----------
    reference
        The model's reference, with its outcomes (:meth:`Reference.from_bundle`).
    rules
        The rules.
    windows
        Windows per rule.
    seed
        Seed of the draws.

    Returns
    -------
    list of FalseAlarmRate
        One per rule, in order.
    """
    cache: dict[tuple[int, bool], list[WindowSummary]] = {}
    out = []
    for spec in rules:
        bound = spec.bind(reference.promises)
        rows = max(spec.min_sample, DriftOptions().min_rows)
        if bound is None or reference.outcomes is None:
            why = "no reference outcomes" if bound else "not read from windows or no value"
            out.append(FalseAlarmRate(spec.name, 0, rows, 0, 0, f"not replayed: {why}"))
            continue
        drift = spec.measure in _NEEDS_DRIFT
        key = (rows, drift)
        if key not in cache:
            cache[key] = list(_windows(reference, rows, windows, drift, seed))
        drawn = cache[key]
        hits = sum(bound.breaches(w) for w in drawn)
        out.append(FalseAlarmRate(spec.name, len(drawn), rows, hits,
                                  len(evaluate_rules([bound], drawn))))  # fmt: skip
    return out
