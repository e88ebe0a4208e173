"""JSON tables: JSON Lines (one object per line, streamed) and a JSON array of objects (the
records a web API or ``DataFrame.to_json(orient="records")`` writes, read whole).

Every value must be plain: a column of objects or lists is refused, named.
"""

from __future__ import annotations

import codecs
import io
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from prudent._json import long_integer
from prudent.data._csv import open_bytes, python_encoding
from prudent.data._plain import nested_cells
from prudent.errors import DataReadError

__all__ = ["first_bad_line", "is_json_array", "iter_json", "read_json"]

_OUT_OF_RANGE = re.compile(r"^Value is too (big|small)")
"""pandas' JSON parser on a whole number outside 64 bits (the json module reads it)."""


def is_json_array(path: Path, encoding: str = "utf-8") -> bool:
    """Whether the JSON file at ``path`` holds one array (its first character is ``[``)."""
    with open_bytes(path) as fh:
        head = fh.read(4096)
    decoder = codecs.getincrementaldecoder(python_encoding(path, encoding))(errors="ignore")
    return decoder.decode(head).lstrip("\ufeff \t\r\n").startswith("[")


def _records(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    """The JSON array at ``path`` as a frame, one row per object, columns in the order their
    keys first appear.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.json"
    >>> _ = p.write_text('[{"a": 1, "y": "u"}, {"a": 2.5, "b": "x", "y": "v"}]')
    >>> _records(p)
         a  y    b
    0  1.0  u  NaN
    1  2.5  v    x
    >>> _ = p.write_text('[{"a": 1}, [2]]')
    >>> _records(p)
    Traceback (most recent call last):
    prudent.errors.DataReadError: File '...t.json' holds a JSON array whose item 2 is [2], \
but each item must be one object such as {"column": value}.
    """
    with _text(path, encoding) as fh:
        items: Any = json.load(fh)
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            shown = json.dumps(item)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise DataReadError(
                f"File '{path}' holds a JSON array whose item {number} is {shown}, but each "
                'item must be one object such as {"column": value}.'
            )
    return pd.DataFrame(items)


def read_json(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    """The JSON Lines file or JSON array of objects at ``path``, whole, its values plain;
    text in ``encoding`` (JSON is UTF-8 by its standard, but Windows tools write UTF-16)."""
    if is_json_array(path, encoding):
        return _check_flat(_records(path, encoding), path)
    with _text(path, encoding) as fh:
        return _check_flat(_lines_frame([line for line in fh if line.strip()]), path)


def iter_json(path: Path, chunk_rows: int, encoding: str = "utf-8") -> Iterator[pd.DataFrame]:
    """The file at ``path`` in chunks of at most ``chunk_rows`` rows: a JSON Lines file
    streamed, a JSON array read whole (it cannot be parsed in parts) and then cut."""
    if is_json_array(path, encoding):
        frame = _check_flat(_records(path, encoding), path)
        if frame.empty:
            yield frame
        for start in range(0, len(frame), chunk_rows):
            yield frame.iloc[start : start + chunk_rows].reset_index(drop=True)
        return
    with _text(path, encoding) as fh:
        lines = (line for line in fh if line.strip())
        empty = True
        while batch := list(itertools.islice(lines, chunk_rows)):
            empty = False
            yield _check_flat(_lines_frame(batch), path)
    if empty:
        yield pd.DataFrame()


def _text(path: Path, encoding: str = "utf-8", errors: str = "strict") -> io.TextIOWrapper:
    """The JSON file at ``path`` as text in ``encoding``, a byte-order mark skipped."""
    return io.TextIOWrapper(
        open_bytes(path), encoding=python_encoding(path, encoding), errors=errors
    )


def _lines_frame(lines: list[str]) -> pd.DataFrame:
    """JSON Lines as a frame: pandas' fast parser, or for lines holding a whole number past
    64 bits (which it refuses) the json module, as for a JSON array of objects.

    Examples
    --------
    >>> _lines_frame(['{"a": 1, "y": "u"}\\n', '{"a": 2.5, "y": "v"}\\n'])
         a  y
    0  1.0  u
    1  2.5  v
    >>> _lines_frame(['{"a": 18446744073709551616}\\n'])["a"].tolist()
    [18446744073709551616]
    """
    try:
        return pd.read_json(io.StringIO("".join(lines)), lines=True, dtype=False)
    except ValueError as exc:
        if _OUT_OF_RANGE.search(str(exc)) is None:
            raise
    records = [json.loads(line) for line in lines]
    if not all(isinstance(record, dict) for record in records):
        raise ValueError("a line is not one JSON object")  # first_bad_line names it
    return pd.DataFrame(records)


def first_bad_line(path: Path, encoding: str = "utf-8") -> str | None:
    """Which line of a JSON Lines file is not one JSON object, and what it holds instead.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.jsonl"
    >>> _ = p.write_text('{"a": 1}\\n\\n5\\n')
    >>> first_bad_line(p)
    'line 3 holds 5, but each line must be one JSON object such as {"column": value}'
    """
    if is_json_array(path, encoding):
        return None
    with _text(path, encoding, errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as exc:
                return f"line {number} is not valid JSON ({exc.msg} at column {exc.colno})"
            except ValueError as exc:  # a whole number past Python's 4300 digits
                return f"line {number} {long_integer(exc) or exc}"
            if not isinstance(value, dict):
                shown = line.strip() if len(line.strip()) <= 40 else line.strip()[:37] + "..."
                return (
                    f"line {number} holds {shown}, but each line must be one JSON object such "
                    'as {"column": value}'
                )
    return None


def _check_flat(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Refuse JSON values that are objects or lists: a column must hold plain values."""
    nested_cells(frame, f" of '{path}'", "nested JSON")
    return frame
