"""The rows the trust stage reads (:class:`_Data`) and how it parts them: the two stratified
halves of the training rows (A fits the OOD detector, B sets the thresholds) and capped draws."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from prudent._typing import EncodedLabels, IntArray, Labels
from prudent.data import Schema, check_disjoint

__all__: list[str] = []


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
