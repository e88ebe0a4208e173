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

from prudent._typing import EncodedLabels, IntArray, Labels, ProbaMatrix
from prudent.data import Schema
from prudent.metrics import Comparison, expected_calibration_error
from prudent.models._calibration import ProbabilityCalibrator, calibrate_cross_fitted
from prudent.models._conformal import ConformalClassifier
from prudent.models._guarded import GuardedModel
from prudent.models._ood import OODDetector
from prudent.models._rules import RuleSet
from prudent.models._rules_schema import rule_kinds
from prudent.models._selection import FALLBACK
from prudent.models._training_values import TrainingValues
from prudent.pipeline._budget import Budget, pickled_bytes
from prudent.pipeline._engine import CandidateRun
from prudent.pipeline._evidence import TRAIN_ARRAYS, bounded_evidence
from prudent.pipeline._promises import measure_promises
from prudent.pipeline._reporter import Reporter
from prudent.pipeline._spec import FitSpec
from prudent.pipeline._thresholds import cost_notice, tune_policy
from prudent.pipeline._trust_data import _cap, _Data, _halves
from prudent.pipeline._trust_ensemble import _diversity, _primary
from prudent.pipeline._trust_ensemble import _pool as _pool  # where the tests read it
from prudent.pipeline._trust_ood import _OOD, OOD_ROWS, _known_ood, _ood, ood_seconds
from prudent.pipeline._trust_ood import _fit_rows as _fit_rows  # where the tests read it

__all__ = ["TrustResult", "build_trust", "ood_seconds", "rules_for", "trust_rows_seconds"]

CALIBRATION_SECONDS_PER_CELL = 1.2e-6
"""CPU seconds a cross-fitted calibration takes per training row and class, beyond what the
trust stage's share of the limit holds (measured: 24,000 rows of 300 classes, 9.7 s;
48,000 rows of 100 classes, 4.5 s; 48,000 rows of 2 classes, 1.8 s)."""
TRAIN_ROW_SECONDS = 10e-6
"""CPU seconds per training row of the trust stage's work on the out-of-fold predictions
besides calibration: the leaderboard and the ensemble's choice (400,000 rows, 3.5 s)."""
TEST_ROW_SECONDS = 40e-6
"""CPU seconds per locked test row of the final test besides the members' predictions (which
:func:`~prudent.pipeline._engine.trust_seconds` charges) and the OOD neighbour search (sized
to the time left): the guarded model's other scores, the metrics and their intervals
(100,000 rows, 4.5 s)."""


@dataclass
class TrustResult:
    """The guarded model and everything measured about it."""

    model: GuardedModel
    chosen: dict[str, Any]
    test_metrics: dict[str, dict[str, dict[str, float]]]
    artifacts: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)
    model_bytes: int = 0
    """The size of the model's pickle: the room the bundle's other files are bounded by."""


def trust_rows_seconds(train_rows: int, test_rows: int, classes: int) -> float:
    """CPU seconds the trust stage will spend, beyond its share of the limit, on work that
    grows with the rows: the primary's and the backup's cross-fitted calibrations (rows ×
    classes), the leaderboard and the ensemble's choice on the training rows' out-of-fold
    predictions, and the final test on the locked test rows.

    On a small table the share holds them all. On 48,000 rows of 100 classes the two
    calibrations took 9 s of a 60 s fit, and on 500,000 rows the final test 14 s, that the
    share had not kept: both fits ran past their limit. The budget keeps them from the
    candidates (:meth:`~prudent.pipeline._budget.Budget.charge`) once the classes are known.

    Examples
    --------
    >>> round(trust_rows_seconds(38400, 9600, 100), 1)  # 48,000 rows of 100 classes
    10.0
    >>> round(trust_rows_seconds(400000, 100000, 2), 1)  # 500,000 rows of 2 classes
    9.9
    >>> round(trust_rows_seconds(8000, 2000, 2), 2)  # 10,000 rows of 2 classes
    0.2
    """
    calibrations = 2 * CALIBRATION_SECONDS_PER_CELL * train_rows * classes
    return calibrations + TRAIN_ROW_SECONDS * train_rows + TEST_ROW_SECONDS * test_rows


