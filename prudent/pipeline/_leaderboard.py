"""The leaderboard: every model's out-of-fold scores with intervals, and its test against the
best baseline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from prudent._format import signed
from prudent._typing import EncodedLabels
from prudent.metrics import Comparison, Verdict, bootstrap_scores, compare_to_baseline
from prudent.models._features import CappedSVD
from prudent.models._selection import ought_to_beat_baseline
from prudent.pipeline._engine import CandidateRun, predict_proba_aligned

__all__ = [
    "TrainingFit",
    "best_baseline",
    "compresses_text",
    "leaderboard",
    "training_fit",
    "verdict_message",
]

WORSE_WARNING = (
    "significantly worse than the logistic baseline: this usually means a bug in "
    "the data or the preprocessing"
)


def best_baseline(runs: Mapping[str, CandidateRun], y: EncodedLabels) -> str:
    """The baseline with the highest out-of-fold balanced accuracy (usually ``logistic``)."""
    from prudent.metrics import balanced_accuracy

    baselines = [name for name, run in runs.items() if run.spec.baseline]
    return max(baselines, key=lambda n: (balanced_accuracy(y, runs[n].oof_proba), n == "logistic"))


def _balanced_note(comparison: Comparison) -> str:
    """The balanced accuracy (the leaderboard's ranking metric) when it points the other way."""
    diff = comparison.balanced_accuracy_diff
    if comparison.verdict is Verdict.BETTER and diff < 0:
        return f"; but its balanced accuracy, the ranking metric, is lower ({diff:+.3f})"
    if comparison.verdict is Verdict.WORSE and diff > 0:
        return f"; but its balanced accuracy, the ranking metric, is higher ({diff:+.3f})"
    return ""


def verdict_message(
    name: str,
    comparison: Comparison,
    baseline: str,
    family: str = "",
    *,
    fits: TrainingFit | None = None,
    compressed_text: bool = False,
    sibling: str | None = None,
) -> str:
    """One line on how ``name`` compares with the baseline; a warning only for a family
    that ought to beat it (:func:`prudent.models.ought_to_beat_baseline`) and, when ``fits``
    is given, cannot even fit its own training rows as well as the baseline predicts
    held-out ones.

    The test is McNemar's on accuracy (which rows each model gets right); the line names
    that metric, and adds the balanced accuracy when it disagrees with the verdict. A loss in
    accuracy is called a likely bug only when the balanced accuracy is lower too, by more
    than two paired standard errors: a broken column costs both, while trading the larger
    classes' accuracy for the smaller ones' costs only the first.

    Parameters
    ----------
    fits
        The family's accuracy on its own training rows beside the baseline's out-of-fold
        accuracy on the same rows (:func:`training_fit`). A flexible family that fits its
        training rows at least that well but loses on held-out rows overfits (few or noisy
        rows): no bug is suggested. One that cannot learn what a linear model finds, short of
        it by more than two paired standard errors, is the likely bug (a column dropped or
        scrambled). Between the two, within noise of it, the family learns what the baseline
        learns and holds a little less of it on new rows (an early-stopped network on a table
        a line separates well): no bug is suggested either.
    compressed_text
        The family reads the text columns only through a truncated SVD (the dense style),
        while the baseline reads every term: losing to it is the representation's cost, not
        a sign of a bug.
    sibling
        Another candidate of the same family, on the same inputs, that is not significantly
        worse than the baseline: a bug in the data or the preprocessing would have cost it
        too, so this one's loss is its own (a never-seen table whose label a value's absence
        decides: the baseline and default boosting at 1.000, boosting with random split
        thresholds at 0.917, was called a likely bug).
    """
    test = f"(accuracy, McNemar, Holm-adjusted p={comparison.p_adjusted:.3g})"
    note = _balanced_note(comparison)
    if comparison.verdict is Verdict.BETTER:
        return f"{name}: significantly more accurate than {baseline} {test}{note}"
    if comparison.verdict is Verdict.WORSE and comparison.balanced_accuracy_diff > 0:
        # a dropped or scrambled column costs both metrics; losing accuracy while gaining
        # balanced accuracy is predicting the smaller classes more often: a trade, not a bug
        return (
            f"{name}: significantly less accurate than {baseline}, while it predicts the "
            f"smaller classes more often {test}{note}"
        )
    if comparison.verdict is Verdict.WORSE and not comparison.balanced_accuracy_lower:
        # nor one that keeps the ranking metric within noise of the baseline's: it gives up
        # accuracy on the larger classes for as much on the smaller ones (a class-weighted
        # fit against an unweighted baseline, or the reverse)
        return (
            f"{name}: significantly less accurate than {baseline}, at a balanced accuracy "
            f"within noise of it ({signed(comparison.balanced_accuracy_diff)}, standard error "
            f"{comparison.balanced_accuracy_se:.3f}) {test}"
        )
    if comparison.verdict is Verdict.WORSE and ought_to_beat_baseline(family):
        if compressed_text and (fits is None or fits.own < fits.baseline):
            return (
                f"{name}: significantly less accurate than {baseline}, which reads every term "
                f"of the text where {name} reads a truncated SVD of it {test}{note}"
            )
        if sibling is not None:
            return (
                f"{name}: significantly less accurate than {baseline}, where {sibling}, of the "
                f"same family on the same inputs, is not: a weakness of this variant, not a "
                f"sign of a bug in the data {test}{note}"
            )
        if fits is None or fits.short:
            return f"WARNING {name}: {WORSE_WARNING} {test}{note}"
        if fits.own < fits.baseline:
            return (
                f"{name}: significantly less accurate than {baseline} on held-out rows, and "
                f"fits its own training rows at {fits.own:.3f} accuracy, within noise of "
                f"{baseline}'s {fits.baseline:.3f} held out (standard error {fits.se:.3f}): it "
                f"learns what {baseline} learns, and holds a little less of it on new rows "
                f"{test}{note}"
            )
        return (
            f"{name}: significantly less accurate than {baseline} on held-out rows, while it "
            f"fits its own training rows at {fits.own:.3f} accuracy ({baseline}: "
            f"{fits.baseline:.3f} held out): it overfits this data, as flexible families do "
            f"on few or noisy rows {test}{note}"
        )
    if comparison.verdict is Verdict.WORSE:
        return (
            f"{name}: significantly less accurate than {baseline}, as a simpler family often "
            f"is {test}{note}"
        )
    return f"{name}: not significantly more accurate than {baseline} {test}"


def _sibling(
    runs: Mapping[str, CandidateRun], comparisons: Mapping[str, Comparison], name: str
) -> str | None:
    """Another candidate of ``name``'s family that is not significantly worse than the
    baseline, if any (the first in fitting order)."""
    family = runs[name].spec.family
    return next(
        (
            other
            for other, c in comparisons.items()
            if other != name
            and runs[other].spec.family == family
            and c.verdict is not Verdict.WORSE
        ),
        None,
    )


def compresses_text(model: Any) -> bool:
    """Whether a fitted pipeline reads text through a truncated SVD (the dense style)."""
    params = model.get_params(deep=True) if hasattr(model, "get_params") else {}
    return any(isinstance(v, CappedSVD) for v in params.values())


FIT_ROWS = 5_000
"""Training rows a losing flexible family is scored on, to tell overfitting from a bug."""


@dataclass(frozen=True)
class TrainingFit:
    """A losing family's accuracy on its own training rows beside the baseline's
    out-of-fold accuracy on the same rows, with the paired standard error of the gap."""

    own: float
    baseline: float
    se: float

    @property
    def short(self) -> bool:
        """Whether the family fits its training rows worse than the baseline predicts them
        held out, by more than two paired standard errors.

        Examples
        --------
        >>> TrainingFit(0.60, 0.70, 0.01).short, TrainingFit(0.80, 0.807, 0.005).short
        (True, False)
        """
        return self.own < self.baseline - 2.0 * self.se


def training_fit(
    runs: Mapping[str, CandidateRun],
    name: str,
    base: str,
    X: pd.DataFrame,
    y: EncodedLabels,
    seed: int = 0,
) -> TrainingFit:
    """``name``'s accuracy on (up to :data:`FIT_ROWS` of) its training rows, and ``base``'s
    out-of-fold accuracy on the same rows."""
    rows = np.arange(len(y))
    if len(rows) > FIT_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, FIT_ROWS, replace=False))
    n_classes = runs[base].oof_proba.shape[1]
    own = predict_proba_aligned(runs[name].model, X.iloc[rows], n_classes).argmax(1) == y[rows]
    held_out = runs[base].oof_proba[rows].argmax(1) == y[rows]
    gap = own.astype(np.float64) - held_out
    se = float(gap.std(ddof=1) / np.sqrt(len(rows))) if len(rows) > 1 else 0.0
    return TrainingFit(float(np.mean(own)), float(np.mean(held_out)), se)


