"""The fitted whole that predicts: primary model, backup, calibration, OOD, conformal, policy.

:class:`GuardedModel` is what a bundle stores and what every prediction path calls —
the library, ``prudent predict`` and both HTTP APIs. It computes probabilities once
and hands them, with the OOD score and the rule matches, to the cascade's single
decision function.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from prudent._typing import FloatArray, Labels, ProbaMatrix

__all__ = ["GuardedModel", "RawScores", "output_columns"]


def output_columns(classes: Labels) -> list[str]:
    """The columns of a prediction table, in order.

    Examples
    --------
    >>> output_columns(["no", "yes"])[:4]
    ['prediction', 'confidence', 'proba_no', 'proba_yes']
    >>> output_columns(["no", "yes"])[4:]
    ['ood_score', 'is_ood', 'prediction_set', 'decision', 'reason']
    """
    probas = [f"proba_{c}" for c in classes]
    return [
        "prediction",
        "confidence",
        *probas,
        "ood_score",
        "is_ood",
        "prediction_set",
        "decision",
        "reason",
    ]


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

    def _raw(self, model: Any, X: pd.DataFrame) -> ProbaMatrix:
        raw = np.asarray(model.predict_proba(X), dtype=np.float64)
        if len(getattr(model, "classes_", self.classes)) != len(self.classes):
            full = np.zeros((len(X), len(self.classes)))
            full[:, np.asarray(model.classes_, dtype=np.int64)] = raw
            raw = full
        return raw

    def _proba(self, model: Any, calibrator: Any, X: pd.DataFrame) -> ProbaMatrix:
        raw = self._raw(model, X)
        return raw if calibrator is None else np.asarray(calibrator.predict_proba(raw))

    def scores(self, X: pd.DataFrame) -> RawScores:
        """Calibrated probabilities of both models and the OOD score for validated rows."""
        raw = self._raw(self.primary, X)
        primary = raw
        if self.primary_calibrator is not None:
            primary = np.asarray(self.primary_calibrator.predict_proba(raw))
        backup = (
            None if self.backup is None else self._proba(self.backup, self.backup_calibrator, X)
        )
        ood_score = None
        if self.ood is not None and self.ood_features is not None:
            ood_score = np.asarray(
                self.ood.score(self.ood_features.transform(X), primary), dtype=np.float64
            )
        return RawScores(primary=primary, backup=backup, ood_score=ood_score, primary_raw=raw)

    def predict_frame(self, X: pd.DataFrame, *, rules: Any = None) -> pd.DataFrame:
        """Predict and decide for rows already validated against the schema.

        Parameters
        ----------
        X
            Validated, coerced input rows.
        rules
            A rule set overriding the stored one for this call (``prudent predict --rules``).

        Returns
        -------
        pandas.DataFrame
            The columns of :func:`output_columns`, one row per input row, in order.
        """
        columns = output_columns(self.classes)
        if len(X) == 0:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        s = self.scores(X)
        return self.decide_frame(X, s, rules=rules if rules is not None else self.rules)

    def decide_frame(self, X: pd.DataFrame, s: RawScores, *, rules: Any) -> pd.DataFrame:
        """The prediction table for rows whose :meth:`scores` are already computed."""
        conf = s.primary.max(axis=1)
        ood_score = s.ood_score if s.ood_score is not None else np.full(len(X), np.nan)
        ood_threshold = getattr(self.ood, "threshold_", np.inf) if self.ood else np.inf
        matches = rules.evaluate(X) if rules is not None and len(rules) else None
        sets = (
            self.conformal.predict_set(s.primary)
            if self.conformal is not None
            else s.primary >= conf[:, None]
        )
        out = {"prediction": self.classes[s.primary.argmax(axis=1)], "confidence": conf}
        out |= {f"proba_{c}": s.primary[:, i] for i, c in enumerate(self.classes)}
        out |= {
            "ood_score": ood_score,
            "is_ood": ood_score >= ood_threshold,
            "prediction_set": [json.dumps([_plain(c) for c in self.classes[row]]) for row in sets],
        }
        if self.policy is None:
            out |= {
                "decision": np.full(len(X), "accept", dtype=object),
                "reason": np.full(
                    len(X), "no decision policy: every prediction accepted", dtype=object
                ),
            }
        else:
            from prudent.models._cascade import decide

            names = [str(c) for c in self.classes]  # rules and decide speak class names
            d = decide(
                self.policy,
                classes=names,
                primary_proba=s.primary,
                backup_proba=s.backup,
                ood_score=s.ood_score,
                rule_matches=matches,
            )
            out |= {
                "decision": np.asarray(d.route, dtype=object),
                "reason": np.asarray(d.reason, dtype=object),
            }
            by_name = dict(zip(names, self.classes, strict=True))
            label = np.asarray(
                [by_name.get(v, v) if v is not None else None for v in d.label], dtype=object
            )
            has = pd.notna(label)
            out["prediction"] = np.where(has, label, out["prediction"])
        return pd.DataFrame(out)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
