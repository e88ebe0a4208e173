"""The trust stage's primary model: the pool of fitted models an ensemble may draw on (bounded
in pickled bytes), the ensemble chosen from it within the stacking share of the time, and the
diversity report of the candidates' out-of-fold errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prudent._typing import EncodedLabels, IntArray, ProbaMatrix
from prudent.metrics import diversity_report, log_loss
from prudent.models._selection import FALLBACK, choose_primary
from prudent.pipeline._budget import Budget, pickled_bytes
from prudent.pipeline._engine import CandidateRun

__all__ = ["PRIMARY_BYTES", "STACKING_SHARE"]

STACKING_SHARE = 0.5
"""Share of the trust stage's time (what is left before the save's) stacking may take: the
calibration, the OOD detector and the locked test keep the rest."""

PRIMARY_BYTES = 28_000_000
"""The most pickled bytes the ensemble's members may hold together. Each family is bounded
(a forest by its leaves, k-NN by its reference rows), but a forest and k-NN together pickled to
31 MB and saved a 48 MB bundle. What comes on top, measured on bird_strike_phase (13k rows)
with a pool of 33.5 MB under the earlier cap of 34 MB: skops writes 1.15 times the pickled
bytes (38.5 MB), the OOD detector 4.3 MB, the backup 0.9 MB, the evidence, report and label
issues 5.0 MB, 48.2 MB in all. At 28 MB the same parts come to about 42 MB, which leaves room
for a larger OOD reference set or evidence: the bundle stays under 50 MB."""


def _diversity(runs: Mapping[str, CandidateRun], y: EncodedLabels) -> dict[str, Any]:
    probas = {n: r.oof_proba for n, r in runs.items() if n != "majority"}
    if len(probas) < 2:
        return {}
    d = diversity_report(y, probas)
    frames = {
        "error_correlation": d.error_correlation,
        "disagreement": d.disagreement,
        "double_fault": d.double_fault,
        "yules_q": d.yules_q,
    }
    out: dict[str, Any] = {"models": list(probas)}
    out |= {k: v.round(4).to_numpy().tolist() for k, v in frames.items()}
    out["unique_signal"] = (
        d.unique_signal.reset_index().to_dict(orient="records")
        if hasattr(d.unique_signal, "reset_index")
        else d.unique_signal
    )
    return out


def _pool(
    runs: Mapping[str, CandidateRun], y: EncodedLabels, cap: int = PRIMARY_BYTES
) -> tuple[dict[str, Any], list[str]]:
    """The fitted models an ensemble may draw on, the largest left out while together they
    would pickle to more than ``cap`` bytes (never the baseline or the best single model by
    out-of-fold log loss), and a note per model left out."""
    fitted = {n: r.model for n, r in runs.items() if n != "majority"}
    size = {n: pickled_bytes(m) for n, m in fitted.items()}
    best = min(fitted, key=lambda n: log_loss(y, runs[n].oof_proba))
    total, notes = sum(size.values()), []
    for name in sorted(fitted, key=size.__getitem__, reverse=True):
        if total <= cap:
            break
        if name not in (best, FALLBACK):
            del fitted[name]
            total -= size[name]
            notes.append(
                f"{name} ({size[name] / 1e6:.0f} MB) left out of the ensemble to keep the "
                "bundle under 50 MB"
            )
    return fitted, notes


def _primary(
    runs: Mapping[str, CandidateRun],
    base: str,
    y: EncodedLabels,
    seed: int,
    budget: Budget,
    groups: IntArray | None = None,
) -> tuple[Any, ProbaMatrix, dict[str, Any]]:
    fitted, notes = _pool(runs, y)
    oof = {n: r.oof_proba for n, r in runs.items()}
    seconds = STACKING_SHARE * budget.for_trust()
    costs = {n: r.predict_seconds_per_1k for n, r in runs.items()}
    model, proba, info = choose_primary(
        fitted, oof, y, base=base, seed=seed, seconds=seconds, groups=groups, costs=costs
    )
    if notes:
        info["notes"] = [*notes, *info.get("notes", [])]
    return model, proba, info
