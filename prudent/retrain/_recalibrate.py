"""A new calibrator, conformal sets and thresholds for a fitted model, from recent labels.

The primary, the backup and the OOD detector stay as they are; the calibration maps are
chosen and fitted on the recent rows by cross-fitting (each row mapped by a map fitted
without it, the identity among the candidates), so the thresholds set on the same rows see
the calibrator as new rows will — the fit's own trust stage does the same on out-of-fold
training rows.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from prudent._typing import EncodedLabels, ProbaMatrix
from prudent.bundle import Bundle
from prudent.errors import DataError
from prudent.models import ConformalClassifier
from prudent.models._calibration import calibrate_cross_fitted
from prudent.models._guarded import GuardedModel
from prudent.models._selection import FALLBACK
from prudent.pipeline import FitSpec, tune_policy

__all__ = ["MIN_ROWS", "Evidence", "recalibrate_model"]

MIN_ROWS = 60
"""The fewest recent labelled rows a recalibration accepts (with at least
:data:`MIN_PER_CLASS` of every class): the cross-fitting has 5 folds and the thresholds a
held-out accuracy to promise."""

MIN_PER_CLASS = 5


def _check_rows(y: EncodedLabels, classes: list[Any]) -> None:
    counts = np.bincount(y, minlength=len(classes))
    if len(y) < MIN_ROWS or counts.min() < MIN_PER_CLASS:
        few = ", ".join(f"{c}: {n}" for c, n in zip(classes, counts, strict=True))
        raise DataError(
            f"Recalibration needs at least {MIN_ROWS} recent labelled rows with "
            f"{MIN_PER_CLASS} of every class, but has {len(y)} ({few}); label more cases "
            "(prudent review) or widen --since."
        )


@dataclass(frozen=True)
class Evidence:
    """Held-out rows from the fit: the primary's and the backup's raw out-of-fold
    probabilities, the labels, and the rows the fit set its thresholds on."""

    primary: ProbaMatrix
    backup: ProbaMatrix | None
    y: EncodedLabels
    holdout: npt.NDArray[np.int64]

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> Evidence | None:
        """The evidence a bundle's ``artifacts.npz`` keeps (``None`` without it)."""
        data = bundle.extras.get("artifacts.npz")
        if data is None:
            return None
        a = np.load(io.BytesIO(data))
        if not {"oof_primary_raw", "y_train", "holdout_rows"} <= set(a.files):
            return None
        backup = a[f"oof_{FALLBACK}"] if f"oof_{FALLBACK}" in a.files else None
        return cls(a["oof_primary_raw"], backup, a["y_train"], a["holdout_rows"])


def _stack(old: ProbaMatrix | None, recent: ProbaMatrix | None, n_old: int) -> ProbaMatrix | None:
    """The fit's rows then the recent ones (``None`` when either side is missing)."""
    if recent is None or (n_old and old is None):
        return None
    return recent if not n_old or old is None else np.vstack([old, recent])


def recalibrate_model(
    model: GuardedModel,
    X: pd.DataFrame,
    y: EncodedLabels,
    spec: FitSpec,
    evidence: Evidence | None = None,
) -> tuple[GuardedModel, dict[str, Any]]:
    """Return a copy of ``model`` with calibrators, conformal sets and thresholds refitted.

    Parameters
    ----------
    model
        The fitted model (left unchanged).
    X
        Recent validated input rows no part of ``model`` was fitted on.
    y
        Their class indices.
    spec
        The fit's options (review budget or target, delta, costs, conformal alpha).
    evidence
        The fit's held-out rows, added to the recent ones (the calibration map is then
        fitted on both, and the thresholds set on the recent rows and the fit's threshold
        rows, counted as in distribution); ``None``: the recent rows alone.

    Returns
    -------
    tuple
        The new model, and the evidence: ``calibration`` and ``thresholds`` in the form of
        the manifest's trust sections.

    Raises
    ------
    DataError
        Too few rows, or a class with too few rows (see :data:`MIN_ROWS`).
    """
    y = np.asarray(y, dtype=np.int64)
    _check_rows(y, [str(c) for c in model.classes])
    raw = model.scores(X).primary_raw
    braw = None if model.backup is None else model._raw(model.backup, X)
    assert raw is not None
    old = evidence or Evidence(raw[:0], None, y[:0], y[:0])
    ys = np.r_[old.y, y]
    P = _stack(old.primary, raw, len(old.y))
    assert P is not None
    cal, Pc, calib = calibrate_cross_fitted(P, ys, random_state=spec.seed)
    new = copy.copy(model)
    new.primary_calibrator = cal
    rows = np.r_[old.holdout, np.arange(len(old.y), len(ys))]
    # the thresholds are set on what the new model will say (the calibrators that ship, on the
    # raw probabilities), as the fit sets them: see prudent.pipeline._trust
    B, B_pol = _stack(old.backup, braw, len(old.y)), None
    if B is not None:
        bcal, _, _ = calibrate_cross_fitted(B, ys, random_state=spec.seed)
        new.backup_calibrator, B_pol = bcal, bcal.predict_proba(B[rows])
    new.conformal = ConformalClassifier(
        method="lac", alpha=spec.alpha, mondrian=spec.mondrian, allow_empty=False
    ).fit(Pc[rows], ys[rows])
    in_dist, ood_threshold = np.ones(len(ys), dtype=bool), np.inf
    if model.ood is not None and model.ood_features is not None:
        flags = model.ood.is_ood(model.ood_features.transform(X), Pc[len(old.y) :])
        in_dist[len(old.y) :] = ~np.asarray(flags, dtype=bool)
        ood_threshold = float(model.ood.threshold_)
    new.policy, thresholds = tune_policy(
        spec, cal.predict_proba(P[rows]), B_pol, ys[rows],
        in_distribution=in_dist[rows], ood_threshold=ood_threshold, label_rows=(Pc, ys),
    )  # fmt: skip
    return new, {"calibration": calib | {"rows": len(ys)}, "thresholds": thresholds}
