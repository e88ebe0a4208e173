"""The locked-test rows a bundle keeps as evidence, read in one place.

A fit keeps up to 2,000 rows of its locked test set in ``test_rows.parquet``: their input
columns as read, ``__row__`` (the row's number in the table) and ``__label__`` (its encoded
label). The monitor's reference, the promotion gate, retraining, the review page's nearest
rows and the report read them through :func:`read_test_rows` and these names.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd

__all__ = ["LABEL_COLUMN", "ROW_COLUMN", "TEST_ROWS_FILE", "inputs_of", "read_test_rows"]

TEST_ROWS_FILE = "test_rows.parquet"
"""The bundle file that holds the rows."""

ROW_COLUMN = "__row__"
"""The row's number in the fitted table."""

LABEL_COLUMN = "__label__"
"""The row's label, encoded (an index into the bundle's classes)."""


def read_test_rows(extras: Mapping[str, bytes]) -> pd.DataFrame | None:
    """The locked-test rows of a bundle's files, or None when it keeps none.

    Examples
    --------
    >>> frame = pd.DataFrame({"x": [1.5], ROW_COLUMN: [7], LABEL_COLUMN: [0]})
    >>> read_test_rows({TEST_ROWS_FILE: frame.to_parquet(index=False)}).shape
    (1, 3)
    >>> read_test_rows({}) is None
    True
    """
    data = extras.get(TEST_ROWS_FILE)
    return None if data is None else pd.read_parquet(io.BytesIO(data))


def inputs_of(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows' input columns: without ``__row__`` and ``__label__``.

    Examples
    --------
    >>> list(inputs_of(pd.DataFrame({"x": [1.5], ROW_COLUMN: [7], LABEL_COLUMN: [0]})))
    ['x']
    """
    return rows.drop(columns=[c for c in (ROW_COLUMN, LABEL_COLUMN) if c in rows.columns])
