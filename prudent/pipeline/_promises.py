"""The final, single look at the locked test set: metrics and the promises, measured."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from prudent._format import at_least
from prudent._typing import BoolArray, EncodedLabels, FloatArray, IntArray, Labels, ProbaMatrix
from prudent.metrics import (
    SCORES,
    bootstrap_scores,
    ece_consistency_test,
    expected_calibration_error,
    permutation_importance,
    risk_coverage_curve,
)
from prudent.models._cascade import CascadePolicy
from prudent.models._conformal import ConformalClassifier
from prudent.models._decisions import Decisions
from prudent.models._guarded import GuardedModel, RawScores
from prudent.pipeline._decision_promises import (
    DECISION_PROMISES,
    _promise,
    _tolerance,
    decision_outcome,
    decision_promises,
    decision_test_section,
    effective_rows,
    worth_of,
)
from prudent.pipeline._engine import CandidateRun, predict_proba_aligned
from prudent.pipeline._spec import FitSpec

__all__ = [
    "DECISION_PROMISES",
    "LABEL_SCORES",
    "Measured",
    "decision_outcome",
    "decision_promises",
    "decision_test_section",
    "measure_promises",
    "remeasure_locked_test",
    "shipped_scores",
]


@dataclass
class Measured:
    """What the locked test set showed."""

    test_metrics: dict[str, dict[str, dict[str, float]]]
    sections: dict[str, Any]
    artifacts: dict[str, Any]


def _scores(
    y: EncodedLabels, proba: ProbaMatrix, seed: int, names: Iterable[str] = tuple(SCORES)
) -> dict[str, dict[str, float]]:
    chosen = {k: SCORES[k] for k in names}
    return {
        k: {"point": v.point, "low": v.low, "high": v.high}
        for k, v in bootstrap_scores(y, proba, scores=chosen, seed=seed).items()
    }


LABEL_SCORES = ("accuracy", "balanced_accuracy", "macro_f1")
"""The scores that read only the predicted label."""


def shipped_scores(
    y: EncodedLabels, proba: ProbaMatrix, policy: CascadePolicy, seed: int
) -> dict[str, dict[str, float]]:
    """The shipped model's scores: the label scores of the labels it gives
    (:meth:`CascadePolicy.given_index`: the label rule's, or with a cost matrix the cheapest),
    the others on its probabilities. Scoring the plain argmax reported a minority-weighted
    model's balanced accuracy as the majority class's (0.500 where its labels score 0.584),
    and a cost matrix's accuracy as 0.974 where its labels scored 0.904."""
    if policy.class_weights is None and policy.cost_policy is None:
        return _scores(y, proba, seed)
    given = np.eye(proba.shape[1])[policy.given_index(proba)]  # its argmax: the label given
    rest = [k for k in SCORES if k not in LABEL_SCORES]
    out = _scores(y, given, seed, LABEL_SCORES) | _scores(y, proba, seed, rest)
    return {k: out[k] for k in SCORES}  # the registry's order


def _curve(conf: FloatArray, ok: np.ndarray, points: int = 100) -> dict[str, list[float]]:
    coverage, risk, thresholds = risk_coverage_curve(conf, ok)
    idx = np.unique(np.linspace(0, len(coverage) - 1, min(points, len(coverage))).astype(int))
    return {
        "coverage": coverage[idx].round(4).tolist(),
        "risk": risk[idx].round(4).tolist(),
        "threshold": thresholds[idx].round(4).tolist(),
    }


def _conformal(
    model: GuardedModel,
    spec: FitSpec,
    P: ProbaMatrix,
    y: EncodedLabels,
    holdout: tuple[ProbaMatrix, ProbaMatrix, EncodedLabels] | None,
) -> tuple[dict[str, Any], BoolArray]:
    """Coverage and size of the prediction sets on the test rows: LAC's as they ship (the
    model's label added, :meth:`GuardedModel.prediction_sets`), and APS's, fitted on the
    same held-out rows for comparison (when they are given); and, per row, whether LAC's
    set holds its label."""
    shipped = [("lac", model.prediction_sets(P))]
    if holdout is not None:
        aps = ConformalClassifier(
            method="aps", alpha=spec.alpha, mondrian=spec.mondrian, allow_empty=False
        ).fit(holdout[0], holdout[2])
        shipped.append(("aps", aps.predict_set(P)))
    out = {}
    hits = {}
    for method, sets in shipped:
        hit = hits[method] = sets[np.arange(len(y)), y]
        out[method] = {
            "coverage": float(hit.mean()),
            "mean_size": float(sets.sum(1).mean()),
            "empty_share": float((sets.sum(1) == 0).mean()),
            # per class index: (coverage, rows), what a Mondrian promise is kept on
            "per_class": {
                int(c): (float(hit[y == c].mean()), int((y == c).sum())) for c in np.unique(y)
            },
        }
    return out, np.asarray(hits["lac"], dtype=bool)


def _conformal_promise(
    spec: FitSpec,
    lac: dict[str, Any],
    classes: Labels,
    y: EncodedLabels,
    hit: BoolArray,
    groups: IntArray | None = None,
) -> dict[str, Any]:
    """The prediction sets' coverage promise: overall, or with ``mondrian`` in every class
    (each within two standard errors of its own rows), the lowest class named."""
    size = f"mean set size {lac['mean_size']:.2f}"
    target = 1 - spec.alpha
    if not spec.mondrian:
        return _promise(
            f"conformal coverage (LAC, alpha={spec.alpha})",
            f"≥ {at_least(target)} (kept within 2 standard errors)",
            f"{lac['coverage']:.3f} ({size})",
            lac["coverage"] >= target - _tolerance(spec.alpha, effective_rows(hit, groups)),
        )
    per_class = lac["per_class"]
    lowest = min(per_class, key=lambda c: per_class[c][0])
    coverage, rows = per_class[lowest]
    kept = all(
        cov >= target - _tolerance(spec.alpha, worth_of(hit, y == c, groups))
        for c, (cov, _) in per_class.items()
    )
    return _promise(
        f"conformal coverage in every class (Mondrian LAC, alpha={spec.alpha})",
        f"≥ {at_least(target)} in each class (each kept within 2 standard errors of its rows)",
        f"lowest {str(classes[lowest])!r} {coverage:.3f} on {rows} rows; all "
        f"{lac['coverage']:.3f} ({size})",
        kept,
    )


def _ood(
    model: GuardedModel, P: ProbaMatrix, score_in: Any, Z_ood: Any, P_ood: ProbaMatrix | None
) -> dict[str, Any]:
    """The OOD promises; ``score_in`` is the test rows' OOD score, from the guarded scores
    (a second neighbour search of them cost as much again)."""
    assert model.ood is not None and score_in is not None
    score_in = np.asarray(score_in, dtype=np.float64)
    out: dict[str, Any] = {
        "test_fpr": float((score_in >= model.ood.threshold_).mean()),
        "score_in": score_in,
    }
    if Z_ood is not None and P_ood is not None:
        score_out = np.asarray(-model.ood.score_samples(Z_ood, P_ood))
        labels = np.r_[np.zeros(len(score_in)), np.ones(len(score_out))]
        out["test_auroc"] = float(roc_auc_score(labels, np.r_[score_in, score_out]))
        out["test_auroc_max_prob"] = float(
            roc_auc_score(labels, np.r_[1 - P.max(1), 1 - P_ood.max(1)])
        )
        out["test_tpr"] = float((score_out >= model.ood.threshold_).mean())
        out["score_out"] = score_out
    return out


def _promises(
    spec: FitSpec,
    sections: dict[str, Any],
    decisions: Decisions,
    classes: Labels,
    y: EncodedLabels,
    measured: dict[str, Any],
    groups: IntArray | None = None,
) -> list[dict[str, Any]]:
    conformal, ood, ece = measured["conformal"], measured["ood"], measured["ece"]
    return [
        *decision_promises(
            sections["thresholds"], spec.delta, decisions, classes, y, measured["proba"], groups
        ),
        _conformal_promise(spec, conformal["lac"], classes, y, measured["lac_hit"], groups),
        _promise(
            "OOD false-positive rate",
            f"≤ {spec.ood_fpr:.3f} (with prob. ≥ {1 - spec.delta:.2f}; kept within 2 standard "
            "errors)",
            f"{ood['test_fpr']:.3f}",
            ood["test_fpr"]
            <= spec.ood_fpr
            + _tolerance(spec.ood_fpr, effective_rows(measured["ood_flags"], groups)),
        ),
        _promise(
            "calibration (top-label ECE)",
            "consistent with perfect (p ≥ 0.1)",
            f"ECE {ece.statistic:.3f}, p={_below(ece.p_value, 0.1)}",
            ece.p_value >= 0.1,
        ),
    ]


def _below(p: float, bound: float) -> str:
    """``p`` to two decimals, or three when two would round it across ``bound``: a promise
    of p ≥ 0.1 broken at 0.0996 printed 'p=0.10' beside 'NO'.

    >>> _below(0.0996, 0.1), _below(0.43, 0.1), _below(0.1, 0.1)
    ('0.0996', '0.43', '0.10')
    """
    two = f"{p:.2f}"
    return two if (p < bound) == (float(two) < bound) else f"{p:.4f}".rstrip("0")


def _test_section(
    measured: dict[str, Any],
    P_raw: ProbaMatrix,
    y: EncodedLabels,
    seed: int,
    groups: IntArray | None = None,
) -> dict[str, Any]:
    ece = measured["ece"]
    decided: dict[str, Any] = measured["decided"]
    return decided | {
        "ece_raw": expected_calibration_error(y, P_raw),
        "ece_calibrated": float(ece.statistic),
        "ece_p_value": ece.p_value,
        "label_confidence_ece": float(measured["label_ece"].statistic),
        "label_confidence_ece_p_value": measured["label_ece"].p_value,
        "ece_raw_p_value": ece_consistency_test(
            P_raw.max(1), P_raw.argmax(1) == y, seed=seed, groups=groups
        ).p_value,
        "conformal": measured["conformal"],
        "ood": {k: v for k, v in measured["ood"].items() if not k.startswith("score_")},
    }


def _artifacts(
    table: pd.DataFrame, measured: dict[str, Any], P: ProbaMatrix, P_raw: ProbaMatrix, y: Any
) -> dict[str, Any]:
    ood = measured["ood"]
    artifacts = {
        "y_test": y,
        "test_proba_raw": P_raw,
        "test_proba": P,
        "test_ood_score": ood["score_in"],
        "test_sets": np.array([len(json.loads(s)) for s in table["prediction_set"]]),
        "test_accepted": measured["accepted"],
        "test_backup_proba": measured["backup"],
    }
    if measured["rule_index"] is not None:
        artifacts["test_rule_index"] = measured["rule_index"]
    if "score_out" in ood:
        artifacts["ood_examples_score"] = ood["score_out"]
    return artifacts


def _importance(
    model: GuardedModel, spec: FitSpec, X_test: pd.DataFrame, y: EncodedLabels
) -> dict[str, Any]:
    """Permutation importance of each input column for the shipped (calibrated) primary.

    Only the primary and its calibrator run on the shuffled rows (not the backup or the OOD
    detector, whose neighbour search cost more than the primary on large tables), so more
    columns are measured within the time allowed.
    """

    def primary(X: pd.DataFrame) -> ProbaMatrix:
        raw = predict_proba_aligned(model.primary, X, len(model.classes))
        cal = model.primary_calibrator
        return raw if cal is None else np.asarray(cal.predict_proba(raw), dtype=np.float64)

    return permutation_importance(
        primary,
        X_test,
        y,
        columns=list(X_test.columns),
        seed=spec.seed,
        seconds=min(30.0, 0.05 * spec.time_limit),
    )


def _test_proba(fitted: Any, model: GuardedModel, raw: RawScores, X: pd.DataFrame) -> ProbaMatrix:
    """``fitted``'s probabilities of the test rows ``X``: the primary's, already computed
    in ``raw``, when it is the primary (a model chosen alone): a second pass over long
    texts cost 1.4 s of a 60 s fit (4,000 texts of 400 words)."""
    if fitted is model.primary and raw.primary_raw is not None:
        return raw.primary_raw
    return predict_proba_aligned(fitted, X, len(model.classes))


def measure_promises(
    *,
    model: GuardedModel,
    runs: Mapping[str, CandidateRun],
    spec: FitSpec,
    X_test: pd.DataFrame,
    y_test: EncodedLabels,
    X_ood: pd.DataFrame | None,
    Z_ood: Any,
    P_ood: ProbaMatrix | None,
    sections: dict[str, Any],
    calib_holdout: tuple[ProbaMatrix, ProbaMatrix, EncodedLabels] | None,
    importance: bool = True,
    groups: IntArray | None = None,
) -> Measured:
    """Evaluate the guarded model, its parts and the baselines once on the locked test set.

    Without ``runs`` no baseline is scored, without ``calib_holdout`` no APS sets are, and
    without ``importance`` no permutation importance is measured (see
    :func:`remeasure_locked_test`). ``groups`` gives each test row's group when the fit split
    by group: each promise's 2 standard errors count the groups' worth of rows."""
    y, seed = y_test, spec.seed
    raw = model.scores(X_test)
    P = raw.primary
    P_raw = raw.primary_raw if raw.primary_raw is not None else P
    predictions = model.decide_scores(X_test, raw, rules=model.rules)
    table, decisions = predictions.to_frame(), predictions.decisions
    best = sections.get("ensemble", {}).get("best_single")
    names = {n for n, r in runs.items() if r.spec.baseline} | ({best} & set(runs))
    metrics = {n: _scores(y, _test_proba(runs[n].model, model, raw, X_test), seed) for n in names}
    metrics["final"] = shipped_scores(y, P, model.policy, seed)
    label_ok = table["prediction"].to_numpy(dtype=object) == model.classes[y].astype(object)
    rules = model.rules if model.rules is not None and len(model.rules) else None
    conformal, lac_hit = _conformal(model, spec, P, y, calib_holdout)
    measured = {
        "proba": P,
        "accepted": decision_outcome(decisions, model.classes, y)[0],
        "decided": decision_test_section(sections["thresholds"], decisions, model.classes, y, P),
        "backup": raw.backup if raw.backup is not None else np.full_like(P, np.nan),
        "rule_index": None if rules is None else rules.evaluate(X_test).index,
        "ece": ece_consistency_test(P.max(1), P.argmax(1) == y, seed=seed, groups=groups),
        "label_ece": ece_consistency_test(
            table["confidence"].to_numpy(float), label_ok, seed=seed, groups=groups
        ),
        "conformal": conformal,
        "lac_hit": lac_hit,
        "ood_flags": np.asarray(raw.ood_score) >= model.ood.threshold_
        if model.ood is not None and raw.ood_score is not None
        else np.zeros(len(y), dtype=bool),
        "ood": _ood(model, P, raw.ood_score, Z_ood, P_ood),
    }
    out_sections = {
        "promises": _promises(spec, sections, decisions, model.classes, y, measured, groups),
        "test": _test_section(measured, P_raw, y, seed, groups),
        # of the labels the bundle ships (its label rule), as the report draws it
        "risk_coverage": _curve(table["confidence"].to_numpy(float), label_ok),
    }
    if importance:
        out_sections["importance"] = _importance(model, spec, X_test, y)
    artifacts = _artifacts(table, measured, P, P_raw, y)
    return Measured(test_metrics=metrics, sections=out_sections, artifacts=artifacts)


def remeasure_locked_test(
    model: GuardedModel,
    spec: FitSpec,
    sections: dict[str, Any],
    X_test: pd.DataFrame,
    y_test: EncodedLabels,
) -> Measured:
    """The locked test measured again for a model whose calibration, conformal sets or
    thresholds changed after its fit (``prudent retrain`` recalibrating on recent labels):
    the shipped model's scores, every promise, the test section, the risk-coverage curve and
    the test arrays, on the rows given (those the bundle keeps). What the change leaves as
    it was is not measured again: the baselines, the OOD examples, APS sets and the inputs'
    importance.

    Parameters
    ----------
    model
        The guarded model as it now ships.
    spec
        Its fit's options (alpha, delta, ood_fpr, seed).
    sections
        Its trust sections, ``thresholds`` the new ones.
    X_test, y_test
        Locked-test rows, validated, and their encoded labels.
    """
    return measure_promises(
        model=model, runs={}, spec=spec, X_test=X_test, y_test=y_test, X_ood=None,
        Z_ood=None, P_ood=None, sections=sections, calib_holdout=None, importance=False,
    )  # fmt: skip
