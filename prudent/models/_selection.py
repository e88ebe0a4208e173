"""Which model ships: the best ensemble of the candidates, unless it fails to beat the baseline.

The policy beside the families it chooses between: ``fit`` hands over the fitted candidates
and their out-of-fold probabilities and gets back the primary model and why it was chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from prudent._typing import BoolArray, EncodedLabels, FloatArray, IntArray, ProbaMatrix
from prudent.metrics import (
    Verdict,
    balanced_accuracy_diff_se,
    compare_to_baseline,
    mcnemar,
    mean_se,
)
from prudent.models._calibration import cross_fitted
from prudent.models._calibration_choice import candidate_methods
from prudent.models._calibration_inputs import _as_proba_matrix
from prudent.models._cascade import CascadePolicy
from prudent.models._decision_policy import choose_class_weights
from prudent.models._ensembles import EnsembleChoice, choose_ensemble, ensemble_from_choice

__all__ = [
    "FALLBACK",
    "OUGHT_TO_BEAT_BASELINE",
    "balanced_accuracy_clearly_lower",
    "choose_primary",
    "log_loss_clearly_higher",
    "ought_to_beat_baseline",
]

CALIBRATION_FOLDS = 5
"""Folds of the cross-fitted recalibration that compares a model with the baseline."""

FALLBACK = "logistic"
"""The baseline kept when nothing beats it."""
OUGHT_TO_BEAT_BASELINE = ("gradient boosting", "sentence embeddings", "neural network")
"""Families flexible enough that losing to the logistic baseline suggests a bug (in the data,
the preprocessing or prudent); weaker families (naive Bayes, nearest neighbours, …) often
lose to it on clean data, and that is expected."""


def ought_to_beat_baseline(family: str) -> bool:
    """Whether a family losing to the logistic baseline is a warning sign.

    Examples
    --------
    >>> ought_to_beat_baseline("gradient boosting"), ought_to_beat_baseline("naive Bayes")
    (True, False)
    """
    return family in OUGHT_TO_BEAT_BASELINE


def _reason(choice: EnsembleChoice) -> str:
    if choice.kind == "single":
        return (
            f"no ensemble beat the best single model ({choice.best_single}) on validation "
            "log loss, so it is used alone"
        )
    return (
        f"{choice.kind} ensemble lowers validation log loss by {choice.gain:.4f} over "
        f"{choice.best_single}"
    )


def _describe(
    choice: EnsembleChoice, y: EncodedLabels, oof: Mapping[str, ProbaMatrix], base: str
) -> tuple[dict[str, Any], Verdict, float]:
    best = choice.best_single
    single = mcnemar(oof[best].argmax(1) == y, choice.oof_proba.argmax(1) == y)
    vs_base = compare_to_baseline(y, oof[base], {"primary": choice.oof_proba})["primary"]
    info: dict[str, Any] = {
        "kind": choice.kind,
        "members": choice.weights,
        "best_single": best,
        "options_log_loss": choice.log_loss,
        "gain_log_loss": choice.gain,
        "vs_best_single": {
            "test": single.name,
            "p_value": single.p_value,
            "n01": single.n01,
            "n10": single.n10,
        },
        "vs_baseline": {
            "baseline": base,
            "test": vs_base.test.name,
            "p_value": vs_base.p_value,
            "verdict": str(vs_base.verdict),
        },
        "reason": _reason(choice),
        "considered": choice.kind,
        "primary": best if choice.kind == "single" else f"{choice.kind} ensemble",
    }
    return info, vs_base.verdict, vs_base.p_value


def _best_rule_right(y: EncodedLabels, P: ProbaMatrix) -> tuple[float, BoolArray]:
    """The balanced accuracy at the model's best label rule, the one the policy will ship, and
    whether that rule labels each row right.

    Compared at the plain argmax, the class-weighted logistic baseline would beat any model
    fitted without class weights on imbalanced data, whatever the policy makes of them.
    """
    weights, info = choose_class_weights(P, y)
    right = CascadePolicy(np.inf, class_weights=weights).label_index(P) == y
    return float(max(info["balanced_accuracy"].values())), right


def balanced_accuracy_clearly_lower(
    y: EncodedLabels, model: ProbaMatrix, baseline: ProbaMatrix, groups: IntArray | None = None
) -> tuple[bool, tuple[float, float]]:
    """Whether the model's balanced accuracy, at its best label rule, is lower than the
    baseline's at its own by more than two paired standard errors of the difference
    (:func:`prudent.metrics.balanced_accuracy_diff_se`, the leaderboard's measure).

    A lower figure within the noise does not count: held-out balanced accuracies a few
    thousandths apart swap from one split to the next, and the model was chosen for its lower
    log loss. With ``groups`` the error is clustered by group. Returns the verdict and both
    balanced accuracies (model's, baseline's).

    Examples
    --------
    >>> y = np.array([0, 1] * 50)
    >>> good = np.eye(2)[y] * 0.8 + 0.1
    >>> worse = good.copy(); worse[:2] = worse[:2, ::-1]
    >>> balanced_accuracy_clearly_lower(y, worse, good)[0]
    False
    >>> balanced_accuracy_clearly_lower(y, np.full((100, 2), 0.5), good)[0]
    True
    """
    model_ba, model_right = _best_rule_right(y, model)
    base_ba, base_right = _best_rule_right(y, baseline)
    se = balanced_accuracy_diff_se(y, base_right, model_right, groups)
    return bool(model_ba - base_ba < -2.0 * se), (model_ba, base_ba)


def _row_log_losses(
    P: ProbaMatrix, y: EncodedLabels, seed: int, groups: IntArray | None = None
) -> FloatArray:
    """Each row's log loss under the model's best calibration map, cross-fitted (every row
    mapped by a map fitted without it, or its group; the maps the calibration stage chooses
    among)."""
    P = _as_proba_matrix(np.asarray(P, dtype=np.float64))  # clipped, as the calibrator reads it
    methods = candidate_methods(y.size, P.shape[1])
    mapped = cross_fitted(P, y, methods, CALIBRATION_FOLDS, seed, groups)
    rows = np.arange(y.size)
    losses = [-np.log(np.clip(Q[rows, y], 1e-15, 1.0)) for Q in mapped.values()]
    return min(losses, key=lambda loss: float(loss.mean()))


def log_loss_clearly_higher(
    y: EncodedLabels,
    model: ProbaMatrix,
    baseline: ProbaMatrix,
    seed: int = 0,
    groups: IntArray | None = None,
) -> tuple[bool, tuple[float, float]]:
    """Whether the model's log loss, once it and the baseline are each recalibrated as the fit
    will recalibrate the one that ships, is higher than the baseline's by more than two
    standard errors of the rows' paired differences. Returns the verdict and both log losses
    (model's, baseline's).

    The ensemble is chosen on raw log loss, where a class-weighted baseline's probabilities
    are skewed on purpose: raw, it loses to models that calibration then leaves behind. With
    ``groups`` (``--group``) the maps are cross-fitted by group and the error is clustered.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 2000)
    >>> p = np.where(rng.random(2000) < 0.8, y, 1 - y) * 0.6 + 0.2
    >>> good = np.c_[1 - p, p]
    >>> noisy = np.clip(good + rng.normal(0, 0.15, 2000)[:, None] * [1, -1], 0.01, 0.99)
    >>> log_loss_clearly_higher(y, noisy, good)[0], log_loss_clearly_higher(y, good, good)[0]
    (True, False)
    """
    base_rows = _row_log_losses(baseline, y, seed, groups)
    d = _row_log_losses(model, y, seed, groups) - base_rows
    se = mean_se(d, groups)
    base = float(base_rows.mean())
    return bool(d.mean() > 2.0 * se), (base + float(d.mean()), base)


def _keep_fallback(info: dict[str, Any], why: str) -> dict[str, Any]:
    """``info`` saying the baseline ships, because the model of lowest validation log loss
    ``why`` (how it lost, by which measure)."""
    return info | {
        "kind": "single",
        "members": {FALLBACK: 1.0},
        "primary": FALLBACK,
        "reason": f"the model of lowest validation log loss ({info['primary']}) {why}, so the "
        f"{FALLBACK} baseline is kept",
    }


def _loss_to_baseline(
    verdict: Verdict,
    y: EncodedLabels,
    proba: ProbaMatrix,
    base: ProbaMatrix,
    fold: tuple[int, IntArray | None],
) -> str | None:
    """How the model loses to the logistic baseline, in words, or None when it does not: it
    is significantly less accurate (McNemar), or its balanced accuracy (each at its best
    label rule) or its recalibrated log loss is worse by more than two standard errors."""
    if verdict is Verdict.WORSE:
        return f"is significantly less accurate than the {FALLBACK} baseline (McNemar)"
    lower, (model_ba, base_ba) = balanced_accuracy_clearly_lower(y, proba, base, fold[1])
    if lower:
        return (
            f"has a balanced accuracy of {model_ba:.3f} at its best label rule, below the "
            f"{FALLBACK} baseline's {base_ba:.3f} by more than two standard errors"
        )
    higher, (model_ll, base_ll) = log_loss_clearly_higher(y, proba, base, *fold)
    if higher:
        return (
            f"has a log loss of {model_ll:.4f} once recalibrated, above the {FALLBACK} "
            f"baseline's {base_ll:.4f} recalibrated by more than two standard errors"
        )
    return None


def choose_primary(
    fitted: Mapping[str, Any],
    oof: Mapping[str, ProbaMatrix],
    y: EncodedLabels,
    *,
    base: str,
    seed: int = 0,
    seconds: float | None = None,
    groups: IntArray | None = None,
    costs: Mapping[str, float] | None = None,
) -> tuple[Any, ProbaMatrix, dict[str, Any]]:
    """The primary model: the best ensemble (or single model) unless the baseline is better.

    Parameters
    ----------
    fitted
        Name → fitted model, every candidate but the majority class (``logistic`` among them).
    oof
        Name → out-of-fold probabilities of the same models.
    y
        Class indices of the rows.
    base
        The best baseline's name (the one candidates are tested against).
    seed
        Seed of the ensemble search.
    seconds
        Time the stacking ensemble may take (see :func:`choose_ensemble`); ``None``: no limit.
    groups
        Each row's group (``--group``): every cross-validation of the choice keeps a group's
        rows in one fold.
    costs
        Name → prediction seconds per 1,000 rows: the ensemble sheds the costly members
        it can do without (see :func:`choose_ensemble`); ``None``: it keeps them all.

    Returns
    -------
    tuple
        The model, its out-of-fold probabilities, and why it was chosen (``primary``,
        ``reason``, the tests, a ``flag`` when it is not significantly better than the
        baseline, ``notes`` on stacking cut to the time allowed).
    """
    pool = list(fitted)
    probas = [oof[n] for n in pool]
    member_costs = None if costs is None else [costs.get(n, 0.0) for n in pool]
    choice = choose_ensemble(
        pool, probas, y, random_state=seed, seconds=seconds, groups=groups, costs=member_costs
    )
    info, verdict, p_value = _describe(choice, y, oof, base)
    if choice.notes:
        info["notes"] = list(choice.notes)
    model, proba = ensemble_from_choice(choice, fitted), choice.oof_proba
    if choice.best_single == FALLBACK and choice.kind == "single":
        return model, proba, info
    loses = _loss_to_baseline(verdict, y, proba, oof[FALLBACK], (seed, groups))
    if loses is not None:
        return fitted[FALLBACK], oof[FALLBACK], _keep_fallback(info, loses)
    if verdict is not Verdict.BETTER:
        info["flag"] = (
            f"FLAG: {info['primary']} is not significantly better than the baseline "
            f"{base} (McNemar, p={p_value:.3g}); shipped because "
            "its validation log loss is lower, and neither its balanced accuracy nor its "
            "recalibrated log loss is worse beyond the noise"
        )
        info["reason"] += "; " + info["flag"]
    return model, proba, info
