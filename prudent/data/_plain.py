"""Tables handed over in memory: column names as text, one plain value per cell.

A file read by prudent always has text names and plain cells; a ``DataFrame`` built in
Python need not: ``pd.DataFrame(X)`` names its columns 0, 1, 2…, and a column may hold
lists, dicts or complex numbers. :func:`plain_table` gives the names as the CSV of that
table would (``"0"``, ``"1"``…), so the schema, the bundle and every face read them alike,
and refuses, naming the column, a cell no model can read, where the fit failed deep inside
with a library's ``TypeError``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from typing import Any

import pandas as pd
import pyarrow as pa

from prudent.errors import SchemaError

__all__ = [
    "EXPECTED_TEXT",
    "SHOWN_CHARS",
    "binary_error",
    "bytes_as_text",
    "clipped",
    "complex_columns",
    "duplicated_names",
    "nested_cells",
    "not_utf8",
    "numpy_backed",
    "plain_table",
    "text_flaw",
    "text_names",
]

_NESTED = (dict, list, set, tuple, frozenset)
SHOWN_CHARS = 60
"""An error quotes at most this many characters of a value (a 10,000-word text in a numeric
column, a 400-digit number, a long nested value), its start then '...'."""


def clipped(text: str) -> str:
    """``text`` as an error quotes it: whole, or its start and '...' past :data:`SHOWN_CHARS`.

    Examples
    --------
    >>> clipped("abc"), len(clipped("x" * 100)), clipped("x" * 100)[-4:]
    ('abc', 60, 'x...')
    """
    return text if len(text) <= SHOWN_CHARS else f"{text[: SHOWN_CHARS - 3]}..."


def text_names(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its column names as text (``0`` → ``"0"``); the same frame when they
    already are.

    Raises
    ------
    SchemaError
        When two names read alike as text (``0`` and ``"0"``).

    Examples
    --------
    >>> text_names(pd.DataFrame([[1, 2]])).columns.tolist()
    ['0', '1']
    >>> text_names(pd.DataFrame([[1, 2]], columns=[0, "0"]))
    Traceback (most recent call last):
    prudent.errors.SchemaError: Columns 0 and '0' are both named '0' as text; rename one of them.
    """
    if isinstance(frame.columns, pd.MultiIndex):
        raise SchemaError(
            f"The frame's column names have {frame.columns.nlevels} levels (such as "
            f"{clipped(repr(frame.columns[0]))}), but prudent needs one name per column; "
            "join them first, e.g. frame.columns = ['_'.join(map(str, c)) for c in frame.columns]."
        )
    names = list(frame.columns)
    if all(isinstance(n, str) for n in names):
        return frame
    texts = [str(n) for n in names]
    twice = [t for t, count in Counter(texts).items() if count > 1]
    if twice:
        alike = [n for n in names if str(n) == twice[0]]
        raise SchemaError(
            f"Columns {' and '.join(repr(n) for n in alike)} are both named {twice[0]!r} as "
            "text; rename one of them.",
            field=twice[0],
        )
    return frame.set_axis(texts, axis=1)


def complex_columns(frame: pd.DataFrame, where: str = "") -> None:
    """Refuse a column of complex numbers, naming it: a model would read its real part alone
    (numpy drops the imaginary one with a warning). A look at the dtypes, no cell read.

    Examples
    --------
    >>> complex_columns(pd.DataFrame({"z": [1 + 2j]}))
    Traceback (most recent call last):
    prudent.errors.SchemaError: Column 'z' holds complex numbers such as (1+2j), but prudent \
reads real numbers; split it into a real and an imaginary column, or drop it.
    """
    for name, dtype in frame.dtypes.items():
        if getattr(dtype, "kind", "") == "c":
            first = complex(frame[name].iloc[0])
            raise SchemaError(
                f"Column '{name}'{where} holds complex numbers such as {first!r}, "
                "but prudent reads real numbers; split it into a real and an imaginary "
                "column, or drop it.",
                field=str(name),
            )


def nested_cells(
    frame: pd.DataFrame, where: str = "", described: str = "lists, dicts or sets"
) -> None:
    """Refuse a column holding lists, dicts, sets or tuples, or complex numbers, naming it
    (``where``: after its name, e.g. ``" of 'f.json'"``; ``described``: what such cells are
    to the reader of the message) and one such value.

    Examples
    --------
    >>> nested_cells(pd.DataFrame({"a": [1, 2], "tags": [["x"], ["y", "z"]]}))
    Traceback (most recent call last):
    prudent.errors.SchemaError: Column 'tags' holds lists, dicts or sets such as ['x'], but \
prudent needs one plain value per cell (number, text, boolean or date); flatten it into plain \
columns or drop it.
    """
    complex_columns(frame, where)
    for name in frame.columns:
        column = frame[name]
        if not pd.api.types.is_object_dtype(column):
            continue
        nested = column.map(lambda v: isinstance(v, _NESTED))
        if nested.any():
            example = clipped(repr(column[nested].iloc[0]))
            raise SchemaError(
                f"Column '{name}'{where} holds {described} such as {example}, but "
                "prudent needs one plain value per cell (number, text, boolean or date); "
                "flatten it into plain columns or drop it.",
                field=str(name),
            )


