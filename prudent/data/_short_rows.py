"""Rows of a CSV file with fewer values than its header: said, not filled in silence.

``pandas.read_csv`` reads a row with fewer values than the header has names (a file cut
short, a line whose last fields were lost) as if the missing values were empty cells. The
row is kept, and its last columns are missing, but someone should hear of it: a reader
scans the file for such rows whenever a table's last column holds a missing value (a short
row always leaves it missing, so a file without one costs nothing) and puts the notice in
the frame's ``attrs[SHORT_ROWS_ATTR]``, for the fit and ``prudent predict`` to say.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from prudent.data._csv import CsvDialect, open_bytes

__all__ = ["SHORT_ROWS_ATTR", "mark_short_rows", "short_rows_notice"]

SHORT_ROWS_ATTR = "prudent.short_rows"
"""The key of a frame's ``attrs`` that holds the notice on its file's short rows."""


def short_rows_notice(path: Path, dialect: CsvDialect, width: int) -> str | None:
    """A notice naming how many data rows of the CSV file at ``path`` have fewer values than
    the header's ``width`` columns, and the line of the first; ``None`` when none has.

    Blank lines are not rows (pandas skips them). A quoted value may span lines: rows are
    counted as the CSV reader reads them, and lines as the file numbers them.

    Examples
    --------
    >>> import tempfile, os
    >>> from prudent.data._csv import csv_dialect
    >>> p = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text('a,b,y\\n1,"x\\ny",u\\n\\n3,4,v\\n5,6\\n')
    >>> print(short_rows_notice(p, csv_dialect(p), 3))  # doctest: +NORMALIZE_WHITESPACE
    File 't.csv': 1 row has fewer values than the header's 3 columns (the first at line 6):
    its last columns are read as missing. If the file was cut short, write it again whole.
    """
    short, first = 0, 0
    with io.TextIOWrapper(
        open_bytes(path), encoding=dialect.encoding, errors="replace", newline=""
    ) as fh:
        for _ in range(dialect.skip):  # Excel's sep= line
            fh.readline()
        reader = csv.reader(fh, delimiter=dialect.sep)
        next(reader, None)  # the header
        for row in reader:
            if row and len(row) < width:
                short += 1
                first = first or reader.line_num + dialect.skip
    if not short:
        return None
    rows = "1 row has" if short == 1 else f"{short} rows have"
    return (
        f"File '{path.name}': {rows} fewer values than the header's {width} columns (the first "
        f"at line {first}): its last columns are read as missing. If the file was cut short, "
        "write it again whole."
    )


def mark_short_rows(frame: pd.DataFrame, path: Path, dialect: CsvDialect) -> bool:
    """Put :func:`short_rows_notice` in ``frame.attrs[SHORT_ROWS_ATTR]`` when the frame's
    last column holds a missing value (else the file has no short row and is not scanned);
    return whether the file was scanned."""
    if frame.shape[1] < 2 or not frame.iloc[:, -1].isna().any():
        return False
    notice = short_rows_notice(path, dialect, frame.shape[1])
    if notice is not None:
        frame.attrs[SHORT_ROWS_ATTR] = notice
    return True
