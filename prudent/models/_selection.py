"""Which model ships: the best ensemble of the candidates, unless it fails to beat the baseline.

The policy beside the families it chooses between: ``fit`` hands over the fitted candidates
and their out-of-fold probabilities and gets back the primary model and why it was chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prudent._typing import EncodedLabels, ProbaMatrix
from prudent.metrics import Verdict, compare_to_baseline, mcnemar
from prudent.models._decision_policy import choose_class_weights
from prudent.models._ensembles import EnsembleChoice, choose_ensemble, ensemble_from_choice

__all__ = ["FALLBACK", "OUGHT_TO_BEAT_BASELINE", "choose_primary", "ought_to_beat_baseline"]

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


def _best_balanced_accuracy(y: EncodedLabels, P: ProbaMatrix) -> float:
    """The balanced accuracy at the model's best label rule, the one the policy will ship.

    Compared at the plain argmax, the class-weighted logistic baseline would beat any model
    fitted without class weights on imbalanced data, whatever the policy makes of them.
    """
    return float(max(choose_class_weights(P, y)[1]["balanced_accuracy"].values()))


def _keep_fallback(
    info: dict[str, Any], verdict: Verdict, balanced: tuple[float, float]
) -> dict[str, Any]:
    """``info`` saying the baseline ships; ``balanced`` holds the chosen model's and the
    baseline's balanced accuracies, each at its best label rule."""
    model_ba, fallback_ba = balanced
    why = (
        f"is significantly worse than the {FALLBACK} baseline (McNemar on accuracy)"
        if verdict is Verdict.WORSE
        else f"does not beat the {FALLBACK} baseline's {fallback_ba:.3f}"
    )
    return info | {
        "kind": "single",
        "members": {FALLBACK: 1.0},
        "primary": FALLBACK,
        "reason": f"the model of lowest validation log loss ({info['primary']}, balanced "
        f"accuracy {model_ba:.3f} at its best label rule) {why}, so the {FALLBACK} baseline "
        "is kept",
    }


def choose_primary(
    fitted: Mapping[str, Any],
    oof: Mapping[str, ProbaMatrix],
    y: EncodedLabels,
    *,
    base: str,
    seed: int = 0,
    seconds: float | None = None,
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

    Returns
    -------
    tuple
        The model, its out-of-fold probabilities, and why it was chosen (``primary``,
        ``reason``, the tests, a ``flag`` when it is not significantly better than the
        baseline, ``notes`` on stacking cut to the time allowed).
    """
    pool = list(fitted)
    choice = choose_ensemble(pool, [oof[n] for n in pool], y, random_state=seed, seconds=seconds)
    info, verdict, p_value = _describe(choice, y, oof, base)
    if choice.notes:
        info["notes"] = list(choice.notes)
    model, proba = ensemble_from_choice(choice, fitted), choice.oof_proba
    if choice.best_single == FALLBACK and choice.kind == "single":
        return model, proba, info
    balanced = _best_balanced_accuracy(y, proba), _best_balanced_accuracy(y, oof[FALLBACK])
    if verdict is Verdict.WORSE or balanced[0] < balanced[1]:
        return fitted[FALLBACK], oof[FALLBACK], _keep_fallback(info, verdict, balanced)
    if verdict is not Verdict.BETTER:
        info["flag"] = (
            f"FLAG: {info['primary']} is not significantly better than the baseline "
            f"{base} (McNemar, p={p_value:.3g}); shipped because "
            "its validation log loss and balanced accuracy are better"
        )
        info["reason"] += "; " + info["flag"]
    return model, proba, info
