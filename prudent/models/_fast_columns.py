"""An exact numpy path for a fitted ``ColumnTransformer``: what a served row pays for.

scikit-learn's ``ColumnTransformer.transform`` validates and converts every part of a batch
through pandas, narwhals and ``check_array``: about 15 ms of CPU for one row of a table with
five numbers and two categories, most of a served prediction. The arithmetic is a few
microseconds. :func:`fast_transform` compiles a fitted column transformer made of the parts
prudent builds (``models._features``: median imputation with missing-value indicators,
standard scaling, constant imputation, one-hot and ordinal encoding, scikit-learn's or
``models._compact``'s, passthrough) into plain numpy steps that do the same operations in the
same order, so the numbers are the same.

It is checked, not trusted: on first use the compiled plan and scikit-learn's own
``transform`` run on the batch's first :data:`CHECK_ROWS` rows and on probe rows made from
them (each column missing, each category column unseen); the plan is used only when every
output is equal — same type, same dtype, same values, bit for bit — and otherwise, or for any
part it does not know (text, dates, a subclass, an option it does not mirror), the
transformer keeps scikit-learn's path for good. A batch the plan fails on (a column missing,
a value it cannot convert) goes to scikit-learn too, which raises its own error. The memo
sits beside the estimators (``weakref``), so predicting changes none of them and nothing is
saved in a bundle.

Within :func:`columns_read_once`, the plans of every member and of the OOD feature map read
each column of the batch once (reading a column out of a DataFrame costs tens of
microseconds, and a 1-row call of a Titanic ensemble read 35 for 12 columns).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse

from prudent.models._text_counts import texts_analysed_once

if TYPE_CHECKING:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import (
        FunctionTransformer,
        OneHotEncoder,
        OrdinalEncoder,
        StandardScaler,
    )

__all__ = ["columns_read_once", "fast_transform", "transform_steps"]

Step = Callable[[Any], Any]
Plan = Callable[[pd.DataFrame], Any]

_PLANS: weakref.WeakKeyDictionary[Any, Plan | None] = weakref.WeakKeyDictionary()
"""Fitted column transformer -> its checked plan, or None: scikit-learn's own path."""
_LOCK = threading.Lock()
_READ = threading.local()
"""Per thread: ``frames``, id -> (frame, its columns read so far) while
:func:`columns_read_once` runs."""
_UNSEEN = "\x00prudent-unseen-value"
CHECK_ROWS = 2_000
"""Rows of the first batch the plan is checked on, with the probe rows: later batches are
not checked either, and scikit-learn's path on a whole 100k-row first batch cost as much as
the plan's (credit_default: 0.13 s of a 0.85 s guarded predict)."""
PROBE_ROWS = 256
"""The most probe rows a plan is checked on (:func:`_probes`)."""


def _floats(X: Any) -> Any:
    """``X`` as ``check_array(dtype=FLOAT_DTYPES)`` makes it: float kept, else float64."""
    X = np.asarray(X)
    return X.copy() if X.dtype.kind == "f" else X.astype(np.float64)


def _missing(X: Any) -> Any:
    """sklearn's mask of ``nan`` (``X != X`` for objects: ``None`` is not missing)."""
    return np.isnan(X) if X.dtype.kind == "f" else X != X


def _imputer(step: SimpleImputer) -> Step | None:
    nan_missing = isinstance(step.missing_values, float) and np.isnan(step.missing_values)
    indicator = step.indicator_ if step.add_indicator else None
    if not nan_missing or callable(step.strategy):
        return None
    from sklearn.impute import MissingIndicator

    if indicator is not None and (
        type(indicator) is not MissingIndicator
        or indicator.features not in ("missing-only", "all")
        or indicator.sparse is True
    ):
        return None
    stats = np.asarray(step.statistics_)
    as_object = stats.dtype.kind == "O"
    if not step.keep_empty_features and not as_object and np.isnan(stats).any():
        return None  # sklearn drops those columns
    numeric_strategy = step.strategy in ("mean", "median")
    kept = None if indicator is None else np.asarray(indicator.features_)

    def impute(X: Any) -> Any:
        if as_object:
            X = np.array(X, dtype=object)
        else:
            X = _floats(X) if numeric_strategy else np.array(X)
        mask = _missing(X)
        if mask.any():
            rows, cols = np.nonzero(mask)
            X[rows, cols] = stats.astype(X.dtype, copy=False)[cols]
        if kept is None:
            return X
        return np.hstack((X, mask if len(kept) == mask.shape[1] else mask[:, kept]))

    return impute


