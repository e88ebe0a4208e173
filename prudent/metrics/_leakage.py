"""A leakage check: one column (or whether it is missing) that alone predicts the target.

A column that is written after the outcome — a lifeboat number, a closing date, a refund
amount — makes a model look almost perfect in validation and fail in production, where the
column is not known yet. Each non-text column is scored alone, out of fold: its values (a
shallow tree on a number, the majority class of each category) and its missingness. A
balanced accuracy at or above :data:`LEAK_BALANCED_ACCURACY` is reported, by name; the tree
has at least two leaves per class, so that a leak of a many-class target is seen.

A cheap screen runs first, on at most :data:`_SCREEN_ROWS` rows: a column (or its
missingness) is scored out of fold only when the rule "the class of best balanced accuracy
in each of up to 256 quantile bins" (16 per class beyond 16 classes) reaches
:data:`_SCREEN_LEVEL` on those rows, in sample. That rule is at least as fine as the tree on
one column bar the rows of the bins the tree would cut (fewer than 6% of them at 16 leaves,
fewer than 13% at 2 leaves per class), and a tree does better in sample than out of fold, so
the screen lets every column through that could be a leak; it spares the three tree fits of
every other column (on a 1,000-column table, 34 s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.tree import DecisionTreeClassifier

from prudent._typing import EncodedLabels, FloatArray, IntArray

__all__ = ["LEAK_BALANCED_ACCURACY", "Leak", "single_column_leaks"]

LEAK_BALANCED_ACCURACY = 0.96
"""A column that alone reaches this out-of-fold balanced accuracy is reported as a leak."""
_ROWS = 20_000
_SCREEN_ROWS = 5_000
_SCREEN_BINS = 256
_SCREEN_LEVEL = 0.85


@dataclass(frozen=True)
class Leak:
    """A column that alone predicts the target almost perfectly.

    Parameters
    ----------
    column
        The column's name.
    through
        ``"values"`` or ``"missingness"`` (whether the value is missing).
    balanced_accuracy
        Its out-of-fold balanced accuracy alone.
    """

    column: str
    through: str
    balanced_accuracy: float

    def notice(self, target: str) -> str:
        """One line naming the column, what predicts, and what to do."""
        what = "whether it is missing" if self.through == "missingness" else "its values"
        return (
            f"Possible leakage: column '{self.column}' alone ({what}) predicts '{target}' with "
            f"balanced accuracy {self.balanced_accuracy:.3f} out of fold; check that it is "
            f"known before the outcome, or drop it (--drop {self.column})."
        )


def _codes(s: pd.Series) -> FloatArray:
    """A column as numbers a tree can split: numbers as they are, others as category codes;
    missing values below every other value."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        x = s.to_numpy(dtype=float)
    elif pd.api.types.is_datetime64_any_dtype(s):
        x = s.astype("int64").to_numpy(dtype=float)
        x[s.isna().to_numpy()] = np.nan
    else:
        x = pd.Series(pd.Categorical(s.astype("string"))).cat.codes.to_numpy(dtype=float)
        x[s.isna().to_numpy()] = np.nan
    low = np.nanmin(x) - 1 if np.isfinite(x).any() else 0.0
    return np.asarray(np.where(np.isfinite(x), x, low), dtype=float)


def _binned_balanced_accuracy(x: FloatArray, y: EncodedLabels, per_class: IntArray) -> float:
    """In-sample balanced accuracy of the best class per quantile bin of ``x`` (a bin per
    distinct value when there are few); ``per_class`` counts ``y``'s classes."""
    values, bins = np.unique(x, return_inverse=True)
    n_quantiles = max(_SCREEN_BINS, 16 * len(per_class))
    if len(values) > n_quantiles:
        edges = np.quantile(x, np.linspace(0, 1, n_quantiles + 1)[1:-1])
        bins = np.searchsorted(edges, x, side="right")
    n_bins, n_classes = int(bins.max()) + 1, len(per_class)
    counts = np.bincount(bins * n_classes + y, minlength=n_bins * n_classes)
    rate = counts.reshape(n_bins, n_classes) / np.maximum(per_class, 1)  # each bin's share
    return float(rate.max(axis=1).sum() / np.count_nonzero(per_class))


def _leaves(n_classes: int) -> int:
    """Leaves of the tree that scores one column: 4 per class up to 16, and 2 per class
    beyond, since a tree of fewer leaves than classes cannot name them all (a 35-class age
    target beside its own square scored .457 with 16 leaves, 1.000 with 70).

    Examples
    --------
    >>> [_leaves(k) for k in (2, 4, 8, 35)]
    [8, 16, 16, 70]
    """
    return max(min(16, 4 * n_classes), 2 * n_classes)


def _alone(x: np.ndarray, y: EncodedLabels, seed: int, leaves: int) -> float:
    tree = DecisionTreeClassifier(max_leaf_nodes=leaves, min_samples_leaf=5, random_state=seed)
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    guess = cross_val_predict(tree, x.reshape(-1, 1), y, cv=cv)
    return float(balanced_accuracy_score(y, guess))


def single_column_leaks(
    X: pd.DataFrame, y: EncodedLabels, columns: Sequence[str], *, seed: int = 0
) -> list[Leak]:
    """The columns that alone predict ``y`` with balanced accuracy ≥ the leak level.

    Parameters
    ----------
    X
        The training rows (validated).
    y
        Their encoded labels.
    columns
        The columns to check (not free text: a text that predicts its label is what a text
        classifier is for).
    seed
        Seed of the folds.

    Returns
    -------
    list of Leak
        Highest balanced accuracy first.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 600)
    >>> X = pd.DataFrame({"noise": rng.normal(size=600), "boat": np.where(y == 1, 7.0, np.nan)})
    >>> [(leak.column, leak.through) for leak in single_column_leaks(X, y, ["noise", "boat"])]
    [('boat', 'values'), ('boat', 'missingness')]
    """
    present = np.bincount(y)[np.unique(y)]
    if len(present) < 2 or present.min() < 3:
        return []
    rows = np.arange(len(y))
    if len(rows) > _ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, _ROWS, replace=False))
    yy, leaks = y[rows], []
    leaves = _leaves(len(np.unique(y)))
    screen = np.arange(len(rows))
    if len(screen) > _SCREEN_ROWS:
        screen = np.sort(np.random.default_rng(seed).choice(screen, _SCREEN_ROWS, replace=False))
    per_class = np.bincount(yy[screen], minlength=int(y.max()) + 1)
    for name in columns:
        s = X[name].iloc[rows]
        checks: dict[str, np.ndarray] = {"values": _codes(s)}
        if 0 < s.isna().mean() < 1:
            checks["missingness"] = s.isna().to_numpy(dtype=float)
        for through, x in checks.items():
            if _binned_balanced_accuracy(x[screen], yy[screen], per_class) < _SCREEN_LEVEL:
                continue
            score = _alone(x, yy, seed, leaves)
            if score >= LEAK_BALANCED_ACCURACY:
                leaks.append(Leak(name, through, score))
    return sorted(leaks, key=lambda leak: -leak.balanced_accuracy)
