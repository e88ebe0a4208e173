"""Where errors concentrate: slices of the locked test by class and by feature value.

Each feature is cut into a handful of readable groups (quantile ranges for numbers, the
most frequent values for categories, word-count ranges for text). The "top" features
are those whose groups tell the most about whether a prediction is wrong: the mutual
information between the group and the error indicator, which is cheap and needs no model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from prudent.bundle import ROW_COLUMN
from prudent.report._cells import cell, number_text
from prudent.report._evidence import ShippedLabels

__all__ = ["SLICE_COLUMNS", "bin_column", "confident_errors", "error_slices", "top_features"]

SLICE_COLUMNS = ["feature", "slice", "rows", "errors", "error rate"]
_SKIP_ROLES = {"identifier", "dropped"}
_MAX_GROUPS = 8
_QUANTILES = 5


def _numeric_groups(
    values: pd.Series,
) -> tuple[np.ndarray[Any, Any], list[str], np.ndarray[Any, Any]]:
    """Each row's slot, the slots' labels and the missing rows: one label per value when
    there are at most ``_MAX_GROUPS`` of them, else quantile ranges."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    missing = np.isnan(x)
    finite = x[~missing]
    distinct = np.unique(finite)
    if len(distinct) == 0:
        return np.zeros(len(x), dtype=np.int64), ["missing"], missing
    if len(distinct) <= _MAX_GROUPS:
        labels = [number_text(v) for v in distinct]
        return np.searchsorted(distinct, np.where(missing, distinct[0], x)), labels, missing
    edges = np.quantile(finite, np.linspace(0, 1, _QUANTILES + 1))
    if bool((finite == np.round(finite)).all()):
        edges = np.round(edges)
    edges = np.unique(edges)
    slot = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    labels = [
        f"{number_text(edges[i])} – {number_text(edges[i + 1])}" for i in range(len(edges) - 1)
    ]
    return slot, labels, missing


def _numeric_bins(values: pd.Series) -> pd.Series:
    slot, labels, missing = _numeric_groups(values)
    named = np.asarray(labels, dtype=object)[slot]
    named[missing] = "missing"
    return pd.Series(named, index=values.index, dtype=object)


def _category_bins(values: pd.Series) -> pd.Series:
    text = values.astype(object).where(values.notna(), None)
    keys = text.map(lambda v: "missing" if v is None else str(v))
    top = keys[keys != "missing"].value_counts().index[:_MAX_GROUPS]
    return keys.where(keys.isin(top) | (keys == "missing"), "other").astype(object)


def bin_column(values: pd.Series, role: str) -> pd.Series:
    """Return a readable group label for every value of a column.

    Parameters
    ----------
    values
        The column.
    role
        Its schema role (``numeric``, ``categorical``, ``boolean``, ``datetime``, ``text``).

    Returns
    -------
    pandas.Series
        One label per row, at most about eight distinct ones.

    Examples
    --------
    >>> import pandas as pd
    >>> bin_column(pd.Series(["a b", "a b c d", None]), "text").tolist()
    ['2 words', '4 words', '0 words']
    >>> bin_column(pd.Series(["x", "y", None]), "categorical").tolist()
    ['x', 'y', 'missing']
    """
    if role == "text":
        words = values.fillna("").astype(str).map(lambda t: float(len(t.split())))
        return _numeric_bins(words).map(lambda s: f"{s} words").astype(object)
    if role == "numeric":
        return _numeric_bins(values)
    if role == "datetime":
        stamps = pd.to_datetime(values, errors="coerce")
        return _category_bins(stamps.dt.strftime("%Y-%m").where(stamps.notna(), None))
    return _category_bins(values)


def _feature_columns(frame: pd.DataFrame, roles: Mapping[str, str]) -> list[str]:
    return [
        c
        for c in frame.columns
        if not str(c).startswith("__") and roles.get(str(c), "categorical") not in _SKIP_ROLES
    ]


def top_features(
    frame: pd.DataFrame, roles: Mapping[str, str], wrong: np.ndarray[Any, Any], k: int = 3
) -> list[tuple[str, float]]:
    """Return the ``k`` features whose groups carry the most information about the errors.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> frame = pd.DataFrame({"a": [1, 2, 1, 2] * 5, "b": [0, 0, 1, 1] * 5})
    >>> wrong = np.array([False, False, True, True] * 5)
    >>> top_features(frame, {"a": "numeric", "b": "numeric"}, wrong, k=1)[0][0]
    'b'
    """
    scores = []
    for column in _feature_columns(frame, roles):
        role = roles.get(str(column), "categorical")
        if role == "numeric":  # the groups' partition without their labels: 0.1 of the time
            codes = _numeric_codes(frame[column])
        else:
            codes = pd.factorize(bin_column(frame[column], role).astype(str).to_numpy())[0]
        scores.append((str(column), _information(wrong, codes)))
    return sorted(scores, key=lambda s: -s[1])[:k]


def _numeric_codes(values: pd.Series) -> np.ndarray[Any, Any]:
    """The groups of :func:`_numeric_bins` as codes (rows alike share one): labelling every
    value cost 1.2 ms per column, 6 s of a report on 5,000 columns.

    Examples
    --------
    >>> v = pd.Series([0.5, 1.5, None, 2.5, 9.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    >>> labels = _numeric_bins(v).to_numpy()
    >>> codes = _numeric_codes(v)
    >>> all((codes == codes[i]) .tolist() == (labels == labels[i]).tolist() for i in range(11))
    True
    """
    slot, labels, missing = _numeric_groups(values)
    codes = pd.factorize(np.asarray(labels, dtype=object))[0][slot]
    return np.where(missing, -1, codes).astype(np.int64)