def _scaler(step: StandardScaler) -> Step:
    mean = step.mean_ if step.with_mean else None
    scale = step.scale_ if step.with_std else None

    def scale_(X: Any) -> Any:
        X = _floats(X)
        if mean is not None:
            X -= mean
        if scale is not None:
            X /= scale
        return X

    return scale_


def _lookups(categories: list[Any]) -> list[dict[Any, int]] | None:
    """Per column, category -> its position; None when a category is nan-like (sklearn
    matches every nan to it by a rule of its own, not mirrored here; ``None`` is a value)."""
    out = []
    for cats in categories:
        values = np.asarray(cats, dtype=object).tolist()
        if any(_nan_like(v) for v in values):
            return None
        out.append({v: i for i, v in enumerate(values)})
    return out


def _nan_like(value: Any) -> bool:
    return value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def _codes(lookup: dict[Any, int], column: Any) -> Any:
    """The position of each value of ``column`` among the categories, -1 for unknown."""
    get = lookup.get
    return np.fromiter((get(v, -1) for v in column.tolist()), dtype=np.int64, count=len(column))


def _onehot(step: OneHotEncoder) -> Step | None:
    unknown_to_infrequent = step.handle_unknown == "infrequent_if_exist"
    if getattr(step, "drop_idx_", None) is not None or step.handle_unknown not in (
        "ignore",
        "infrequent_if_exist",
    ):
        return None
    lookups = _lookups(step.categories_)
    if lookups is None:
        return None
    infrequent = getattr(step, "infrequent_categories_", [None] * len(lookups))
    targets, widths = [], []
    for cats, rare in zip(step.categories_, infrequent, strict=True):
        # hashed membership: np.isin compares object arrays pair by pair (30,000 categories,
        # nearly all infrequent: 9e8 comparisons, 3.7 s per encoder)
        rare_set = set() if rare is None else set(rare)
        is_rare = np.fromiter((c in rare_set for c in cats), dtype=bool, count=len(cats))
        position = np.cumsum(~is_rare) - 1
        n_frequent = int((~is_rare).sum())
        position[is_rare] = n_frequent
        unseen = n_frequent if rare is not None and unknown_to_infrequent else -1
        targets.append(np.append(position, unseen))  # index -1 (unknown) reads the last
        widths.append(n_frequent + (rare is not None))
    starts = np.cumsum([0, *widths])

    def encode(X: Any) -> Any:
        X = np.asarray(X)
        out = np.zeros((len(X), int(starts[-1])), dtype=step.dtype)
        for j, (index, target) in enumerate(zip(lookups, targets, strict=True)):
            col = target[_codes(index, X[:, j])]
            hit = col >= 0
            out[np.flatnonzero(hit), starts[j] + col[hit]] = 1
        return out

    return encode


def _ordinal(step: OrdinalEncoder) -> Step | None:
    rare = getattr(step, "infrequent_categories_", None) or []
    if step.handle_unknown != "use_encoded_value" or any(r is not None for r in rare):
        return None
    lookups = _lookups(step.categories_)
    if lookups is None:
        return None
    unknown = step.unknown_value

    def encode(X: Any) -> Any:
        X = np.asarray(X)
        out = np.empty(X.shape, dtype=step.dtype)
        for j, index in enumerate(lookups):
            code = _codes(index, X[:, j])
            out[:, j] = np.where(code >= 0, code, unknown)
        return out

    return encode


def _identity(step: FunctionTransformer) -> Step | None:
    """A ``FunctionTransformer`` without a function: ``ColumnTransformer``'s passthrough."""
    if step.func is not None or step.validate:
        return None
    return lambda X: X


@functools.cache
def _compilers() -> dict[type, Callable[[Any], Step | None]]:
    """The transformers mirrored, by exact type (imported on first use, not at start-up)."""
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import (
        FunctionTransformer,
        OneHotEncoder,
        OrdinalEncoder,
        StandardScaler,
    )

    from prudent.models._compact import CompactOneHotEncoder, CompactOrdinalEncoder

    return {
        FunctionTransformer: _identity,
        SimpleImputer: _imputer,
        StandardScaler: _scaler,
        OneHotEncoder: _onehot,
        OrdinalEncoder: _ordinal,
        CompactOneHotEncoder: _onehot,  # scikit-learn's, saved more compactly
        CompactOrdinalEncoder: _ordinal,
    }


