"""The fitted whole that predicts: primary model, backup, calibration, OOD, conformal, policy.

:class:`GuardedModel` is what a bundle stores and what every prediction path calls —
the library, ``prudent predict`` and both HTTP APIs. It computes probabilities once
and hands them, with the OOD score and the rule matches, to the cascade's single
decision function.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from prudent._typing import BoolArray, FloatArray, IntArray, Labels, ProbaMatrix
from prudent.models._cascade import CascadePolicy, backup_rows, decide
from prudent.models._decisions import Decisions
from prudent.models._fast_columns import columns_read_once
from prudent.models._predictions import Predictions
from prudent.models._shared_inputs import (
    SharedInputs,
    pipeline_transform,
    predict_proba,
    shared_groups,
    take_rows,
)
from prudent.models._thresholds import CostPolicy
from prudent.models._training_values import TrainingValues

__all__ = ["GuardedModel", "RawScores"]

BackupOf = Callable[[IntArray | None], ProbaMatrix]
"""The backup's uncalibrated probabilities for the given rows of a batch (None: all)."""

_ACCEPT_ALL = CascadePolicy(accept_threshold=0.0)
"""The policy of a model fitted without one: every prediction accepted (rules still apply)."""


@dataclass(frozen=True)
class RawScores:
    """The numbers behind a decision, before it is made."""

    primary: ProbaMatrix
    """Calibrated probabilities of the primary model."""
    backup: ProbaMatrix | None
    ood_score: FloatArray | None
    primary_raw: ProbaMatrix | None = None
    """The primary model's probabilities before calibration."""