def _fits(
    runs: Mapping[str, CandidateRun],
    name: str,
    base: str,
    comparison: Comparison,
    X: pd.DataFrame | None,
    y: EncodedLabels,
    seed: int,
) -> TrainingFit | None:
    if X is None or comparison.verdict is not Verdict.WORSE:
        return None
    if not ought_to_beat_baseline(runs[name].spec.family):
        return None
    return training_fit(runs, name, base, X, y, seed)


def _row(name: str, run: CandidateRun, y: EncodedLabels, n_boot: int, seed: int) -> dict[str, Any]:
    """One run's leaderboard row without its test against the baseline: its out-of-fold
    scores with bootstrap intervals, its times and notes."""
    scores = bootstrap_scores(y, run.oof_proba, n_boot=n_boot, seed=seed)
    row: dict[str, Any] = {
        "name": name,
        "family": run.spec.family,
        "baseline": run.spec.baseline,
        "metrics": {k: {"point": v.point, "low": v.low, "high": v.high} for k, v in scores.items()},
        "fit_seconds": round(run.fit_seconds, 3),
        "predict_seconds_per_1k": round(run.predict_seconds_per_1k, 4),
        "notes": list(run.notes),
    }
    for key in ("projected_seconds", "cv_seconds"):  # CPU seconds, when measured here
        if getattr(run, key) is not None:
            row[key] = round(getattr(run, key), 3)
    return row


