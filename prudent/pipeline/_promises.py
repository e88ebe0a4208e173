"""The final, single look at the locked test set: metrics and the promises, measured."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from prudent._typing import EncodedLabels, FloatArray, ProbaMatrix
from prudent.metrics import (
    bootstrap_scores,
    ece_consistency_test,
    expected_calibration_error,
    risk_coverage_curve,
)
from prudent.models._conformal import ConformalClassifier
from prudent.models._guarded import GuardedModel
from prudent.pipeline._engine import CandidateRun, predict_proba_aligned
from prudent.pipeline._spec import FitSpec

__all__ = ["Measured", "measure_promises"]


@dataclass
class Measured:
    """What the locked test set showed."""

    test_metrics: dict[str, dict[str, dict[str, float]]]
    sections: dict[str, Any]
    artifacts: dict[str, Any]


def _scores(y: EncodedLabels, proba: ProbaMatrix, seed: int) -> dict[str, dict[str, float]]:
    return {
        k: {"point": v.point, "low": v.low, "high": v.high}
        for k, v in bootstrap_scores(y, proba, seed=seed).items()
    }


def _tolerance(p: float, n: int) -> float:
    return 2.0 * float(np.sqrt(p * (1 - p) / max(n, 1)))


def _promise(name: str, promised: str, measured: str, kept: bool | None) -> dict[str, Any]:
    return {"name": name, "promised": promised, "measured": measured, "kept": kept}


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
    holdout: tuple[ProbaMatrix, ProbaMatrix, EncodedLabels],
) -> dict[str, Any]:
    out = {}
    for method in ("lac", "aps"):
        cp = (
            model.conformal
            if method == "lac"
            else ConformalClassifier(
                method="aps", alpha=spec.alpha, mondrian=spec.mondrian, allow_empty=False
            ).fit(holdout[0], holdout[2])
        )
        sets = cp.predict_set(P)
        out[method] = {
            "coverage": float(sets[np.arange(len(y)), y].mean()),
            "mean_size": float(sets.sum(1).mean()),
            "empty_share": float((sets.sum(1) == 0).mean()),
        }
    return out


def _ood(
    model: GuardedModel, P: ProbaMatrix, X_test: pd.DataFrame, Z_ood: Any, P_ood: ProbaMatrix | None
) -> dict[str, Any]:
    assert model.ood is not None and model.ood_features is not None
    score_in = np.asarray(model.ood.score(model.ood_features.transform(X_test), P))
    out: dict[str, Any] = {
        "test_fpr": float((score_in >= model.ood.threshold_).mean()),
        "score_in": score_in,
    }
    if Z_ood is not None and P_ood is not None:
        score_out = np.asarray(model.ood.score(Z_ood, P_ood))
        labels = np.r_[np.zeros(len(score_in)), np.ones(len(score_out))]
        out["test_auroc"] = float(roc_auc_score(labels, np.r_[score_in, score_out]))
        out["test_auroc_max_prob"] = float(
            roc_auc_score(labels, np.r_[1 - P.max(1), 1 - P_ood.max(1)])
        )
        out["test_tpr"] = float((score_out >= model.ood.threshold_).mean())
        out["score_out"] = score_out
    return out


def _accepted(model: GuardedModel, table: pd.DataFrame, y: EncodedLabels) -> tuple[Any, float]:
    accepted = (table["decision"] == "accept").to_numpy()
    given = table["prediction"].to_numpy(dtype=object)[accepted]
    right = given == model.classes[y[accepted]].astype(object)
    return accepted, float(right.mean()) if accepted.any() else float("nan")


def _accuracy_promise(
    accept: dict[str, Any], spec: FitSpec, accepted: Any, acc: float
) -> dict[str, Any]:
    """Accuracy of accepted rows ≥ the promised bound, kept within 2 standard errors."""
    target = accept.get("target_accuracy")
    n = int(accepted.sum())
    if not accept.get("feasible") or target is None:
        return _promise(
            "accuracy of accepted predictions",
            "no accept threshold: the model never auto-accepts",
            f"{int(accepted.sum())} accepted",
            n == 0,
        )
    kept = bool(n == 0 or acc >= target - _tolerance(target, n))
    return _promise(
        "accuracy of accepted predictions",
        f"≥ {target:.3f} (with prob. ≥ {1 - spec.delta:.2f}; kept within 2 standard errors)",
        f"{acc:.3f} on {n} accepted" if n else "nothing accepted",
        kept,
    )


def _review_promise(budget: float | None, table: pd.DataFrame) -> dict[str, Any] | None:
    """The share of (in-distribution) test rows sent to review, against the review budget."""
    if budget is None:
        return None
    share = float((table["decision"] == "review").mean())
    n = len(table)
    return _promise(
        "share of in-distribution rows sent to review",
        f"≤ {budget:.3f} (the review budget; kept within 2 standard errors)",
        f"{share:.3f}",
        share <= budget + _tolerance(budget, n),
    )


def _promises(
    spec: FitSpec,
    sections: dict[str, Any],
    table: pd.DataFrame,
    measured: dict[str, Any],
) -> list[dict[str, Any]]:
    n, th = len(table), sections["thresholds"]
    accepted, acc = measured["accepted"], measured["accepted_accuracy"]
    conformal, ood, ece = measured["conformal"], measured["ood"], measured["ece"]
    promises = [
        _accuracy_promise(th["accept"], spec, accepted, acc),
        _review_promise(th.get("review_budget"), table),
        _promise(
            "coverage (share accepted)",
            f"{th['accept']['coverage']:.3f} on validation",
            f"{accepted.mean():.3f}",
            None,
        ),
        _promise(
            f"conformal coverage (LAC, alpha={spec.alpha})",
            f"≥ {1 - spec.alpha:.3f} (kept within 2 standard errors)",
            f"{conformal['lac']['coverage']:.3f} (mean set size "
            f"{conformal['lac']['mean_size']:.2f})",
            conformal["lac"]["coverage"] >= 1 - spec.alpha - _tolerance(spec.alpha, n),
        ),
        _promise(
            "OOD false-positive rate",
            f"≤ {spec.ood_fpr:.3f} (kept within 2 standard errors)",
            f"{ood['test_fpr']:.3f}",
            ood["test_fpr"] <= spec.ood_fpr + _tolerance(spec.ood_fpr, n),
        ),
        _promise(
            "calibration (top-label ECE)",
            "consistent with perfect (p ≥ 0.1)",
            f"ECE {ece.statistic:.3f}, p={ece.p_value:.2f}",
            ece.p_value >= 0.1,
        ),
    ]
    return [p for p in promises if p is not None]


def _test_section(
    table: pd.DataFrame, measured: dict[str, Any], P_raw: ProbaMatrix, y: EncodedLabels, seed: int
) -> dict[str, Any]:
    decisions = table["decision"].value_counts().to_dict()
    ece = measured["ece"]
    return {
        "decisions": {str(key): int(v) for key, v in decisions.items()},
        "accepted_accuracy": measured["accepted_accuracy"],
        "coverage": float(measured["accepted"].mean()),
        "ece_raw": expected_calibration_error(y, P_raw),
        "ece_calibrated": float(ece.statistic),
        "ece_p_value": ece.p_value,
        "label_confidence_ece": float(measured["label_ece"].statistic),
        "label_confidence_ece_p_value": measured["label_ece"].p_value,
        "ece_raw_p_value": ece_consistency_test(
            P_raw.max(1), P_raw.argmax(1) == y, seed=seed
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
    }
    if "score_out" in ood:
        artifacts["ood_examples_score"] = ood["score_out"]
    return artifacts


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
    calib_holdout: tuple[ProbaMatrix, ProbaMatrix, EncodedLabels],
) -> Measured:
    """Evaluate the guarded model, its parts and the baselines once on the locked test set."""
    k, y, seed = len(model.classes), y_test, spec.seed
    raw = model.scores(X_test)
    P = raw.primary
    P_raw = raw.primary_raw if raw.primary_raw is not None else P
    table = model.decide_frame(X_test, raw, rules=model.rules)
    names = {n for n, r in runs.items() if r.spec.baseline} | {sections["ensemble"]["best_single"]}
    metrics = {n: _scores(y, predict_proba_aligned(runs[n].model, X_test, k), seed) for n in names}
    metrics["final"] = _scores(y, P, seed)
    accepted, acc = _accepted(model, table, y)
    label_ok = table["prediction"].to_numpy(dtype=object) == model.classes[y].astype(object)
    measured = {
        "accepted": accepted,
        "accepted_accuracy": acc,
        "ece": ece_consistency_test(P.max(1), P.argmax(1) == y, seed=seed),
        "label_ece": ece_consistency_test(table["confidence"].to_numpy(float), label_ok, seed=seed),
        "conformal": _conformal(model, spec, P, y, calib_holdout),
        "ood": _ood(model, P, X_test, Z_ood, P_ood),
    }
    out_sections = {
        "promises": _promises(spec, sections, table, measured),
        "test": _test_section(table, measured, P_raw, y, seed),
        "risk_coverage": _curve(P.max(1), P.argmax(1) == y),
    }
    artifacts = _artifacts(table, measured, P, P_raw, y)
    return Measured(test_metrics=metrics, sections=out_sections, artifacts=artifacts)
