"""A window's tested columns, prepared once for a batch of windows whose rows are stacked.

Every preparation is row by row (a number parsed, a category's text, a document's length and
unseen-word share), so preparing the rows of many windows at once and slicing out one window
gives exactly what preparing that window alone gives; it saves the per-window cost of pandas
(a column read, a conversion) and of counting categories in Python, which on a month of hours
(720 windows of ~1,400 rows) cost more than the tests themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from prudent._typing import FloatArray, IntArray
from prudent.data._formats import formatted_number
from prudent.monitor._drift_tests import (
    MISSING,
    CategoryReference,
    NumberReference,
    TextReference,
    category_labels,
    text_numbers,
)

__all__ = ["Categories", "Column", "Numbers", "Texts", "columns_of", "floats"]


def floats(values: pd.Series) -> FloatArray:
    """Return a column as floats, anything that is not a number as NaN (numbers written with
    marks, ``$1,234.50``, read as the input contract reads them).

    Examples
    --------
    >>> floats(pd.Series(["1.5", None, "x", "$1,200"])).tolist()
    [1.5, nan, nan, 1200.0]
    """
    out = np.asarray(pd.to_numeric(values, errors="coerce"), dtype=float)
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return out
    left = np.flatnonzero(np.isnan(out))
    if not left.size:
        return out
    codes, distinct = pd.factorize(values.iloc[left].to_numpy(dtype=object))  # missing: -1
    parsed = np.array(
        [formatted_number(v) if isinstance(v, str) else None for v in distinct], dtype=float
    )  # None: NaN
    found = codes >= 0
    if not np.isfinite(parsed).any():
        return out  # placeholders and words only
    out = out.copy()  # pandas hands a read-only view
    out[left[found]] = parsed[codes[found]]
    return out


@dataclass(frozen=True)
class Numbers:
    """A numeric feature: its reference and every row's value (NaN: missing)."""

    reference: NumberReference
    values: FloatArray


@dataclass(frozen=True)
class Categories:
    """A categorical or boolean feature: its reference, every row's category as a code into
    ``names``."""

    reference: CategoryReference
    codes: IntArray
    names: list[str]

    @classmethod
    def of(cls, reference: CategoryReference, values: pd.Series | list[object]) -> Categories:
        """Code ``values`` by their category (see :func:`category_labels`).

        A column of text and gaps (what validation leaves) is coded as it is, its gaps one
        category; only the distinct values are then labelled, not every row.
        """
        column = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
        if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
            codes, uniques = pd.factorize(column, use_na_sentinel=False)
            names = [u if isinstance(u, str) else MISSING for u in uniques]
            if len(set(names)) == len(names):
                return cls(reference, codes.astype(np.int64), names)
        codes, labels = pd.factorize(np.asarray(category_labels(column.tolist()), dtype=object))
        return cls(reference, codes.astype(np.int64), [str(n) for n in labels])

    def counts(self, rows: slice) -> dict[str, int]:
        """Return the count of each category present in ``rows``.

        Examples
        --------
        >>> c = Categories.of(CategoryReference({}), ["a", None, "a", "b"])
        >>> c.counts(slice(0, 3))
        {'a': 2, '(missing)': 1}
        """
        tally = np.bincount(self.codes[rows], minlength=len(self.names))
        return {self.names[k]: int(tally[k]) for k in np.flatnonzero(tally)}


@dataclass(frozen=True)
class Texts:
    """A text feature: its reference, every document's length and unseen-word share."""

    reference: TextReference
    length: FloatArray
    unseen: FloatArray


Column = Numbers | Categories | Texts
"""One tested feature of a batch of rows."""


def columns_of(
    series: Mapping[str, NumberReference | CategoryReference | TextReference],
    frame: pd.DataFrame,
) -> dict[str, Column]:
    """Prepare the features of ``frame`` that have a reference series, in the references'
    order (features absent from ``frame`` are left out).

    Parameters
    ----------
    series
        Feature name → its prepared reference (:class:`~prudent.monitor.DriftBaseline`).
    frame
        The rows, validated against the schema.

    Returns
    -------
    dict
        Feature name → its prepared column.
    """
    columns: dict[str, Column] = {}
    for name, reference in series.items():
        if name not in frame.columns:
            continue
        values = frame[name]
        if isinstance(reference, NumberReference):
            columns[name] = Numbers(reference, floats(values))
        elif isinstance(reference, CategoryReference):
            columns[name] = Categories.of(reference, values)
        else:
            columns[name] = Texts(reference, *text_numbers(reference, values.tolist()))
    return columns
