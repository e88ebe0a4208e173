"""Global feature importance by permutation: how much worse the model does when one input
column's values are shuffled across rows (model-agnostic; Breiman 2001, Fisher et al. 2019)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from prudent._costs import recorded_cost
from prudent._typing import EncodedLabels, ProbaMatrix
from prudent.metrics._classification import balanced_accuracy, log_loss

__all__ = ["permutation_importance"]

MIN_ROWS = 200
"""The fewest rows shuffled when the time allowed would not measure every column on more."""


def permutation_importance(
    predict_proba: Callable[[pd.DataFrame], ProbaMatrix],
    X: pd.DataFrame,
    y: EncodedLabels,
    *,
    columns: Sequence[str],
    n_repeats: int = 3,
    seed: int = 0,
    max_rows: int = 1000,
    seconds: float = 30.0,
) -> dict[str, Any]:
    """Rise in log loss and drop in balanced accuracy when each column is shuffled.

    Parameters
    ----------
    predict_proba
        The model: rows → probabilities (columns in class-code order).
    X, y
        Held-out rows and their class codes (the locked test set at fit).
    columns
        The input columns to measure.
    n_repeats
        Shuffles per column; the figures are their mean and standard deviation.
    seed
        Seeds the row sample and the shuffles.
    max_rows
        At most this many rows (a stratification-free uniform sample).
    seconds
        The CPU seconds of this process the shuffles may take: a column whose shuffles,
        projected from the first prediction's time, would pass them is listed as not
        measured. When every column would not fit, fewer rows are shuffled (at least
        :data:`MIN_ROWS`): on 800 texts of 2,000 words one prediction took 2.3 s, and three
        shuffles of two columns 9.4 s against 3 allowed.

    Returns
    -------
    dict
        ``columns``: one entry per measured column, most important first (``column``,
        ``log_loss_increase``, ``log_loss_sd``, ``balanced_accuracy_drop``); ``rows``,
        ``n_repeats``, ``not_measured`` (columns left out for time).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"signal": np.arange(200) % 2, "noise": np.arange(200) % 7})
    >>> y = X["signal"].to_numpy()
    >>> def proba(frame):
    ...     p = np.where(frame["signal"].to_numpy() == 1, 0.9, 0.1)
    ...     return np.column_stack([1 - p, p])
    >>> out = permutation_importance(proba, X, y, columns=["noise", "signal"])
    >>> [c["column"] for c in out["columns"]], out["columns"][1]["log_loss_increase"]
    (['signal', 'noise'], 0.0)
    """
    rng = np.random.default_rng(seed)
    if len(X) > max_rows:
        keep = np.sort(rng.choice(len(X), size=max_rows, replace=False))
        X, y = X.iloc[keep], np.asarray(y)[keep]
    X = X.reset_index(drop=True)
    started = time.process_time()
    base = predict_proba(X)
    # CPU seconds, as the fit plans (recorded: the same columns in reruns)
    call = recorded_cost("importance/base", time.process_time() - started)
    kept = _within(len(X), call, n_repeats * len(columns), seconds, rng)
    if len(kept) < len(X):
        call *= len(kept) / len(X)
        X, y, base = X.iloc[kept].reset_index(drop=True), np.asarray(y)[kept], base[kept]
    base_loss, base_ba = log_loss(y, base), balanced_accuracy(y, base)
    spent = 0.0
    found: list[dict[str, Any]] = []
    left: list[str] = []
    for column in columns:
        if spent + n_repeats * call > seconds or column not in X.columns:
            left.append(column)
            continue
        started = time.process_time()
        losses, drops = [], []
        for _ in range(n_repeats):
            shuffled = X.copy()
            shuffled[column] = X[column].to_numpy()[rng.permutation(len(X))]
            P = predict_proba(shuffled)
            losses.append(log_loss(y, P) - base_loss)
            drops.append(base_ba - balanced_accuracy(y, P))
        found.append(
            {
                "column": column,
                "log_loss_increase": float(np.mean(losses)),
                "log_loss_sd": float(np.std(losses)),
                "balanced_accuracy_drop": float(np.mean(drops)),
            }
        )
        spent += recorded_cost("importance", time.process_time() - started)
    found.sort(key=lambda c: -float(c["log_loss_increase"]))
    return {"columns": found, "rows": len(X), "n_repeats": n_repeats, "not_measured": left}


def _within(
    rows: int, call: float, calls: int, seconds: float, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """The positions of the rows, of ``rows`` whose prediction took ``call`` seconds, that
    ``calls`` predictions can shuffle in ``seconds``: a uniform sample of at least
    :data:`MIN_ROWS`; every row when they all fit.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> len(_within(1000, 2.0, 6, 3.0, rng)), len(_within(1000, 0.1, 6, 3.0, rng))
    (250, 1000)
    """
    if calls * call <= seconds or rows <= MIN_ROWS:
        return np.arange(rows)
    keep = max(MIN_ROWS, int(rows * seconds / (calls * call)))
    return np.sort(rng.choice(rows, size=keep, replace=False))
