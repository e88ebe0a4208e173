"""The trust stage of a fit: ensemble → calibration → OOD → conformal → thresholds → final test.

Orchestration only; every algorithm and every choice lives in ``prudent.models`` or
``prudent.metrics``. The training rows' out-of-fold predictions are calibrated by
cross-fitting (each row by a map fitted without it) and split in two, stratified: part A
fits the OOD detector, part B (never used to fit it) sets the conformal quantiles, the OOD
threshold and the accept thresholds. The locked test set is used once, by
:func:`prudent.pipeline._promises.measure_promises`, at the very end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import issparse
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from prudent._typing import EncodedLabels, FloatArray, IntArray, Labels, ProbaMatrix
from prudent.data import Role, Schema, check_disjoint
from prudent.metrics import (
    Comparison,
    diversity_report,
    expected_calibration_error,
    log_loss,
)
from prudent.models._calibration import ProbabilityCalibrator, calibrate_cross_fitted
from prudent.models._conformal import ConformalClassifier
from prudent.models._guarded import GuardedModel
from prudent.models._ood import OODDetector
from prudent.models._ood_space import (
    TEXT_CHARS,
    affordable_reference,
    ood_detectors,
    ood_feature_map,
    text_volume_rows,
)
from prudent.models._rules import RuleSet
from prudent.models._rules_expr import DTYPE_KINDS
from prudent.models._selection import FALLBACK, choose_primary
from prudent.models._training_values import TrainingValues
from prudent.pipeline._budget import Budget, pickled_bytes
from prudent.pipeline._engine import CandidateRun, predict_proba_aligned
from prudent.pipeline._evidence import TRAIN_ARRAYS, bounded_evidence
from prudent.pipeline._promises import measure_promises
from prudent.pipeline._reporter import Reporter
from prudent.pipeline._spec import FitSpec
from prudent.pipeline._thresholds import tune_policy

__all__ = ["TrustResult", "build_trust", "ood_seconds", "rules_for"]


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


def ood_seconds(run: CandidateRun, train_rows: int, test_rows: int) -> float:
    """Seconds the trust stage will spend passing rows through the OOD feature map, when
    ``run`` is the backup (the logistic baseline, whose preprocessing the map clones).

    Whatever model is chosen, the map transforms the threshold rows (half the training
    rows, at most :data:`OOD_ROWS`) and the locked test rows, each about as costly as the
    backup's prediction (about 0.35 ms a text of 400 words): its measured time per row
    times those rows. On long texts they are most of the trust stage, so the budget keeps
    them from the candidates (:meth:`~prudent.pipeline._budget.Budget.charge`), as it does
    the chosen model's predictions (:func:`~prudent.pipeline._engine.trust_seconds`). The
    rows the map is fitted on hold at most :data:`TEXT_CHARS` of text and fit the stage's
    share.

    Examples
    --------
    >>> from prudent.models import CandidateSpec
    >>> spec = CandidateSpec(FALLBACK, "logistic regression", lambda ctx: None)
    >>> run = CandidateRun(spec, np.zeros((1, 2)), None, 1.0, predict_seconds_per_1k=0.5)
    >>> ood_seconds(run, train_rows=16000, test_rows=4000)
    6.0
    """
    if run.spec.name != FALLBACK:
        return 0.0
    rows = min((train_rows + 1) // 2, OOD_ROWS) + test_rows
    return run.predict_seconds_per_1k * rows / 1000


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


@dataclass
class _Data:
    """The rows the trust stage reads."""

    schema: Schema
    classes: Labels
    X_train: pd.DataFrame
    y_train: EncodedLabels
    X_test: pd.DataFrame
    y_test: EncodedLabels
    X_ood: pd.DataFrame | None
    folds: IntArray | None = None
    """Per training row, the cross-validation fold whose model scored it out of fold."""


STACKING_SHARE = 0.5
"""Share of the trust stage's time (what is left before the save's) stacking may take: the
calibration, the OOD detector and the locked test keep the rest."""
OOD_SHARE = 0.5
"""Share of the trust stage's time left after the ensemble that the OOD detector's
neighbour searches may take (its threshold rows and the locked test rows)."""


PRIMARY_BYTES = 28_000_000
"""The most pickled bytes the ensemble's members may hold together. Each family is bounded
(a forest by its leaves, k-NN by its reference rows), but a forest and k-NN together pickled to
31 MB and saved a 48 MB bundle. What comes on top, measured on bird_strike_phase (13k rows)
with a pool of 33.5 MB under the earlier cap of 34 MB: skops writes 1.15 times the pickled
bytes (38.5 MB), the OOD detector 4.3 MB, the backup 0.9 MB, the evidence, report and label
issues 5.0 MB, 48.2 MB in all. At 28 MB the same parts come to about 42 MB, which leaves room
for a larger OOD reference set or evidence: the bundle stays under 50 MB."""


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
    runs: Mapping[str, CandidateRun], base: str, y: EncodedLabels, seed: int, budget: Budget
) -> tuple[Any, ProbaMatrix, dict[str, Any]]:
    fitted, notes = _pool(runs, y)
    oof = {n: r.oof_proba for n, r in runs.items()}
    seconds = STACKING_SHARE * budget.for_trust()
    model, proba, info = choose_primary(fitted, oof, y, base=base, seed=seed, seconds=seconds)
    if notes:
        info["notes"] = [*notes, *info.get("notes", [])]
    return model, proba, info


def _calibrate(
    P: ProbaMatrix, y: EncodedLabels, seed: int
) -> tuple[ProbabilityCalibrator, ProbaMatrix, dict[str, Any]]:
    cal, Q, info = calibrate_cross_fitted(P, y, cv=5, random_state=seed)
    info |= {
        # the identity map's: the model's probabilities as served uncalibrated (clipped, as
        # every output is, so that a clipped zero does not count as a change)
        "ece_before_holdout": info["cv_ece"]["identity"],
        "ece_after_holdout": expected_calibration_error(y, Q),
    }
    return cal, Q, info


@dataclass
class _OOD:
    """The fitted feature map and detector, and the known OOD rows in its space."""

    features: Pipeline
    detector: OODDetector
    b_score: FloatArray
    """The OOD score (higher = more unusual) of the rows that set the threshold."""
    Z_ood: Any = None
    P_ood: ProbaMatrix | None = None
    notes: list[str] = field(default_factory=list)
    """Why the map and detector are fitted on fewer rows, or the neighbour search keeps
    fewer reference rows, when they do."""


def _fit_rows(data: _Data, a: IntArray, seed: int) -> tuple[IntArray, list[str]]:
    """The rows of part A the OOD feature map and the detector are both fitted on, and a
    note when they are fewer: at most :data:`TEXT_CHARS` of text, as fitting a vocabulary
    and transforming rows cost their words, not their number (on 8,000 texts of 300-500
    words, 30 s of a 60 s fit, profiled)."""
    kept = text_volume_rows(data.X_train.iloc[a], data.schema.names(Role.text), seed=seed)
    if len(kept) == len(a):
        return a, []
    note = (
        f"OOD: the feature map and the detector are fitted on {len(kept)} of {len(a)} rows "
        f"(at most {TEXT_CHARS:,} characters of text)"
    )
    return a[kept], [note]


def _ood(
    runs: Mapping[str, CandidateRun],
    data: _Data,
    Pc: ProbaMatrix,
    parts: tuple[IntArray, IntArray],
    ood_known: tuple[Any, ProbaMatrix | None],
    spec: FitSpec,
    budget: Budget,
) -> _OOD:
    a, notes = _fit_rows(data, parts[0], spec.seed)
    b = parts[1]
    embeddings = runs.get("embeddings_logistic")
    features = ood_feature_map(
        data.schema,
        data.X_train.iloc[a],
        text_preprocess=runs[FALLBACK].model.named_steps["preprocess"],
        embeddings_preprocess=None
        if embeddings is None
        else embeddings.model.named_steps["preprocess"],
        seed=spec.seed,
    )
    Za, Zb = features.transform(data.X_train.iloc[a]), features.transform(data.X_train.iloc[b])
    Z_ood, P_ood = ood_known
    Z_ood = None if Z_ood is None else features.transform(Z_ood)
    queries = len(b) + len(data.X_test) + (0 if Z_ood is None else Z_ood.shape[0])
    # the k-NN reference pools the fit and threshold rows (OODDetector.knn_pools_validation),
    # at most OOD_ROWS; its cost per reference row is measured on Za and scaled to the pool
    pool = min(len(a) + len(b), OOD_ROWS)
    seconds = OOD_SHARE * budget.for_trust()
    keep = min(pool, affordable_reference(Za, queries, seconds, reference=pool, seed=spec.seed))
    if keep < pool:
        notes.append(
            f"OOD: the neighbour search keeps {keep} of {pool} reference rows, to score "
            f"{queries} rows in the time left"
        )
    choose = slice(0, None, 2)  # even rows choose the detector, odd rows measure it
    detector = OODDetector(
        detectors=ood_detectors(known_ood=Z_ood is not None, sparse=issparse(Za)),
        fpr=spec.ood_fpr,
        delta=spec.delta,
        random_state=spec.seed,
        knn_rows=keep,  # the neighbours searched within the time, at most OOD_ROWS
    )
    b_score = -detector.fit_score_samples(
        Za,
        Pc[a],
        data.y_train[a],
        Z_val=Zb,
        P_val=Pc[b],
        Z_ood=None if Z_ood is None else Z_ood[choose],
        P_ood=None if P_ood is None else P_ood[choose],
    )
    b_score = np.asarray(b_score, dtype=np.float64)
    return _OOD(features, detector, b_score, Z_ood, P_ood, notes)


def _policy(
    spec: FitSpec,
    P: ProbaMatrix,
    B: ProbaMatrix,
    y: EncodedLabels,
    ood: _OOD,
    label_rows: tuple[ProbaMatrix, EncodedLabels],
    groups: IntArray | None,
) -> tuple[Any, dict[str, Any], FloatArray]:
    score = ood.b_score
    threshold = float(ood.detector.threshold_)
    policy, info = tune_policy(
        spec, P, B, y, in_distribution=score < threshold, ood_threshold=threshold,
        label_rows=label_rows, groups=groups,
    )  # fmt: skip
    return policy, info, score


def _target_notice(spec: FitSpec, thresholds: dict[str, Any]) -> str | None:
    """One line when a requested accuracy target leaves no meaningful coverage."""
    if spec.target_accuracy is None or thresholds["meaningful"]:
        return None
    best = ", ".join(
        f"{r['accuracy']:.3f} at {r['coverage']:.0%}" for r in thresholds["reachable"][1:]
    )
    return (
        f"Accuracy {spec.target_accuracy:.3f} cannot be promised with meaningful coverage "
        f"(validation coverage {thresholds['accept']['coverage'] or 0:.1%}); reachable: {best}."
    )


def rules_for(spec: FitSpec, schema: Schema, classes: Labels) -> RuleSet | None:
    """The fit's rules file parsed against the table: its columns, classes and each input's
    kind, so that a rule comparing a column with a value of another kind is refused (``age
    contains "4"``, ``joined > 5``) instead of never matching. The fit calls it once the
    table is read, so a bad rule stops it before the models are trained."""
    if not spec.rules:
        return None
    inputs = set(schema.feature_names)
    kinds = {c.name: c.role.value for c in schema.columns if c.name in inputs}
    return RuleSet.from_yaml(
        spec.rules,
        columns=schema.feature_names,
        classes=[str(c) for c in classes],
        dtypes={name: kind for name, kind in kinds.items() if kind in DTYPE_KINDS},
    )


def _sections(
    diversity: dict[str, Any],
    chosen: dict[str, Any],
    calib: dict[str, Any],
    thresholds: dict[str, Any],
    ood: OODDetector,
    spec: FitSpec,
) -> dict[str, Any]:
    return {
        "diversity": diversity,
        "ensemble": chosen,
        "calibration": calib,
        "thresholds": thresholds,
        "ood": {
            "chosen": ood.chosen_,
            "detectors": list(ood.detectors_),
            "validation_auroc": dict(ood.auroc_),
            "threshold": float(ood.threshold_),
            "fpr_target": spec.ood_fpr,
        },
        "conformal": {"method": "lac", "alpha": spec.alpha, "mondrian": spec.mondrian},
    }


def _known_ood(data: _Data, primary: Any, cal: ProbabilityCalibrator) -> tuple[Any, Any]:
    """The known OOD rows and the primary's calibrated probabilities on them, if given."""
    if data.X_ood is None or len(data.X_ood) < 2:
        return None, None
    raw = predict_proba_aligned(primary, data.X_ood, len(data.classes))
    return data.X_ood, cal.predict_proba(raw)


