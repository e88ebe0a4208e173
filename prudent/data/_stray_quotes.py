"""A stray quote in a CSV file: a value that swallowed whole rows of the file.

``pandas.read_csv`` reads a quote that opens a value and closes only lines later as one
value spanning those lines, as the CSV format says; the rows in between are then gone
without a word. :func:`check_swallowed_rows` refuses such a value.
"""

from __future__ import annotations

import csv
import operator
from pathlib import Path
from typing import Any

import pandas as pd

from prudent.errors import DataReadError

__all__ = ["SWALLOW_MIN_COLUMNS", "check_swallowed_rows"]


def _position(label: Any) -> int:
    """A data row's index label as its position (0 when it is none)."""
    try:
        return operator.index(label)
    except TypeError:
        return 0


SWALLOW_MIN_COLUMNS = 5
"""Fewest columns for a line inside a value to tell as a whole row of the file (its delimiters
as many as the header's): with fewer, a line of prose may hold as many commas."""


def _spanning(column: pd.Series) -> pd.Series:
    """Which values of a column of strings hold a line break: vectorised on every chunk a
    file's predict reads (a Python call per value cost about 15 ms per 100k-row column)."""
    try:
        found = column.str.contains("\n", regex=False, na=False)
    except (AttributeError, TypeError):  # values that are not all strings
        found = column.map(lambda v: isinstance(v, str) and "\n" in v)
    return found.fillna(False).astype(bool)


def _numeric_dtype(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _reads_as_row(fields: list[str], width: int, numeric: list[int], decimal: str = ".") -> bool:
    """Whether a line inside a value reads as a row of the file: the file's number of
    fields, and a number (or nothing) in each field of a column the file holds numbers in.

    Examples
    --------
    >>> _reads_as_row(["x", " 2", ""], 3, [1, 2]), _reads_as_row(["x", " big", "1"], 3, [1])
    (True, False)
    >>> _reads_as_row(["x", "14,23"], 2, [1], decimal=",")  # a file written with decimal commas
    True
    """
    if len(fields) != width:
        return False
    for i in numeric:
        text = fields[i].strip().replace(decimal, ".")
        if text:
            try:
                float(text)
            except ValueError:
                return False
    return True


def check_swallowed_rows(frame: pd.DataFrame, path: Path, sep: str, decimal: str = ".") -> None:
    r"""Refuse a value that holds whole rows of the file: a stray quote.

    A quote that opens a value and is closed only lines later (``"crisp`` in one row,
    ``earthy"`` three rows on) makes one value of everything between: the rows in between
    were lost and the row took the last one's values, with nothing said. A value may span
    lines (an address, a review), but a line inside it that reads as a row of exactly the
    file's columns (at least :data:`SWALLOW_MIN_COLUMNS` of them, so that prose seldom does),
    with a number or nothing under each column of numbers (:func:`_reads_as_row`), is read as
    a row the quote swallowed: a tweet's second line with five commas, in a six-column file,
    had been refused as one, though it read "dream big" under the retweet count.
    ``frame``'s index numbers the data rows from 0.

    Raises
    ------
    DataReadError
        Naming the row, the column, how many rows it swallowed, and the fix.

    Examples
    --------
    >>> frame = pd.DataFrame({c: [1, 2] for c in "abcd"} | {"note": ["ok", 'x\n1,2,3,4,y']})
    >>> check_swallowed_rows(frame, Path("f.csv"), ",")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    prudent.errors.DataReadError: File 'f.csv', data row 2: the value of column 'note' holds ...
    """
    if frame.shape[1] < SWALLOW_MIN_COLUMNS or not len(frame):
        return
    width = frame.shape[1]
    numeric = [i for i, (_, c) in enumerate(frame.items()) if _numeric_dtype(c)]
    for name in frame.columns:
        column = frame[name]
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        for row, value in column[_spanning(column)].items():
            lines = str(value).split("\n")[1:]
            whole = sum(
                _reads_as_row(fields, width, numeric, decimal)
                for fields in csv.reader(lines, delimiter=sep)
            )
            if whole:
                raise DataReadError(
                    f"File '{path}', data row {_position(row) + 1}: the value of column "
                    f"'{name}' holds {whole} line(s) that read as whole rows of the file: a "
                    "quote opened in this row closes only lines later, and the rows between "
                    "would be lost. "
                    'Remove the stray quote, or write a quote inside a value as two ("").'
                )