class GuardedModel:
    """Everything needed to predict and decide, fitted.

    Parameters
    ----------
    classes
        The class labels, in the column order of every probability matrix.
    primary
        The primary model (an ensemble or a single pipeline) with ``predict_proba``.
    primary_calibrator
        Maps the primary's probabilities to calibrated ones (``predict_proba(P)``), or None.
    backup, backup_calibrator
        The simpler backup model and its calibrator, or None.
    ood_features
        Fitted transformer from input rows to the OOD detector's feature space, or None.
    ood
        Fitted OOD detector with ``score(Z, P)`` and ``threshold_``, or None.
    conformal
        Fitted conformal predictor with ``predict_set(P)``, or None.
    policy
        The cascade policy (thresholds), or None to accept every prediction.
    rules
        A rule set evaluated before any model, or None.
    training_values
        What the training rows held per input column (:class:`TrainingValues`), to flag
        unknown values; None in a bundle saved before prudent kept it (nothing is flagged).
    """

    def __init__(
        self,
        *,
        classes: Labels,
        primary: Any,
        primary_calibrator: Any = None,
        backup: Any = None,
        backup_calibrator: Any = None,
        ood_features: Any = None,
        ood: Any = None,
        conformal: Any = None,
        policy: Any = None,
        rules: Any = None,
        training_values: TrainingValues | None = None,
    ) -> None:
        self.classes = np.asarray(classes)
        self.primary = primary
        self.primary_calibrator = primary_calibrator
        self.backup = backup
        self.backup_calibrator = backup_calibrator
        self.ood_features = ood_features
        self.ood = ood
        self.conformal = conformal
        self.policy = policy
        self.rules = rules
        self.training_values = training_values

    def _raw(self, model: Any, X: pd.DataFrame) -> ProbaMatrix:
        return self._full(model, predict_proba(model, X))

    def _full(self, model: Any, raw: ProbaMatrix) -> ProbaMatrix:
        """``model``'s probabilities with a column for every class of the bundle."""
        if len(getattr(model, "classes_", self.classes)) != len(self.classes):
            full = np.zeros((len(raw), len(self.classes)))
            full[:, np.asarray(model.classes_, dtype=np.int64)] = raw
            raw = full
        return raw

    def _primary_and_backup(self, X: pd.DataFrame) -> tuple[ProbaMatrix, BackupOf | None]:
        """The primary's uncalibrated probabilities, and the backup's for chosen rows.

        Each model runs once: a backup that is the primary or one of its ensemble's members
        takes its probabilities, and a backup whose fitted preprocessing equals the primary's
        (or a member's) takes that transform of the batch
        (:mod:`~prudent.models._shared_inputs`); the backup's own model runs only when asked,
        on the rows asked for.
        """
        if self.backup is None or self.backup is self.primary:
            raw = self._raw(self.primary, X)
            return raw, None if self.backup is None else (lambda rows: take_rows(raw, rows))
        ensemble = hasattr(self.primary, "member_outputs")
        parts = list(self.primary.estimators_) if ensemble else [self.primary]
        at = next((i for i, m in enumerate(parts) if m is self.backup), len(parts))
        every = parts if at < len(parts) else [*parts, self.backup]
        shared = SharedInputs(every, X, shared_groups(every))
        outputs = [shared.output(i) for i in range(len(parts))]
        raw = self.primary.combine(outputs) if ensemble else outputs[0]
        primary = self._full(self.primary, np.asarray(raw, np.float64))
        if at < len(parts):
            return primary, lambda rows: self._full(self.backup, take_rows(outputs[at], rows))
        return primary, lambda rows: self._full(self.backup, shared.output(at, rows))

    def _proba(self, model: Any, calibrator: Any, X: pd.DataFrame) -> ProbaMatrix:
        return self._calibrated(calibrator, self._raw(model, X))

    def __getstate__(self) -> dict[str, Any]:
        """What is saved: a backup that is the primary or one of its members is saved once.

        skops shares no object between places, so the logistic baseline, when it is also the
        primary (or a member of the ensemble), would be written twice; it is written as the
        index of the primary's part it is (``backup_in_primary``: 0 the primary itself, ``i``
        its member ``estimators_[i - 1]``) and restored by :meth:`__setstate__`.
        """
        state = dict(self.__dict__)
        parts = [self.primary, *getattr(self.primary, "estimators_", [])]
        shared = [
            i for i, part in enumerate(parts) if self.backup is not None and part is self.backup
        ]
        if shared:
            state["backup"], state["backup_in_primary"] = None, shared[0]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the saved state, the shared backup included."""
        shared = state.pop("backup_in_primary", None)
        self.training_values = None  # absent from bundles saved before it was kept
        self.__dict__.update(state)
        if shared is not None:
            parts = [self.primary, *getattr(self.primary, "estimators_", [])]
            self.backup = parts[int(shared)]

    def scores(self, X: pd.DataFrame) -> RawScores:
        """Calibrated probabilities of both models and the OOD score for validated rows."""
        with columns_read_once(X):
            return self._scores(X)

    def _scores(self, X: pd.DataFrame) -> RawScores:
        raw, backup_of = self._primary_and_backup(X)
        primary = self._calibrated(self.primary_calibrator, raw)
        backup = None
        if backup_of is not None:
            backup = self._calibrated(self.backup_calibrator, backup_of(None))
        return RawScores(primary, backup, self._ood_score(X, primary), primary_raw=raw)

    def _needed_scores(self, X: pd.DataFrame, matches: Any) -> RawScores:
        """:meth:`scores`, the backup computed only for the rows whose decision reads it
        (:func:`~prudent.models._cascade.backup_rows`); the other rows carry the primary's
        probabilities in its place, which no decision reads."""
        raw, backup_of = self._primary_and_backup(X)
        primary = self._calibrated(self.primary_calibrator, raw)
        ood_score = self._ood_score(X, primary)
        backup = None
        if backup_of is not None:
            policy = self.policy if self.policy is not None else _ACCEPT_ALL
            rows = np.flatnonzero(
                backup_rows(
                    policy, primary_proba=primary, ood_score=ood_score, rule_matches=matches
                )
            )
            backup = primary.copy()
            if len(rows):
                backup[rows] = self._calibrated(self.backup_calibrator, backup_of(rows))
        return RawScores(primary, backup, ood_score, primary_raw=raw)

    @staticmethod
    def _calibrated(calibrator: Any, raw: ProbaMatrix) -> ProbaMatrix:
        return raw if calibrator is None else np.asarray(calibrator.predict_proba(raw))

    def _ood_score(self, X: pd.DataFrame, primary: ProbaMatrix) -> FloatArray | None:
        if self.ood is None or self.ood_features is None:
            return None
        Z = pipeline_transform(self.ood_features, X)
        return np.asarray(-self.ood.score_samples(Z, primary), dtype=np.float64)

    def predictions(self, X: pd.DataFrame, *, rules: Any = None) -> Predictions:
        """Predict and decide for rows already validated against the schema.

        The backup model runs only on the rows whose decision reads it; the result is the
        one :meth:`scores` and :meth:`decide_scores` give.

        Parameters
        ----------
        X
            Validated, coerced input rows.
        rules
            A rule set overriding the stored one for this call (``prudent predict --rules``).

        Returns
        -------
        Predictions
            One result per input row, in order.
        """
        rules = rules if rules is not None else self.rules
        if len(X) == 0:
            return self.no_predictions(0, "no rows")
        matches = _matches(rules, X)
        with columns_read_once(X):
            scores = self._needed_scores(X, matches)
        return self._decided(X, scores, matches)

    def predict_frame(self, X: pd.DataFrame, *, rules: Any = None) -> pd.DataFrame:
        """:meth:`predictions` as the prediction table (``Predictions.to_frame``)."""
        return self.predictions(X, rules=rules).to_frame()

    def decide_frame(self, X: pd.DataFrame, s: RawScores, *, rules: Any) -> pd.DataFrame:
        """The prediction table for rows whose :meth:`scores` are already computed."""
        return self.decide_scores(X, s, rules=rules).to_frame()

    def decide_scores(self, X: pd.DataFrame, s: RawScores, *, rules: Any) -> Predictions:
        """The predictions for rows whose :meth:`scores` are already computed."""
        return self._decided(X, s, _matches(rules, X))

    def _decided(self, X: pd.DataFrame, s: RawScores, matches: Any) -> Predictions:
        unknown = self.unknown_values(X)
        d = decide(
            self.policy if self.policy is not None else _ACCEPT_ALL,
            classes=self._names,
            primary_proba=s.primary,
            backup_proba=s.backup,
            ood_score=s.ood_score,
            rule_matches=matches,
            unknown_values=unknown,
        )
        ood_score = s.ood_score if s.ood_score is not None else np.full(len(X), np.nan)
        ood_threshold = getattr(self.ood, "threshold_", math.inf) if self.ood else math.inf
        return Predictions(
            self.classes,
            s.primary,
            ood_score,
            ood_score >= ood_threshold,
            self.prediction_sets(s.primary),
            d,
            class_weights=self._weights,
            unknown_values=unknown,
            cost_policy=self._costs,
        )

    def prediction_sets(self, proba: ProbaMatrix) -> BoolArray:
        """The prediction sets shipped for calibrated primary probabilities ``proba``: the
        conformal set with the label the model gives added (with the prior correction a rare
        class is the label at 0.22 while the set at 90% held only the common one: "Yes",
        ["No"]); the top label(s) when there is no conformal classifier."""
        top = proba.max(axis=1)
        sets = np.array(
            self.conformal.predict_set(proba)
            if self.conformal is not None
            else proba >= top[:, None],
            dtype=bool,
        )
        label = (self.policy if self.policy is not None else _ACCEPT_ALL).given_index(proba)
        sets[np.arange(len(label)), label] = True
        return sets

    def unknown_values(self, X: pd.DataFrame) -> npt.NDArray[np.object_] | None:
        """Per validated row, the columns whose value training never held; None unchecked."""
        seen = self.training_values
        return None if seen is None or not len(X) else seen.columns(X)

    def backup_predictions(self, X: pd.DataFrame, failure: str) -> Predictions:
        """The degraded path: the primary gave nothing (``failure`` says why).

        The stored rules still decide first; the backup model answers the other rows. There
        is no OOD score (the detector reads the primary's probabilities), and the prediction
        set is the backup's top label(s), with the label it gives.

        Raises
        ------
        ValueError
            When the model has no backup.
        """
        if self.backup is None:
            raise ValueError("the model has no backup")
        proba = self._proba(self.backup, self.backup_calibrator, X)
        unknown = self.unknown_values(X)
        d = decide(
            self.policy or _ACCEPT_ALL,
            classes=self._names,
            backup_proba=proba,
            rule_matches=_matches(self.rules, X),
            failure=failure,
            unknown_values=unknown,
        )
        return self._answer(len(X), proba, d, unknown)

    def no_predictions(self, n_rows: int, failure: str) -> Predictions:
        """Neither model answered (``failure`` says why): every row goes to review."""
        d = decide(self.policy or _ACCEPT_ALL, classes=self._names, failure=failure, n_rows=n_rows)
        return self._answer(n_rows, None, d)

    @property
    def _names(self) -> list[str]:
        return [str(c) for c in self.classes]  # rules and decide speak class names

    def _answer(
        self, n: int, proba: ProbaMatrix | None, d: Decisions, unknown: Any = None
    ) -> Predictions:
        k = len(self.classes)
        shown = np.full((n, k), np.nan) if proba is None else proba
        sets = np.zeros((n, k), dtype=bool)
        if proba is not None:  # the backup's top label(s), and the label it gives
            sets = proba >= proba.max(axis=1)[:, None]
            given = (self.policy or _ACCEPT_ALL).given_index(proba)
            sets[np.arange(n), given] = True
        no_ood = np.full(n, np.nan)
        return Predictions(
            self.classes,
            shown,
            no_ood,
            np.zeros(n, bool),
            sets,
            d,
            class_weights=self._weights,
            unknown_values=unknown,
            cost_policy=self._costs,
        )

    @property
    def _weights(self) -> tuple[float, ...] | None:
        """The label rule's class weights (``None``: the top class)."""
        return getattr(self.policy, "class_weights", None)

    @property
    def _costs(self) -> CostPolicy | None:
        """The policy's cost matrix (``None``: none decides)."""
        return getattr(self.policy, "cost_policy", None)


def _matches(rules: Any, X: pd.DataFrame) -> Any:
    return rules.evaluate(X) if rules is not None and len(rules) else None
