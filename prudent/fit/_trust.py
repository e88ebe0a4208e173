"""The trust stage of a fit: ensemble → calibration → OOD → conformal → thresholds → final test.

Orchestration only; every algorithm lives in ``prudent.models`` or ``prudent.metrics``.
The training rows' out-of-fold predictions are split in two, stratified: part A fits the
calibrators and the OOD detectors, part B (never used to fit them) sets the conformal
quantiles, the OOD threshold and the accept thresholds. The locked test set is used once,
by :func:`prudent.fit._promises.measure_promises`, at the very end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from prudent._typing import EncodedLabels, IntArray, Labels, ProbaMatrix
from prudent.data import Schema, check_disjoint
from prudent.fit._engine import Budget, CandidateRun, predict_proba_aligned
from prudent.fit._promises import measure_promises
from prudent.fit._reporter import Reporter
from prudent.fit._spec import FitSpec
from prudent.metrics import (
    Comparison,
    Verdict,
    balanced_accuracy,
    compare_to_baseline,
    diversity_report,
    expected_calibration_error,
    mcnemar,
)
from prudent.models._calibration import ProbabilityCalibrator
from prudent.models._cascade import CascadePolicy
from prudent.models._conformal import ConformalClassifier
from prudent.models._ensembles import choose_ensemble, ensemble_from_choice
from prudent.models._features import CappedSVD
from prudent.models._guarded import GuardedModel
from prudent.models._ood import OODDetector
from prudent.models._rules import RuleSet
from prudent.models._thresholds import CostPolicy, select_threshold

__all__ = ["TrustResult", "build_trust"]


@dataclass
class TrustResult:
    """The guarded model and everything measured about it."""

    model: GuardedModel
    chosen: dict[str, Any]
    test_metrics: dict[str, dict[str, dict[str, float]]]
    artifacts: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)


OOD_ROWS = 10_000
"""The most rows the OOD detector is fitted on, and the most its threshold is set on."""


def _cap(rows: IntArray, n: int, seed: int) -> IntArray:
    """At most ``n`` of ``rows``, drawn at random, in order."""
    if len(rows) <= n:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, size=n, replace=False))


def _halves(y: EncodedLabels, seed: int) -> tuple[IntArray, IntArray]:
    rows = np.arange(len(y))
    a, b = train_test_split(rows, test_size=0.5, stratify=y, random_state=seed + 17)
    check_disjoint(calibration_fit=a, threshold_holdout=b)
    return np.sort(a), np.sort(b)


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


def _primary(
    runs: Mapping[str, CandidateRun],
    comparisons: Mapping[str, Comparison],
    base: str,
    y: EncodedLabels,
    spec: FitSpec,
) -> tuple[Any, ProbaMatrix, dict[str, Any]]:
    pool = [n for n, r in runs.items() if n != "majority"]
    choice = choose_ensemble(pool, [runs[n].oof_proba for n in pool], y, random_state=spec.seed)
    best = choice.best_single
    vs_single = mcnemar(runs[best].oof_proba.argmax(1) == y, choice.oof_proba.argmax(1) == y)
    vs_base = compare_to_baseline(y, runs[base].oof_proba, {"primary": choice.oof_proba})
    verdict = vs_base["primary"].verdict
    info: dict[str, Any] = {
        "kind": choice.kind,
        "members": choice.weights,
        "best_single": best,
        "options_log_loss": choice.log_loss,
        "gain_log_loss": choice.gain,
        "vs_best_single": {
            "test": vs_single.name,
            "p_value": vs_single.p_value,
            "n01": vs_single.n01,
            "n10": vs_single.n10,
        },
        "vs_baseline": {
            "baseline": base,
            "test": vs_base["primary"].test.name,
            "p_value": vs_base["primary"].p_value,
            "verdict": str(verdict),
        },
    }
    if choice.kind == "single":
        info["reason"] = (
            f"no ensemble beat the best single model ({best}) on validation log "
            "loss, so it is used alone"
        )
    else:
        info["reason"] = (
            f"{choice.kind} ensemble lowers validation log loss by {choice.gain:.4f} over {best}"
        )
    fitted = {n: runs[n].model for n in pool}
    model, oof = ensemble_from_choice(choice, fitted), choice.oof_proba
    info["considered"] = choice.kind
    info["primary"] = best if choice.kind == "single" else f"{choice.kind} ensemble"
    if best == "logistic" and choice.kind == "single":
        return model, oof, info
    base_ba = balanced_accuracy(y, runs["logistic"].oof_proba)
    if verdict is Verdict.WORSE or balanced_accuracy(y, oof) < base_ba:
        why = (
            "is significantly worse than"
            if verdict is Verdict.WORSE
            else "does not beat the balanced accuracy of"
        )
        info |= {
            "kind": "single",
            "members": {"logistic": 1.0},
            "primary": "logistic",
            "reason": f"the best model ({info['primary']}) {why} the logistic baseline "
            f"({base_ba:.3f}), so the logistic baseline is kept",
        }
        return runs["logistic"].model, runs["logistic"].oof_proba, info
    if verdict is not Verdict.BETTER:
        info["flag"] = (
            f"FLAG: {info['primary']} is not significantly better than the baseline "
            f"{base} (McNemar, p={vs_base['primary'].p_value:.3g}); shipped because "
            "its validation log loss and balanced accuracy are better"
        )
        info["reason"] += "; " + info["flag"]
    return model, oof, info


def _ood_features(
    runs: Mapping[str, CandidateRun], X: pd.DataFrame, schema: Schema, seed: int
) -> tuple[Any, tuple[str, ...]]:
    """The OOD detector's feature space, fitted on ``X`` (part A only), and its detectors.

    Sentence embeddings when that candidate ran; for other text, the logistic baseline's
    sparse TF-IDF rows with nearest-neighbour distance (cosine-like, as rows are unit
    length: an SVD of them loses what makes a text unusual); for tables, the baseline's
    scaled features, reduced by truncated SVD when wide. Fitting the map on part A only
    keeps part B, where the threshold is set, as fresh as future inputs (a vocabulary
    learnt on B would make B look unlike new text).
    """
    # isolation forest is left out: rarely the best here, and costly per request
    all_detectors = ("knn", "mahalanobis", "max_prob", "energy")
    if "embeddings_logistic" in runs:
        pre = runs["embeddings_logistic"].model.named_steps["preprocess"]
        return Pipeline([("preprocess", pre)]), all_detectors
    pre = clone(runs["logistic"].model.named_steps["preprocess"]).fit(X)
    if schema.has_text:
        return Pipeline([("preprocess", pre)]), ("knn", "max_prob", "energy")
    Z = pre.transform(X)
    if Z.shape[1] <= 64:
        return Pipeline([("preprocess", pre)]), all_detectors
    svd = CappedSVD(n_components=min(64, max(2, len(X) // 4)), random_state=seed)
    return Pipeline([("preprocess", pre), ("svd", svd.fit(Z))]), all_detectors


def _calibrate(
    P: ProbaMatrix, y: EncodedLabels, a: IntArray, b: IntArray, seed: int
) -> tuple[ProbabilityCalibrator, ProbaMatrix, dict[str, Any]]:
    cal = ProbabilityCalibrator(method="auto", cv=5, random_state=seed).fit(P[a], y[a])
    Pb = cal.predict_proba(P[b])
    info = {
        "method": cal.method_,
        "cv_log_loss": dict(cal.cv_log_loss_),
        "ece_before_holdout": expected_calibration_error(y[b], P[b]),
        "ece_after_holdout": expected_calibration_error(y[b], Pb),
    }
    return cal, cal.predict_proba(P), info


def _policy(
    spec: FitSpec,
    Pc: ProbaMatrix,
    Bc: ProbaMatrix,
    y: EncodedLabels,
    b: IntArray,
    in_dist: np.ndarray,
    ood_threshold: float,
) -> tuple[CascadePolicy, dict[str, Any]]:
    rows = b[in_dist]
    conf, ok = Pc[rows].max(1), Pc[rows].argmax(1) == y[rows]
    accept = select_threshold(conf, ok, target_accuracy=spec.target_accuracy, delta=spec.delta)
    left = rows[conf < accept.threshold]
    bconf, bok = Bc[left].max(1), Bc[left].argmax(1) == y[left]
    backup = (
        select_threshold(bconf, bok, target_accuracy=spec.target_accuracy, delta=spec.delta)
        if len(left)
        else None
    )
    cost = None
    if spec.costs is not None:
        cost = CostPolicy(
            np.asarray(spec.costs, dtype=float),
            review_cost=float(
                spec.review_cost if spec.review_cost is not None else np.max(spec.costs) / 2
            ),
        )
    policy = CascadePolicy(
        accept.threshold,
        backup_threshold=backup.threshold if backup else np.inf,
        ood_threshold=ood_threshold,
        cost_policy=cost,
    )
    info = {
        "accept": accept.to_dict(),
        "backup": backup.to_dict() if backup else None,
        "policy": policy.to_dict(),
    }
    return policy, info


def build_trust(
    *,
    runs: Mapping[str, CandidateRun],
    comparisons: Mapping[str, Comparison],
    best_baseline: str,
    spec: FitSpec,
    classes: Labels,
    X_train: pd.DataFrame,
    y_train: EncodedLabels,
    X_test: pd.DataFrame,
    y_test: EncodedLabels,
    X_ood: pd.DataFrame | None,
    schema: Schema,
    budget: Budget,
    reporter: Reporter,
) -> TrustResult:
    """Build the guarded model from the cross-validated runs, then measure its promises."""
    y, k = y_train, len(classes)
    a, b = _halves(y, spec.seed)
    with reporter.progress("Building trust", total=6) as advance:
        diversity = _diversity(runs, y)
        primary, oof, chosen = _primary(runs, comparisons, best_baseline, y, spec)
        reporter.notice(f"Chosen model: {chosen['primary']} — {chosen['reason']}.")
        advance()
        cal, Pc, calib = _calibrate(oof, y, a, b, spec.seed)
        bcal, Bc, _ = _calibrate(runs["logistic"].oof_proba, y, a, b, spec.seed)
        advance()
        # the OOD reference and its threshold rows are capped: neighbour queries on every
        # training row would cost more than the rest of the fit on large tables
        a_ood, b_ood = _cap(a, OOD_ROWS, spec.seed), _cap(b, OOD_ROWS, spec.seed)
        features, detectors = _ood_features(runs, X_train.iloc[a_ood], schema, spec.seed)
        Za, Zb = features.transform(X_train.iloc[a_ood]), features.transform(X_train.iloc[b_ood])
        Z_ood = P_ood = None
        if X_ood is not None and len(X_ood) >= 2:
            Z_ood = features.transform(X_ood)
            P_ood = cal.predict_proba(predict_proba_aligned(primary, X_ood, k))
        choose = slice(0, None, 2)  # even rows choose the detector, odd rows measure it
        ood = OODDetector(detectors=detectors, fpr=spec.ood_fpr, random_state=spec.seed).fit(
            Za,
            Pc[a_ood],
            y[a_ood],
            Z_val=Zb,
            P_val=Pc[b_ood],
            Z_ood=None if Z_ood is None else Z_ood[choose],
            P_ood=None if P_ood is None else P_ood[choose],
        )
        advance()
        conformal = ConformalClassifier(
            method="lac", alpha=spec.alpha, mondrian=spec.mondrian, allow_empty=False
        ).fit(Pc[b], y[b])
        advance()
        in_dist = ~np.asarray(ood.is_ood(Zb, Pc[b_ood]), dtype=bool)
        policy, thresholds = _policy(spec, Pc, Bc, y, b_ood, in_dist, float(ood.threshold_))
        advance()
        rules = None
        if spec.rules:
            rules = RuleSet.from_yaml(
                spec.rules, columns=schema.feature_names, classes=[str(c) for c in classes]
            )
        model = GuardedModel(
            classes=classes,
            primary=primary,
            primary_calibrator=cal,
            backup=runs["logistic"].model,
            backup_calibrator=bcal,
            ood_features=features,
            ood=ood,
            conformal=conformal,
            policy=policy,
            rules=rules,
        )
        sections = {
            "diversity": diversity,
            "ensemble": chosen,
            "calibration": calib,
            "thresholds": thresholds,
            "ood": {
                "chosen": ood.chosen_,
                "validation_auroc": dict(ood.auroc_),
                "threshold": float(ood.threshold_),
                "fpr_target": spec.ood_fpr,
            },
            "conformal": {"method": "lac", "alpha": spec.alpha, "mondrian": spec.mondrian},
        }
        measured = measure_promises(
            model=model,
            runs=runs,
            spec=spec,
            X_test=X_test,
            y_test=y_test,
            X_ood=X_ood,
            Z_ood=None if Z_ood is None else Z_ood[1::2],
            P_ood=None if P_ood is None else P_ood[1::2],
            sections=sections,
            calib_holdout=(Pc[b], oof[b], y[b]),
        )
        advance()
    artifacts = {
        "y_train": y,
        "holdout_rows": b,
        "oof_primary_raw": oof,
        "oof_primary_calibrated": Pc,
    } | measured.artifacts
    artifacts |= {f"oof_{n}": r.oof_proba for n, r in runs.items()}
    return TrustResult(
        model=model,
        chosen=chosen,
        test_metrics=measured.test_metrics,
        artifacts=artifacts,
        sections=sections | measured.sections,
    )