def _calibrate(
    P: ProbaMatrix, y: EncodedLabels, seed: int, groups: IntArray | None = None
) -> tuple[ProbabilityCalibrator, ProbaMatrix, dict[str, Any]]:
    cal, Q, info = calibrate_cross_fitted(P, y, cv=5, random_state=seed, groups=groups)
    info |= {
        # the identity map's: the model's probabilities as served uncalibrated (clipped, as
        # every output is, so that a clipped zero does not count as a change)
        "ece_before_holdout": info["cv_ece"]["identity"],
        "ece_after_holdout": expected_calibration_error(y, Q),
    }
    return cal, Q, info


def _policy(
    spec: FitSpec,
    data: _Data,
    raw: tuple[ProbaMatrix, ProbaMatrix],
    calibrators: tuple[ProbabilityCalibrator, ProbabilityCalibrator],
    rows: IntArray,
    ood: _OOD,
    Pc: ProbaMatrix,
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The decision policy set on the threshold ``rows``, its thresholds section, and the
    rows it was set on (what ``Bundle.retune`` needs to set the thresholds again).

    ``raw`` holds the primary's and the backup's out-of-fold probabilities, ``calibrators``
    their shipped calibrators, ``Pc`` the primary's cross-fitted calibrated probabilities.
    """
    y = data.y_train
    # the thresholds are set on what the shipped model will say: the shipped calibrators
    # on the held-out raw probabilities (a cross-fitted isotonic map has other steps than
    # the one that ships, and a threshold on a step moved the review share on new rows)
    P_pol = calibrators[0].predict_proba(raw[0][rows])
    B_pol = calibrators[1].predict_proba(raw[1][rows])
    # the label rule on every out-of-fold row (cross-fitted calibration), not half; the
    # folds that scored the rows, for the budget's allowance for another training
    fold = None if data.folds is None else data.folds[rows]
    score = ood.b_score
    threshold = float(ood.detector.threshold_)
    policy, info = tune_policy(
        spec, P_pol, B_pol, y[rows], in_distribution=score < threshold, ood_threshold=threshold,
        label_rows=(Pc, y), groups=fold,
    )  # fmt: skip
    policy_rows = {
        "policy_primary_calibrated": P_pol,
        "policy_backup_calibrated": B_pol,
        "policy_ood_score": score,
        "policy_y": y[rows],
    }
    if fold is not None:
        policy_rows["policy_fold"] = fold
    return policy, info, policy_rows


def _target_notice(spec: FitSpec, thresholds: dict[str, Any]) -> str | None:
    """One line when a requested accuracy target leaves no meaningful coverage."""
    if spec.target_accuracy is None or thresholds["meaningful"]:
        return None
    best = ", ".join(
        f"{r['promisable']:.3f} at {r['coverage']:.0%}" for r in thresholds["reachable"][1:]
    )
    return (
        f"Accuracy {spec.target_accuracy:.3f} cannot be promised with meaningful coverage "
        f"(validation coverage {thresholds['accept']['coverage'] or 0:.1%}); targets that can "
        f"be (with prob. ≥ {1 - spec.delta:.2f}): {best}."
    )


MATERIAL_ACCURACY = 0.05
"""An accuracy the label rule gives up that a user should hear of, even above the largest
class's share: on a 5-class table 38% of the labels were not the most probable class and
accuracy fell from 0.46 to 0.39, with no word."""


def _equal_costs(k: int) -> str:
    """``--costs`` with equal costs for ``k`` classes, the value spelled out up to 4.

    >>> _equal_costs(2), _equal_costs(12)
    ("--costs '0,1;1,0'", '--costs: a 12×12 matrix of ones with a zero diagonal')
    """
    if k > 4:
        return f"--costs: a {k}×{k} matrix of ones with a zero diagonal"
    rows = (",".join("0" if i == j else "1" for j in range(k)) for i in range(k))
    return "--costs '" + ";".join(rows) + "'"


def _label_notice(
    policy: Any, thresholds: dict[str, Any], Pc: ProbaMatrix, y: EncodedLabels, classes: Labels
) -> str | None:
    """One line when the label rule's favour to smaller classes costs accuracy that matters,
    on the held-out training rows it was chosen on (whose balanced accuracies
    ``thresholds["label_rule"]`` records): below always predicting the largest class, or
    :data:`MATERIAL_ACCURACY` or more below the most probable labels'.

    Examples
    --------
    >>> from prudent.models import CascadePolicy
    >>> P = np.array([[0.6, 0.4]] * 60 + [[0.9, 0.1]] * 40)
    >>> y = np.array([0] * 40 + [1] * 20 + [0] * 40)
    >>> rule = {"label_rule": {"power": 1.0, "balanced_accuracy": {"1.0": 0.75, "0.0": 0.5}}}
    >>> print(_label_notice(CascadePolicy(0.5, class_weights=(0.6, 2.5)), rule, P, y,
    ...                     ["no", "yes"]))  # doctest: +NORMALIZE_WHITESPACE
    Labels favour the smaller classes: on held-out rows 60% of the labels given are not the
    most probable class, for balanced accuracy 0.750 (0.500 by the highest probability) at
    accuracy 0.600 (0.800), below the 0.800 of always predicting 'no'; such a label's
    confidence is its own probability, often low; equal costs for every error (--costs
    '0,1;1,0') give the most probable label instead.
    """
    rule = thresholds.get("label_rule") or {}
    if getattr(policy, "class_weights", None) is None or len(y) == 0 or "power" not in rule:
        return None
    if getattr(policy, "cost_policy", None) is not None:  # the cheapest label is given instead
        return None
    given, top = policy.label_index(Pc), np.asarray(Pc).argmax(axis=1)
    accuracy, plain = float(np.mean(given == y)), float(np.mean(top == y))
    counts = np.bincount(y, minlength=len(classes))
    majority = counts.max() / len(y)
    if accuracy >= majority and plain - accuracy < MATERIAL_ACCURACY:
        return None
    largest = classes[int(counts.argmax())]
    below = f", below the {majority:.3f} of always predicting {str(largest)!r}"
    balanced = rule["balanced_accuracy"]
    return (
        f"Labels favour the smaller classes: on held-out rows {np.mean(given != top):.0%} of "
        f"the labels given are not the most probable class, for balanced accuracy "
        f"{balanced[str(rule['power'])]:.3f} ({balanced[str(0.0)]:.3f} by the highest "
        f"probability) at accuracy {accuracy:.3f} ({plain:.3f})"
        f"{below if accuracy < majority else ''}; such a label's confidence is its own "
        f"probability, often low; equal costs for every error ({_equal_costs(len(classes))}) "
        "give the most probable label instead."
    )


def _chance_notice(policy: Any, Pc: ProbaMatrix, data: _Data) -> str | None:
    """One line when the shipped labels' balanced accuracy on the held-out training rows is
    within three standard errors of always answering one class (1 / classes): the inputs
    carry little or no signal about the target, whatever the leaderboard ranks first.

    The standard error is the balanced accuracy's own, from each class's recall and rows;
    three, not two, since the label rule was chosen on these rows for its balanced accuracy
    (on 1,200 rows of pure noise, 4:1, it reached 0.547: 2.3 standard errors above 0.5).
    """
    y, k = data.y_train, len(data.classes)
    if len(y) == 0 or k < 2:
        return None
    said = policy.given_index(Pc)
    rows = np.bincount(y, minlength=k)
    hit = np.bincount(y, weights=(said == y).astype(float), minlength=k)
    present = rows > 0
    recall = hit[present] / rows[present]
    balanced = float(recall.mean())
    se = float(np.sqrt(np.sum(recall * (1 - recall) / rows[present])) / present.sum())
    if balanced - 1 / k >= 3 * max(se, 1e-12):
        return None
    constant = bool(np.all(said == said[0]))
    tail = f" (it answers {str(data.classes[said[0]])!r} for every row)" if constant else ""
    return (
        f"Little evidence of signal: the shipped model's balanced accuracy on held-out training "
        f"rows, {balanced:.3f}, is within three standard errors ({se:.3f}) of the {1 / k:.3f} "
        f"of always answering one class{tail}; more labelled rows, or inputs that bear on the "
        f"target, may tell more; check that the target is the column meant."
    )


def rules_for(spec: FitSpec, schema: Schema, classes: Labels) -> RuleSet | None:
    """The fit's rules file parsed against the table: its columns, classes and each input's
    kind, so that a rule comparing a column with a value of another kind is refused (``age
    contains "4"``, ``joined > 5``) instead of never matching. The fit calls it once the
    table is read, so a bad rule stops it before the models are trained."""
    if not spec.rules:
        return None
    return RuleSet.from_yaml(
        spec.rules,
        columns=schema.feature_names,
        classes=[str(c) for c in classes],
        dtypes=rule_kinds(schema),  # as predict-time rules are checked
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


def _guarded(
    data: _Data,
    spec: FitSpec,
    runs: Mapping[str, CandidateRun],
    primary: Any,
    calibrators: tuple[ProbabilityCalibrator, ProbabilityCalibrator],
    parts: tuple[_OOD, ConformalClassifier, Any],
) -> GuardedModel:
    """The guarded model of the fitted parts: ``parts`` holds the OOD map and detector, the
    conformal classifier and the decision policy."""
    ood, conformal, policy = parts
    return GuardedModel(
        classes=data.classes,
        primary=primary,
        primary_calibrator=calibrators[0],
        backup=runs[FALLBACK].model,
        backup_calibrator=calibrators[1],
        ood_features=ood.features,
        ood=ood.detector,
        conformal=conformal,
        policy=policy,
        rules=rules_for(spec, data.schema, data.classes),
        training_values=TrainingValues.fit(data.X_train, data.schema, seed=spec.seed),
    )


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
    a, b = _halves(y, spec.seed, data.groups)
    with reporter.progress("Building trust", total=4) as advance:
        primary, oof, chosen = _primary(runs, base, y, spec.seed, budget, data.groups)
        for note in chosen.get("notes", []):
            reporter.notice(f"Ensemble: {note}.")
        reporter.notice(f"Chosen model: {chosen['primary']} — {chosen['reason']}.")
        cal, Pc, calib = _calibrate(oof, y, spec.seed, data.groups)
        backup = runs[FALLBACK].oof_proba
        # the backup chosen alone as the primary: the same probabilities, the same map
        same = np.array_equal(oof, backup)
        bcal = cal if same else _calibrate(backup, y, spec.seed, data.groups)[0]
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
        raw = (oof, runs[FALLBACK].oof_proba)
        policy, thresholds, policy_rows = _policy(spec, data, raw, (cal, bcal), b_ood, ood, Pc)
        for notice in (
            _target_notice(spec, thresholds),
            _label_notice(policy, thresholds, Pc, data.y_train, data.classes),
            _chance_notice(policy, Pc, data),
            cost_notice(spec, thresholds),
        ):
            if notice:
                reporter.notice(notice)
        advance()
        model = _guarded(data, spec, runs, primary, (cal, bcal), (ood, conformal, policy))
        advance()
    sections = _sections(_diversity(runs, y), chosen, calib, thresholds, ood.detector, spec)
    return model, sections, {"oof": oof, "Pc": Pc, "b": b, "ood": ood, "policy": policy_rows}


def _broken_promises(promises: list[dict[str, Any]]) -> list[str]:
    """One caution per promise the locked test did not keep (within its stated tolerance):
    the fit's own unseen rows contradict it, and the bundle records it as broken. A caution,
    shown beside the promises (``prudent show``), not a warning: a promise kept with
    probability 0.9 or so is, now and then, broken by the draw of a small test alone.

    Examples
    --------
    >>> _broken_promises([{"name": "calibration (top-label ECE)", "kept": False,
    ...     "promised": "consistent with perfect (p ≥ 0.1)", "measured": "ECE 0.041, p=0.03"},
    ...     {"name": "coverage (share accepted)", "kept": None}])  # doctest: +NORMALIZE_WHITESPACE
    ['Caution: the locked test did not keep a promise: calibration (top-label ECE), promised
      consistent with perfect (p ≥ 0.1), measured ECE 0.041, p=0.03; the bundle records it as
      broken (prudent show, the report).']
    """
    return [
        f"Caution: the locked test did not keep a promise: {p['name']}, promised "
        f"{p['promised']}, measured {p['measured']}; the bundle records it as broken "
        "(prudent show, the report)."
        for p in promises
        if p.get("kept") is False
    ]


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
    groups: IntArray | None = None,
    groups_test: IntArray | None = None,
) -> TrustResult:
    """Build the guarded model from the cross-validated runs, then measure its promises.

    ``folds`` gives, per training row, the cross-validation fold whose model scored it (the
    review budget allows for the share moving between trainings); ``None`` when unknown.
    ``groups`` and ``groups_test`` give each training and locked-test row's group when the
    fit splits by group (``--group``).
    """
    data = _Data(schema, classes, X_train, y_train, X_test, y_test, X_ood, folds, groups)
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
        groups=groups_test,
    )
    for broken in _broken_promises(measured.sections["promises"]):
        reporter.notice(broken)
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
    size = pickled_bytes(model)
    artifacts = bounded_evidence(artifacts, train, len(classes), spec.seed, size)
    return TrustResult(
        model=model,
        chosen=sections["ensemble"],
        test_metrics=measured.test_metrics,
        artifacts=artifacts,
        sections=sections | measured.sections,
        model_bytes=size,
    )