def _part(transformer: Any) -> Step | None:
    """A ``ColumnTransformer`` part (a known step, a pipeline of them, or passthrough)."""
    if isinstance(transformer, str):
        return (lambda X: X) if transformer == "passthrough" else None
    from sklearn.pipeline import Pipeline

    steps = transformer.steps if type(transformer) is Pipeline else [("", transformer)]
    compiled = []
    for _, step in steps:
        if step is None or step == "passthrough":
            continue
        make = _compilers().get(type(step))
        one = None if make is None else make(step)
        if one is None:
            return None
        compiled.append(one)

    def run(X: Any) -> Any:
        for one in compiled:
            X = one(X)
        return X

    return run


def _compile(ct: ColumnTransformer) -> Plan | None:
    """The numpy plan of ``ct``, or None when a part is not mirrored."""
    from sklearn.compose import ColumnTransformer

    config = getattr(ct, "_sklearn_output_config", {}) or {}
    if type(ct) is not ColumnTransformer or config.get("transform", "default") != "default":
        return None
    parts: list[tuple[list[str], Step]] = []
    for _, transformer, columns in ct.transformers_:
        if isinstance(transformer, str) and transformer == "drop":
            continue
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            return None  # a single text column, positions, masks, callables
        if not columns:
            continue
        run = _part(transformer)
        if run is None:
            return None
        parts.append((columns, run))
    to_sparse = bool(ct.sparse_output_)

    def plan(X: pd.DataFrame) -> Any:
        blocks = [run(_columns(X, columns)) for columns, run in parts]
        out = np.hstack(blocks) if blocks else np.empty((len(X), 0))
        return sparse.csr_matrix(out) if to_sparse else out

    return plan


@contextlib.contextmanager
def columns_read_once(X: Any) -> Iterator[None]:
    """While the block runs, the plans read each column of ``X`` once, on this thread, and
    TF-IDF steps analyse a batch's texts once
    (:func:`~prudent.models._text_counts.texts_analysed_once`).

    For one call's batch, which nothing changes meanwhile: the members' preprocessing and
    the OOD feature map then share the column arrays. A plan's input is always a new array
    stacked from them, so no step sees another's.

    Examples
    --------
    >>> X = pd.DataFrame({"n": [1.0, 2.0], "m": [3.0, 4.0]})
    >>> with columns_read_once(X):
    ...     _columns(X, ["n", "m"]).tolist(), _column(X, "n") is _column(X, "n")
    ([[1.0, 3.0], [2.0, 4.0]], True)
    """
    outer: dict[int, tuple[Any, dict[str, Any]]] | None = getattr(_READ, "frames", None)
    _READ.frames = {**(outer or {}), id(X): (X, {})}
    try:
        with texts_analysed_once():
            yield
    finally:
        _READ.frames = outer


def _column(X: pd.DataFrame, name: str) -> Any:
    """``X[name].to_numpy()``, read once per :func:`columns_read_once` block."""
    frames = getattr(_READ, "frames", None)
    entry = None if frames is None else frames.get(id(X))
    if entry is None or entry[0] is not X:
        return X[name].to_numpy()
    read = entry[1]
    if name not in read:
        read[name] = X[name].to_numpy()
    return read[name]


def _columns(X: pd.DataFrame, columns: list[str]) -> Any:
    """``np.asarray(X[columns])`` without building the sub-frame."""
    return np.column_stack([_column(X, c) for c in columns])


def _same(a: Any, b: Any) -> bool:
    """Equal outputs: type, dtype, shape and every value (nan where nan), sparse layout too."""
    if type(a) is not type(b) or a.dtype != b.dtype or a.shape != b.shape:
        return False
    nan = a.dtype.kind == "f"
    if sparse.issparse(a):
        return all(
            np.array_equal(getattr(a, k), getattr(b, k)) for k in ("indptr", "indices")
        ) and bool(np.array_equal(a.data, b.data, equal_nan=nan))
    return bool(np.array_equal(a, b, equal_nan=nan))