def leaderboard(
    runs: Mapping[str, CandidateRun],
    y: EncodedLabels,
    *,
    seed: int = 0,
    n_boot: int = 200,
    X: pd.DataFrame | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Comparison], str]:
    """Score every run on its out-of-fold predictions and test each candidate against the
    best baseline (McNemar, Holm-corrected across candidates).

    With the training rows ``X``, a flexible family that loses to the baseline is also
    scored on its own training rows (:func:`training_fit`) to tell overfitting from a bug.

    Returns
    -------
    tuple
        The rows (JSON-ready, baselines first), the comparisons by candidate name, and the
        name of the best baseline.
    """
    base = best_baseline(runs, y)
    candidates = {n: r.oof_proba for n, r in runs.items() if not r.spec.baseline}
    comparisons = compare_to_baseline(y, runs[base].oof_proba, candidates) if candidates else {}
    rows = []
    for name, run in sorted(runs.items(), key=lambda kv: not kv[1].spec.baseline):
        row = _row(name, run, y, n_boot, seed)
        if name in comparisons:
            c = comparisons[name]
            row["vs_baseline"] = {
                "baseline": base,
                "test": c.test.name,
                "metric": "accuracy",
                "p_value": c.p_value,
                "p_adjusted": c.p_adjusted,
                "verdict": str(c.verdict),
                "accuracy_diff": c.accuracy_diff,
                "balanced_accuracy_diff": c.balanced_accuracy_diff,
                "message": verdict_message(
                    name,
                    c,
                    base,
                    run.spec.family,
                    fits=_fits(runs, name, base, c, X, y, seed),
                    compressed_text=c.verdict is Verdict.WORSE and compresses_text(run.model),
                    sibling=_sibling(runs, comparisons, name),
                ),
            }
        rows.append(row)
    order = {n: i for i, n in enumerate(runs)}
    rows.sort(key=lambda r: (not r["baseline"], order[r["name"]]))
    return rows, comparisons, base
