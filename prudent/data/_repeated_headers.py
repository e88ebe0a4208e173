"""Rows of a CSV file that repeat its header: files joined end to end, read as one table.

``cat a.csv b.csv > all.csv`` leaves ``b.csv``'s header as a row of ``all.csv``. pandas reads
it as data: every numeric column turns to text for that one row, so the fit took a column of
numbers for an identifier (dropped) or for categories, and the target gained a class named
after its own column (a 1-row class, refused as too small to validate). A reader skips such
rows, each of whose cells holds its own column's name, and parses the rest again as the file
would have been read without them; the notice (``attrs[REPEATED_HEADER_ATTR]``) says so.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["REPEATED_HEADER_ATTR", "repeated_header_rows", "without_repeated_headers"]

REPEATED_HEADER_ATTR = "prudent.repeated_header"
"""The key of a frame's ``attrs`` that holds the notice on the header rows it skipped."""

_UNNAMED = re.compile(r"Unnamed: \d+")
"""pandas' name for a column whose header cell is empty (its repeat is an empty cell too)."""


def repeated_header_rows(frame: pd.DataFrame) -> npt.NDArray[np.bool_] | None:
    """Which rows hold, in every column, that column's name; ``None`` when none does.

    A repeat leaves every column it crosses holding text, so a table with a column of
    numbers (or dates, booleans) has none: the check then costs nothing, and otherwise a
    comparison per column until no row is left.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": ["1", "a", "2"], "y": ["u", "y", "v"]})
    >>> repeated_header_rows(frame).tolist()
    [False, True, False]
    >>> repeated_header_rows(pd.DataFrame({"a": [1.0, 2.0], "y": ["u", "y"]})) is None
    True
    """
    if frame.empty:
        return None
    rows = np.ones(len(frame), dtype=bool)
    for name in frame.columns:
        column = frame[name]
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            return None
        values = column.to_numpy(dtype=object)
        same = values == str(name)
        if _UNNAMED.fullmatch(str(name)):
            same |= pd.isna(values)
        rows &= same.astype(bool)
        if not rows.any():
            return None
    return rows


def without_repeated_headers(
    frame: pd.DataFrame,
    name: str,
    parse: Callable[[io.StringIO], pd.DataFrame],
    sep: str = ",",
) -> pd.DataFrame:
    """``frame`` without the rows that repeat its header, its other rows parsed again by
    ``parse`` (the file's own reader, given the rows as CSV text separated by ``sep``, the
    cells as the file wrote them) so that each column gets the type the file gives it
    without them; a notice in ``attrs[REPEATED_HEADER_ATTR]``.

    ``frame`` itself is returned when no row repeats the header.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": ["1.5", "a", "2"], "y": ["u", "y", "v"]})
    >>> out = without_repeated_headers(frame, "t.csv", pd.read_csv)
    >>> out["a"].tolist(), out.attrs[REPEATED_HEADER_ATTR][:60]
    ([1.5, 2.0], "File 't.csv': 1 row repeats the header (data row 2), as when")
    """
    rows = repeated_header_rows(frame)
    if rows is None:
        return frame
    first = int(np.flatnonzero(rows)[0]) + 1
    count = int(rows.sum())
    kept = frame.loc[~rows]
    again = parse(io.StringIO(kept.to_csv(index=False, sep=sep)))
    again.attrs = dict(frame.attrs)
    what = "1 row repeats" if count == 1 else f"{count} rows repeat"
    again.attrs[REPEATED_HEADER_ATTR] = (
        f"File '{name}': {what} the header (data row {first}"
        f"{'' if count == 1 else ' the first'}), as when files are joined end to end: "
        f"{'it is' if count == 1 else 'they are'} skipped."
    )
    return again
