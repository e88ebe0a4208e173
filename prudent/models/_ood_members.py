"""The detectors an :class:`~prudent.models._ood.OODDetector` holds: made by name, each fed
the input it reads, and the k-NN detector pooled over the fit and validation rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.sparse import issparse
from scipy.sparse import vstack as sparse_vstack

from prudent._typing import FloatArray
from prudent.errors import DataError
from prudent.models._ood_detector_base import _Detector, reference_rows
from prudent.models._ood_detectors import (
    IsolationForestScore,
    KNNDistance,
    MahalanobisDistance,
    RangeExcess,
)
from prudent.models._ood_proba_detectors import EnergyScore, MaxProbabilityScore
from prudent.models._ood_scale import _FEATURE_DETECTORS

__all__: list[str] = []  # helpers of :mod:`prudent.models._ood` only


def _make_detector(name: str, knn_rows: int | None, random_state: int | None) -> _Detector:
    """A new detector of the given name (k-NN with its reference cap, seeded)."""
    makers: dict[str, Callable[[], _Detector]] = {
        "knn": lambda: KNNDistance(max_rows=knn_rows, random_state=random_state),
        "mahalanobis": MahalanobisDistance,
        "isolation_forest": lambda: IsolationForestScore(random_state=random_state),
        "range": RangeExcess,
        "max_prob": MaxProbabilityScore,
        "energy": EnergyScore,
    }
    det: _Detector = makers[name]()
    return det


def _detector_input(name: str, Z: Any, P: Any, where: str) -> Any:
    """The input ``name`` reads: ``Z`` for feature detectors, ``P`` for the others."""
    feature = name in _FEATURE_DETECTORS
    X = Z if feature else P
    if X is None:
        which = "Z" if feature else "P"
        raise DataError(
            f"OODDetector's detector {name!r} reads {which}, but {which}{where} is None; "
            f"pass it or leave {name!r} out of detectors."
        )
    if Z is not None and P is not None and Z.shape[0] != len(P):
        raise DataError(
            f"Z{where} has {Z.shape[0]} rows but P{where} has {len(P)}; pass both for the "
            "same rows."
        )
    return X


def _pooled_knn(
    Z_fit: Any, Z_val: Any, knn_rows: int | None, random_state: int | None
) -> tuple[KNNDistance, FloatArray]:
    """The k-NN detector on fit and validation rows together, and the validation rows'
    scores, each without itself where it is in the reference."""
    Z_fit, Z_val = (Z if issparse(Z) else np.asarray(Z) for Z in (Z_fit, Z_val))
    n_fit, n_val = Z_fit.shape[0], Z_val.shape[0]
    pooled = (
        sparse_vstack([Z_fit, Z_val], format="csr")
        if issparse(Z_fit) or issparse(Z_val)
        else np.vstack([Z_fit, Z_val])
    )
    rows = reference_rows(n_fit + n_val, knn_rows, random_state)
    knn = KNNDistance(random_state=random_state).fit(pooled[rows])
    held = np.zeros(n_val, dtype=bool)
    held[rows[rows >= n_fit] - n_fit] = True
    scores = np.empty(n_val, dtype=np.float64)
    if held.any():
        scores[held] = knn.unusualness_left_out(Z_val[held])
    if not held.all():
        scores[~held] = knn.unusualness(Z_val[~held])
    return knn, scores
