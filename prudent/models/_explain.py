"""Per-row top contributions, where the primary model gives them cheaply.

Two cases are exact and cost one extra pass: a pipeline ending in LightGBM (its
``pred_contrib``, SHAP values in log-odds) or in a linear model (coefficient × transformed
value, in log-odds relative to the standardised mean). Contributions of the features one input
column became (one-hot levels, missing indicators, TF-IDF words) are summed back into that
column. Any other primary (an ensemble, k-NN, an MLP) gives ``None``: no explanation is better
than a misleading one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from prudent.models._predictions import Predictions

__all__ = ["explain_predictions", "explain_rows"]


def _input_columns(preprocess: Any) -> list[str] | None:
    """The input column behind each output feature of a fitted ``ColumnTransformer``."""
    try:
        names = [str(n) for n in preprocess.get_feature_names_out()]
        owners = {str(t): [str(c) for c in cols] for t, _, cols in preprocess.transformers_}
    except (AttributeError, ValueError, TypeError):
        return None
    out = []
    for name in names:
        prefix, _, rest = name.partition("__")
        cols = owners.get(prefix, [])
        if len(cols) == 1:
            out.append(cols[0])
            continue
        rest = rest.removeprefix("missingindicator_")
        fits = [c for c in cols if rest == c or rest.startswith(f"{c}_")]
        out.append(max(fits, key=len) if fits else rest)
    return out


def _per_feature(model: Any, Xt: Any, k: int) -> np.ndarray[Any, Any] | None:
    """(rows, classes, features) contributions toward each class, or None."""
    if type(model).__module__.startswith("lightgbm"):
        raw = np.asarray(model.predict(Xt, pred_contrib=True), dtype=np.float64)
        m = raw.shape[1] // (1 if k == 2 else k) - 1
        per = raw.reshape(len(raw), 1 if k == 2 else k, m + 1)[:, :, :m]
    elif hasattr(model, "coef_") and hasattr(model, "predict_proba"):
        coef = np.asarray(model.coef_, dtype=np.float64)
        dense = Xt.toarray() if sparse.issparse(Xt) else np.asarray(Xt, dtype=np.float64)
        per = dense[:, None, :] * coef[None, :, :]
    else:
        return None
    if per.shape[1] == 1 and k == 2:  # binary: toward class 1, and the opposite for class 0
        per = np.concatenate([-per, per], axis=1)
    return per if per.shape[1] == k else None


def explain_rows(
    primary: Any,
    X: pd.DataFrame,
    class_index: np.ndarray[Any, Any],
    n_classes: int,
    top: int = 5,
) -> list[list[dict[str, Any]]] | None:
    """The ``top`` input columns that pushed each row most toward its class.

    Parameters
    ----------
    primary
        The bundle's primary model.
    X
        Validated input rows.
    class_index
        Per row, the index of the class to explain (the label shown).
    n_classes
        The bundle's number of classes.
    top
        Columns per row, largest absolute contribution first.

    Returns
    -------
    list or None
        Per row, ``[{"column": …, "contribution": …}, …]`` in log-odds; ``None`` when the
        primary gives no cheap exact contributions.
    """
    steps = getattr(primary, "steps", None)
    if not steps or len(steps) != 2:
        return None
    (_, preprocess), (_, model) = steps
    columns = _input_columns(preprocess)
    k = len(getattr(model, "classes_", []))
    if k != n_classes:  # the model saw fewer classes than the bundle: no clean mapping
        return None
    per = None if columns is None or k < 2 else _per_feature(model, preprocess.transform(X), k)
    if per is None or columns is None or per.shape[2] != len(columns):
        return None
    names = list(dict.fromkeys(columns))
    owner = np.array([names.index(c) for c in columns])
    rows = per[np.arange(len(per)), np.asarray(class_index, dtype=np.int64)]
    summed = np.zeros((len(rows), len(names)))
    np.add.at(summed.T, owner, rows.T)
    order = np.argsort(-np.abs(summed), axis=1)[:, :top]
    return [
        [{"column": names[j], "contribution": round(float(summed[i, j]), 6)} for j in order[i]]
        for i in range(len(summed))
    ]


def explain_predictions(
    guarded: Any, X: pd.DataFrame, predictions: Predictions, top: int = 5
) -> list[list[dict[str, Any]]] | None:
    """:func:`explain_rows` for each row's shown label (the primary's top class if none)."""
    classes = [str(c) for c in predictions.classes.tolist()]
    shown = [str(p) if p is not None else None for p in predictions.prediction]
    P = np.nan_to_num(np.asarray(predictions.probabilities, dtype=np.float64))
    index = np.array(
        [classes.index(s) if s in classes else int(P[i].argmax()) for i, s in enumerate(shown)]
    )
    return explain_rows(guarded.primary, X, index, len(classes), top=top)
