"""The fit-time reference a window is compared with, read from what a bundle already holds.

Nothing new is stored at fit time: the locked test set is held out from every fitted part, and
the bundle keeps up to 2,000 of its rows (``test_rows.parquet``, already validated against the
schema) and, for all of it, the calibrated probabilities and OOD scores (``artifacts.npz``).
Those give the reference distribution of every input feature, of the confidence and of the OOD
score, and the reference OOD rate. The promises (accept threshold, target accuracy, conformal
alpha) come from the manifest.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from prudent._typing import BoolArray, FloatArray, IntArray
from prudent.bundle import inputs_of, read_test_rows
from prudent.data import Schema
from prudent.errors import BundleError

if TYPE_CHECKING:
    from prudent.bundle import Bundle
    from prudent.bundle._trust_records import Thresholds

__all__ = ["Outcomes", "Promises", "Reference"]


@dataclass(frozen=True)
class Promises:
    """What the model promised at fit time, against which windows are read.

    Parameters
    ----------
    accept_threshold
        Confidence at or above which the model answers alone; a wrong answer there is a
        high-confidence error.
    target_accuracy
        The accuracy accepted predictions were promised to reach; ``None`` when a cost matrix
        decides (it promises a cost per row, not an accuracy) or the policy never accepts (a
        target out of reach): no rule reads it then.
    alpha
        Conformal miscoverage: sets should cover ``1 - alpha`` of true labels.
    ood_rate
        Share of the reference rows flagged out of distribution (None when no detector ran).
    accept_rate
        Share of the reference rows the model accepted (None when unknown).
    accuracy_tolerance
        How far below ``target_accuracy`` the fit still called the promise kept: 2 standard
        errors of the target on the locked test's accepted rows (0 when unknown). Rules
        reading the promise fire only past it, so that a promise the fit calls kept is not
        an alert in service (:attr:`kept_accuracy`).
    """

    accept_threshold: float
    target_accuracy: float | None
    alpha: float
    ood_rate: float | None = None
    accept_rate: float | None = None
    accuracy_tolerance: float = 0.0

    @property
    def kept_accuracy(self) -> float | None:
        """The lowest accepted accuracy the fit calls the promise kept at (``None`` when no
        accuracy is promised).

        Examples
        --------
        >>> round(Promises(0.5, 0.685, 0.1, accuracy_tolerance=0.026).kept_accuracy, 3)
        0.659
        """
        if self.target_accuracy is None:
            return None
        return self.target_accuracy - self.accuracy_tolerance


@dataclass(frozen=True)
class Reference:
    """Reference distributions and promises for one model.

    Parameters
    ----------
    schema
        The model's input schema (the windows' logged inputs are validated against it).
    features
        Reference rows of the feature columns, validated (coerced) like served inputs.
    confidence
        Reference confidences: the calibrated probability of the label the service would show
        (as logged), not the top probability.
    ood_score
        Reference OOD scores (empty when no detector ran).
    promises
        The promises read from the bundle.
    model_version
        The bundle's version as logged (``Bundle.version``), or None for any.
    outcomes
        What the model did on the reference rows (what alert replays resample), when known.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from prudent.data import infer_schema
    >>> frame = pd.DataFrame({"x": [0.1, 0.5, 0.9], "y": [0, 1, 1]})
    >>> ref = Reference(schema=infer_schema(frame, "y"), features=frame[["x"]],
    ...                 confidence=np.array([0.9, 0.8, 0.7]),
    ...                 promises=Promises(0.8, 0.95, 0.1))
    >>> ref.promises.accept_threshold, len(ref.features)
    (0.8, 3)
    """

    schema: Schema
    features: pd.DataFrame
    confidence: FloatArray
    promises: Promises
    ood_score: FloatArray = field(default_factory=lambda: np.zeros(0))
    model_version: str | None = None
    outcomes: Outcomes | None = None

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> Reference:
        """Build the reference of a loaded bundle from its locked-test evidence.

        Parameters
        ----------
        bundle
            A fitted bundle (``prudent.load``).

        Returns
        -------
        Reference
            Features from ``test_rows.parquet``, confidences and OOD scores from
            ``artifacts.npz``, promises from the manifest.

        Raises
        ------
        BundleError
            When the bundle holds no locked-test evidence (``artifacts.npz``).
        """
        if "artifacts.npz" not in bundle.extras:
            raise BundleError(
                "The bundle holds no artifacts.npz (locked-test evidence), so there is no "
                "reference to monitor against; refit it with this version of prudent."
            )
        arrays = np.load(io.BytesIO(bundle.extras["artifacts.npz"]))
        proba = np.asarray(arrays["test_proba"], dtype=float)
        ood = (
            np.asarray(arrays["test_ood_score"], dtype=float)
            if "test_ood_score" in arrays
            else None
        )
        thresholds = bundle.evidence.trust.thresholds
        policy = thresholds.policy if thresholds else None
        ood_threshold = policy.ood_threshold if policy else None
        is_ood = np.zeros(len(proba), bool)
        ood_rate = None
        if ood is not None and ood.size and ood_threshold is not None:
            is_ood = ood >= ood_threshold
            ood_rate = float(np.mean(is_ood))
        shown = _shown_labels(bundle, arrays, proba)
        confidence = proba[np.arange(len(proba)), shown]
        outcomes = _outcomes(arrays, confidence, shown, is_ood)
        return cls(
            schema=bundle.schema,
            features=_test_rows(bundle),
            confidence=confidence,
            ood_score=np.zeros(0) if ood is None else ood[np.isfinite(ood)],
            promises=_promises(bundle.manifest.get("spec", {}), thresholds, ood_rate, outcomes),
            model_version=bundle.version,
            outcomes=outcomes,
        )


@dataclass(frozen=True)
class Outcomes:
    """What the model did on each reference row, aligned: what alert replays resample.

    Parameters
    ----------
    confidence
        The calibrated probability of the label shown (as logged).
    accepted
        Whether the model answered alone.
    correct
        Whether the label shown was the true label.
    set_size
        Size of its conformal set.
    is_ood
        Whether it was judged out of distribution.
    """

    confidence: FloatArray
    accepted: BoolArray
    correct: BoolArray
    set_size: FloatArray
    is_ood: BoolArray


def _shown_labels(bundle: Bundle, arrays: Any, proba: FloatArray) -> IntArray:
    """Per reference row, the index of the label the service shows and logs for it: the
    decision's label (a cost policy's cheapest, the backup's), else the label the policy
    gives (``CascadePolicy.given_index``), as ``Predictions.prediction`` shows it; the top class
    for a bundle without a policy. Its probability is the row's logged ``confidence``, which
    a reference of top probabilities would read as drift wherever the two labels differ.
    """
    from prudent.models import decide

    policy = getattr(bundle.model, "policy", None)
    if policy is None or not len(proba):
        return np.asarray(proba.argmax(axis=1), dtype=np.int64)
    backup = arrays["test_backup_proba"] if "test_backup_proba" in arrays.files else None
    backup = backup if backup is not None and np.isfinite(backup).all() else None
    ood = arrays["test_ood_score"] if "test_ood_score" in arrays.files else None
    ood = None if ood is None else np.nan_to_num(ood, nan=-np.inf)  # no score: not OOD
    names = [str(c) for c in bundle.classes]
    decided = decide(policy, classes=names, primary_proba=proba, backup_proba=backup, ood_score=ood)
    shown: IntArray = policy.given_index(proba)
    position = {name: i for i, name in enumerate(names)}
    for row, label in enumerate(decided.label):
        if label is not None:
            shown[row] = position[str(label)]
    return shown


def _outcomes(
    arrays: Any, confidence: FloatArray, shown: IntArray, is_ood: BoolArray
) -> Outcomes | None:
    needed = ("y_test", "test_accepted", "test_sets")
    if any(name not in arrays for name in needed):
        return None
    return Outcomes(
        confidence=confidence,
        accepted=np.asarray(arrays["test_accepted"], bool),
        correct=shown == np.asarray(arrays["y_test"]),
        set_size=np.asarray(arrays["test_sets"], float),
        is_ood=is_ood,
    )


def _promises(
    spec: dict[str, Any],
    thresholds: Thresholds | None,
    ood_rate: float | None,
    outcomes: Outcomes | None,
) -> Promises:
    """The promises of the fit: its policy's accept threshold, the promised accuracy, the
    spec's alpha, and what it did on the reference rows."""
    accept = thresholds.policy.accept_threshold if thresholds and thresholds.policy else None
    never = thresholds is not None and thresholds.policy is not None and accept is None
    # a policy that never accepts (a target out of reach) promises no accuracy, and its
    # accept rate cannot drop
    target = None if never else _promised_accuracy(thresholds, spec.get("target_accuracy"))
    accepted = 0 if outcomes is None else int(outcomes.accepted.sum())
    return Promises(
        accept_threshold=math.inf if accept is None else accept,
        target_accuracy=target,
        alpha=float(spec.get("alpha", 0.1)),
        ood_rate=ood_rate,
        accept_rate=None if outcomes is None or never else float(outcomes.accepted.mean()),
        accuracy_tolerance=0.0 if target is None else promise_tolerance(target, accepted),
    )


def promise_tolerance(target: float, n: int) -> float:
    """How far below ``target`` a measure on ``n`` rows still keeps it: 2 standard errors,
    as the fit's promise check allows (0 when ``n`` is 0: nothing was measured).

    Examples
    --------
    >>> round(promise_tolerance(0.685, 1262), 4)
    0.0262
    """
    return 2.0 * math.sqrt(target * (1 - target) / n) if n > 0 else 0.0


def _promised_accuracy(thresholds: Thresholds | None, spec_target: float | None) -> float | None:
    """The accuracy promised for accepted rows: the requested target or, with a review
    budget, the measured bound (older bundles: the spec's target); ``None`` when a cost
    matrix decides."""
    if thresholds is not None and thresholds.cost_policy is not None:
        return None
    accept = thresholds.accept if thresholds else None
    value = (accept.target_accuracy if accept else None) or spec_target
    return float(value) if value is not None else 0.95


def _test_rows(bundle: Bundle) -> pd.DataFrame:
    rows = read_test_rows(bundle.extras)
    return pd.DataFrame(columns=bundle.schema.feature_names) if rows is None else inputs_of(rows)