def plain_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A training table as the fit reads it: text names (:func:`text_names`), every cell a
    plain value (:func:`nested_cells`).

    Examples
    --------
    >>> plain_table(pd.DataFrame({0: [1.5], "y": ["a"]})).columns.tolist()
    ['0', 'y']
    """
    frame = text_names(frame)
    twice = duplicated_names(frame.columns)
    if twice:  # a file's reader refuses them too; each name must pick one column
        raise SchemaError(
            f"The table has duplicated column names {twice}; rename them so each is unique.",
            field=twice[0],
        )
    frame = numpy_backed(frame)
    nested_cells(frame)
    return bytes_as_text(frame)


def duplicated_names(names: Iterable[Any]) -> list[str]:
    """The names (as text) given to more than one column, sorted.

    Examples
    --------
    >>> duplicated_names(["b", "a", "b", 1, "1"])
    ['1', 'b']
    """
    counts = Counter(str(n) for n in names)
    return sorted(n for n, count in counts.items() if count > 1)


def numpy_backed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its Arrow-backed columns (``float64[pyarrow]``, ``pd.ArrowDtype``) as
    the numpy-backed ones a Parquet file gives; the same frame when it has none. Arithmetic
    on Arrow-backed numbers (``values % 1``) is not implemented in pandas.

    Examples
    --------
    >>> f = pd.DataFrame({"a": pd.array([1.5, None], dtype="float64[pyarrow]")})
    >>> numpy_backed(f)["a"].dtype
    dtype('float64')
    """
    arrow = [str(n) for n, dtype in frame.dtypes.items() if isinstance(dtype, pd.ArrowDtype)]
    if not arrow:
        return frame
    return frame.assign(**{n: pa.array(frame[n]).to_pandas().set_axis(frame.index) for n in arrow})


def bytes_as_text(
    frame: pd.DataFrame, where: str = "", names: Collection[str] | None = None
) -> pd.DataFrame:
    """``frame`` with the bytes in its object columns (of ``names``, by default all) decoded
    as UTF-8 text (the same frame when they hold none); a column holding bytes that are not
    UTF-8 is refused, naming it.

    Raises
    ------
    SchemaError
        When bytes that are not UTF-8 text are found.

    Examples
    --------
    >>> bytes_as_text(pd.DataFrame({"b": [b"yes", None]}))["b"].tolist()
    ['yes', None]
    >>> bytes_as_text(pd.DataFrame({"b": [b"\\x80"]}))
    Traceback (most recent call last):
    prudent.errors.SchemaError: Column 'b' holds binary data such as b'\\x80', not UTF-8 \
text; decode it into text or numbers, or drop it.
    """
    decoded = {}
    for name in frame.columns if names is None else names:
        column = frame[name]
        if not pd.api.types.is_object_dtype(column) or (
            pd.api.types.infer_dtype(column, skipna=True) in _NO_BYTES
        ):
            continue  # a column of strings (the JSON API's) is told in C, not scanned in Python
        raw = column.map(lambda v: isinstance(v, bytes | bytearray))
        if not raw.any():
            continue
        try:
            decoded[name] = column.where(~raw, column[raw].map(lambda v: bytes(v).decode()))
        except UnicodeDecodeError:
            raise binary_error(str(name), where, not_utf8(column[raw]) or b"") from None
    return frame.assign(**decoded) if decoded else frame


_NO_BYTES = frozenset(("string", "empty", "integer", "floating", "boolean", "datetime"))
"""Kinds of ``pandas.api.types.infer_dtype`` that hold no bytes ("bytes" and the mixed ones
may)."""


def not_utf8(values: Iterable[Any]) -> bytes | None:
    """The first of ``values`` that is bytes but not UTF-8 text, or None.

    Examples
    --------
    >>> not_utf8([None, b"ok", b"\\xff"]), not_utf8([b"ok"])
    (b'\\xff', None)
    """
    for value in values:
        if isinstance(value, bytes | bytearray):
            try:
                bytes(value).decode()
            except UnicodeDecodeError:
                return bytes(value)
    return None


def binary_error(name: str, where: str, value: bytes, drop: str = "drop it") -> SchemaError:
    """The error for a column of bytes that are not text, quoting ``value``."""
    return SchemaError(
        f"Column '{name}'{where} holds binary data such as {clipped(repr(value))}, not UTF-8 "
        f"text; decode it into text or numbers, or {drop}.",
        field=name,
    )


EXPECTED_TEXT = "text without NUL characters or unpaired UTF-16 surrogates"
"""What a text value may hold, in an error's words: a NUL cannot be stored in a PostgreSQL
text or JSON column (the service's log), a lone surrogate cannot be written as UTF-8."""


def text_flaw(value: object) -> str | None:
    """What is wrong with ``value`` as text every face of prudent can keep, or ``None``.

    Examples
    --------
    >>> text_flaw("café"), text_flaw(3), text_flaw("a\\x00b"), text_flaw("x\\ud800")
    (None, None, 'a NUL character (\\\\u0000)', 'an unpaired UTF-16 surrogate (\\\\ud800)')
    """
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        return "a NUL character (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"an unpaired UTF-16 surrogate (\\u{ord(value[exc.start]):04x})"
    return None