def _guard(
    runs: Mapping[str, CandidateRun],
    base: str,
    data: _Data,
    spec: FitSpec,
    budget: Budget,
    reporter: Reporter,
) -> tuple[GuardedModel, dict[str, Any], dict[str, Any]]:
    """Fit every part of the guarded model; return it, its sections and evidence."""
    y = data.y_train
    a, b = _halves(y, spec.seed)
    with reporter.progress("Building trust", total=4) as advance:
        primary, oof, chosen = _primary(runs, base, y, spec.seed, budget)
        for note in chosen.get("notes", []):
            reporter.notice(f"Ensemble: {note}.")
        reporter.notice(f"Chosen model: {chosen['primary']} — {chosen['reason']}.")
        cal, Pc, calib = _calibrate(oof, y, spec.seed)
        bcal, _, _ = _calibrate(runs[FALLBACK].oof_proba, y, spec.seed)
        advance()
        known = _known_ood(data, primary, cal)
        # the OOD reference and its threshold rows are capped: neighbour queries on every
        # training row would cost more than the rest of the fit on large tables
        b_ood = _cap(b, OOD_ROWS, spec.seed)
        ood = _ood(runs, data, Pc, (_cap(a, OOD_ROWS, spec.seed), b_ood), known, spec, budget)
        for note in ood.notes:
            reporter.notice(note + ".")
        advance()
        conformal = ConformalClassifier(
            method="lac", alpha=spec.alpha, mondrian=spec.mondrian, allow_empty=False
        ).fit(Pc[b], y[b])
        # the thresholds are set on what the shipped model will say: the shipped calibrators
        # on the held-out raw probabilities (a cross-fitted isotonic map has other steps than
        # the one that ships, and a threshold on a step moved the review share on new rows)
        P_pol = cal.predict_proba(oof[b_ood])
        B_pol = bcal.predict_proba(runs[FALLBACK].oof_proba[b_ood])
        # the label rule on every out-of-fold row (cross-fitted calibration), not half; the
        # folds that scored the rows, for the budget's allowance for another training
        fold = None if data.folds is None else data.folds[b_ood]
        policy, thresholds, b_score = _policy(spec, P_pol, B_pol, y[b_ood], ood, (Pc, y), fold)
        notice = _target_notice(spec, thresholds)
        if notice:
            reporter.notice(notice)
        advance()
        model = GuardedModel(
            classes=data.classes,
            primary=primary,
            primary_calibrator=cal,
            backup=runs[FALLBACK].model,
            backup_calibrator=bcal,
            ood_features=ood.features,
            ood=ood.detector,
            conformal=conformal,
            policy=policy,
            rules=rules_for(spec, data.schema, data.classes),
            training_values=TrainingValues.fit(data.X_train, data.schema, seed=spec.seed),
        )
        advance()
    sections = _sections(_diversity(runs, y), chosen, calib, thresholds, ood.detector, spec)
    evidence = {"oof": oof, "Pc": Pc, "b": b, "ood": ood}
    # what `Bundle.retune` needs to set the thresholds again: the rows they were set on
    policy_rows = {
        "policy_primary_calibrated": P_pol,
        "policy_backup_calibrated": B_pol,
        "policy_ood_score": b_score,
        "policy_y": y[b_ood],
    }
    if fold is not None:
        policy_rows["policy_fold"] = fold
    evidence["policy"] = policy_rows
    return model, sections, evidence


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
    folds: IntArray | None = None,
) -> TrustResult:
    """Build the guarded model from the cross-validated runs, then measure its promises.

    ``folds`` gives, per training row, the cross-validation fold whose model scored it (the
    review budget allows for the share moving between trainings); ``None`` when unknown.
    """
    data = _Data(schema, classes, X_train, y_train, X_test, y_test, X_ood, folds)
    model, sections, ev = _guard(runs, best_baseline, data, spec, budget, reporter)
    ood, b, y = ev["ood"], ev["b"], y_train
    measured = measure_promises(
        model=model,
        runs=runs,
        spec=spec,
        X_test=X_test,
        y_test=y_test,
        X_ood=X_ood,
        Z_ood=None if ood.Z_ood is None else ood.Z_ood[1::2],
        P_ood=None if ood.P_ood is None else ood.P_ood[1::2],
        sections=sections,
        calib_holdout=(ev["Pc"][b], ev["oof"][b], y[b]),
    )
    artifacts = (
        {
            "y_train": y,
            "holdout_rows": b,
            "oof_primary_raw": ev["oof"],
            "oof_primary_calibrated": ev["Pc"],
        }
        | ev["policy"]
        | measured.artifacts
    )
    # the backup's out-of-fold probabilities: prudent recalibrate refits its calibrator
    artifacts[f"oof_{FALLBACK}"] = runs[FALLBACK].oof_proba
    train = (*TRAIN_ARRAYS, f"oof_{FALLBACK}")
    artifacts = bounded_evidence(artifacts, train, len(classes), spec.seed)
    return TrustResult(
        model=model,
        chosen=sections["ensemble"],
        test_metrics=measured.test_metrics,
        artifacts=artifacts,
        sections=sections | measured.sections,
    )