def _holds_words(column: pd.Series) -> bool:
    """Whether a column holds text: ``object``, or pandas' ``str`` dtype (the default for
    strings read since pandas 3), which the probes once gave only a missing value."""
    return column.dtype == object or isinstance(column.dtype, pd.StringDtype)


def _probes(ct: ColumnTransformer, X: pd.DataFrame) -> pd.DataFrame | None:
    """Rows made from ``X``'s first: each used column missing, each text column unseen.

    One probe row per (column, value) up to :data:`PROBE_ROWS`; beyond, probe ``k`` goes to
    row ``k % PROBE_ROWS``, so that a row holds several columns' probes (each column's own
    values still on rows of their own): one row per probe made 5,000 rows of 5,000 columns
    on a 5,000-column table, 9.6 s to build and check. Built column by column (copying the
    first row once per probe and concatenating cost quadratic time in the number of columns:
    58 s for a 1,000-column table). ``None`` when a column's dtype cannot hold its probe
    value (an integer column cannot be missing).
    """
    used = [c for _, _, cols in ct.transformers_ if isinstance(cols, list) for c in cols]
    probes = [
        (column, value)
        for column in dict.fromkeys(used)
        for value in ((None, np.nan, _UNSEEN) if _holds_words(X[column]) else (np.nan,))
    ]
    if not probes:
        return None
    n_rows = min(len(probes), PROBE_ROWS)
    at: dict[str, list[tuple[int, Any]]] = {}
    for k, (column, value) in enumerate(probes):
        at.setdefault(column, []).append((k % n_rows, value))
    first = X.iloc[:1]
    columns = {}
    try:
        for column in X.columns:
            dtype = X[column].dtype
            values = np.repeat(first[column].to_numpy(dtype=object), n_rows)
            for row, value in at.get(column, ()):
                values[row] = value
            columns[column] = pd.Series(values, dtype=dtype)  # raises if dtype cannot hold them
    except (TypeError, ValueError):
        return None
    return pd.DataFrame(columns)


def _checked_plan(ct: ColumnTransformer, X: pd.DataFrame) -> Plan | None:
    """The plan of ``ct`` if it gives scikit-learn's outputs on ``X`` and on probe rows."""
    try:
        plan = _compile(ct)
        if plan is None:
            return None
        X = X.iloc[:CHECK_ROWS]
        probes = _probes(ct, X)
        batches = [X] if probes is None else [X, probes]
        ok = all(_same(plan(b), ct.transform(b)) for b in batches)
    except Exception:  # anything not mirrored: scikit-learn's path
        return None
    return plan if ok else None


def fast_transform(ct: Any, X: Any) -> Any:
    """``ct.transform(X)``, through a checked numpy plan when ``ct`` has one.

    Parameters
    ----------
    ct
        A fitted transformer; only a ``ColumnTransformer`` given a DataFrame has a plan.
    X
        The rows.

    Returns
    -------
    numpy.ndarray or scipy.sparse matrix
        Equal to ``ct.transform(X)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
    >>> X = pd.DataFrame({"n": [1.0, 2.0, 4.0], "c": ["a", "b", "a"]})
    >>> ct = make_column_transformer((StandardScaler(), ["n"]), (OneHotEncoder(), ["c"]))
    >>> ct = ct.fit(X)
    >>> fast_transform(ct, X).tolist() == ct.transform(X).tolist()
    True
    """
    if type(ct).__name__ != "ColumnTransformer" or not isinstance(X, pd.DataFrame) or not len(X):
        return ct.transform(X)  # _compile checks the exact type
    try:
        plan = _PLANS[ct]
    except KeyError:
        with _LOCK:
            plan = _PLANS[ct] = _checked_plan(ct, X)
    if plan is not None:
        try:
            return plan(X)
        except Exception:  # a batch the plan cannot take: scikit-learn says why
            pass
    return ct.transform(X)


def transform_steps(steps: list[Any], X: Any) -> Any:
    """``X`` through each fitted step's ``transform`` (column transformers by the fast path).

    Parameters
    ----------
    steps
        Fitted transformers, in order.
    X
        The rows.

    Returns
    -------
    Any
        The last step's output (``X`` itself for no steps).
    """
    for step in steps:
        X = fast_transform(step, X)
    return X