def _information(wrong: np.ndarray[Any, Any], codes: np.ndarray[Any, Any]) -> float:
    """The mutual information (nats) between the errors and the groups ``codes`` number:
    ``sklearn.metrics.mutual_info_score``, from a contingency table counted with numpy (per
    column of a 1,000-column table it cost 3 ms, a third of the report).

    Examples
    --------
    >>> from sklearn.metrics import mutual_info_score
    >>> w = np.array([True, False, True, True, False, False])
    >>> g = np.array([7, 7, -1, -1, 3, 3])
    >>> round(_information(w, g), 12) == round(mutual_info_score(w, g), 12)
    True
    """
    codes = pd.factorize(np.asarray(codes))[0]
    errors = np.asarray(wrong, dtype=bool).astype(np.int64)
    n_groups = int(codes.max()) + 1 if codes.size else 0
    table = np.bincount(codes * 2 + errors, minlength=2 * n_groups).reshape(n_groups, 2)
    joint = table / table.sum()
    outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    seen = joint > 0
    return float(max(0.0, np.sum(joint[seen] * np.log(joint[seen] / outer[seen]))))


def _rates(feature: str, groups: pd.Series, wrong: np.ndarray[Any, Any]) -> pd.DataFrame:
    stats = pd.DataFrame({"g": groups.astype(str).to_numpy(), "w": wrong.astype(int)})
    agg = stats.groupby("g", sort=False)["w"].agg(["size", "sum"]).reset_index()
    return pd.DataFrame(
        {
            "feature": feature,
            "slice": agg["g"].astype(str),
            "rows": agg["size"].astype(int),
            "errors": agg["sum"].astype(int),
            "error rate": agg["sum"] / agg["size"],
        }
    )


def error_slices(
    y: np.ndarray[Any, Any],
    wrong: np.ndarray[Any, Any],
    classes: Sequence[str],
    frame: pd.DataFrame | None = None,
    features: Sequence[tuple[str, str]] = (),
    min_rows: int = 5,
) -> pd.DataFrame:
    """Return error rates per true class and per group of each feature, worst first.

    Parameters
    ----------
    y
        Encoded true labels of the locked test.
    wrong
        Whether each locked-test prediction is wrong.
    classes
        Class names (index = encoded label).
    frame
        The locked-test rows aligned with the first rows of ``y`` (optional).
    features
        ``(column, role)`` pairs of ``frame`` to slice by.
    min_rows
        Slices with fewer rows are left out.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SLICE_COLUMNS`, sorted by error rate then rows, both descending.

    Examples
    --------
    >>> import numpy as np
    >>> out = error_slices(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 0], bool), ["a", "b"],
    ...                    min_rows=1)
    >>> out[["slice", "rows", "errors"]].values.tolist()
    [['b', 2, 1], ['a', 2, 0]]
    """
    names = pd.Series([classes[i] for i in y], dtype=object)
    parts = [_rates("true class", names, wrong)]
    if frame is not None:
        n = len(frame)
        for column, role in features:
            parts.append(_rates(column, bin_column(frame[column], role), wrong[:n]))
    out = pd.concat(parts, ignore_index=True)
    out = out[out["rows"] >= min_rows]
    return out.sort_values(["error rate", "rows"], ascending=False, kind="stable").reset_index(
        drop=True
    )


def confident_errors(
    frame: pd.DataFrame,
    shipped: ShippedLabels,
    classes: Sequence[str],
    columns: Sequence[str],
    n: int = 5,
) -> pd.DataFrame:
    """Return the ``n`` wrong labels given with the highest confidence, as rows.

    Parameters
    ----------
    frame
        The locked-test rows aligned with the first rows of ``shipped``.
    shipped
        The true labels, the labels given and their confidence.
    classes
        Class names (index = encoded label).
    columns
        The input columns of ``frame`` to show.
    n
        How many rows at most.

    Returns
    -------
    pandas.DataFrame
        Columns ``row``, ``true``, ``predicted``, ``confidence`` and ``columns``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> frame = pd.DataFrame({"x": [1, 2, 3], "__row__": [10, 11, 12]})
    >>> given = ShippedLabels(np.array([1, 1, 1]), np.array([0, 1, 0]), np.array([.9, .8, .6]))
    >>> confident_errors(frame, given, ["a", "b"], ["x"])["row"].tolist()
    [10, 12]
    """
    m = len(frame)
    y, pred, conf = shipped.y[:m], shipped.label[:m], shipped.confidence[:m]
    idx = np.flatnonzero(pred != y)
    idx = idx[np.argsort(-conf[idx], kind="stable")][:n]
    rows = frame.iloc[idx]
    out = pd.DataFrame(
        {
            "row": rows[ROW_COLUMN].to_numpy() if ROW_COLUMN in rows else idx,
            "true": [classes[i] for i in y[idx]],
            "predicted": [classes[i] for i in pred[idx]],
            "confidence": conf[idx].round(3),
        }
    )
    for column in columns:
        out[column] = [cell(v) for v in rows[column].tolist()]
    return out
