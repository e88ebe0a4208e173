"""The input contract: one function turns rows as received into what the model reads.

:func:`validate_frame` is behind every face — ``Bundle.predict``, ``prudent predict``, the JSON
API and the V2 API (JSON and binary tensors) — so a row is accepted, or refused, the same way
everywhere. What each role accepts (:data:`ACCEPTS` says it in words, and the HTTP schemas
publish :func:`string_pattern` for strings):

- numeric: numbers below :data:`MAX_MAGNITUDE` (1e150) in size — beyond that, sums of squares
  overflow in the models — and numeric strings that write one (``"3"``, ``" -1.5e3 "``: up to
  150 digits, or up to 9 before an exponent of at most 140), also written with a currency
  sign, commas between thousands or a percent sign (``"$1,234.50"`` is 1234.5, ``"12.5%"``
  is 12.5: :mod:`prudent.data._formats`); booleans (as 1/0). An infinity
  (``inf``, ``1e999``) or a number as large as ``1e308`` is refused naming the column.
- boolean: booleans; 1/0 (numbers, or strings, ``"1.0"``/``"0.0"`` too); true/false, yes/no,
  t/f, y/n as strings in any case, spaces around allowed.
- datetime: date/time values, or ISO 8601 strings such as ``2024-01-31T12:00:00Z`` (or, in a
  column trained on dates written day and month first, such dates in the column's order). A
  date string writes its year in four digits and stands still: ``today``, ``now``, a time
  alone (``10:00``, which pandas dates on the day of reading) and a bare number (``-1``,
  ``20240131``, as a number or a string) are refused (:func:`~prudent.data._dates.fixed_date`).
- categorical and text: any string; a number or boolean is read as its text (``3.0`` → ``"3"``).

Missing values are allowed in every feature column (the preprocessing imputes each role: the
median plus a missing indicator for numbers and booleans, a ``__missing__`` category, an empty
text): ``None``/``null``, NaN, and the strings of :data:`MISSING_WORDS` in any case (``""``,
``NA``, ``N/A``, ``nan``, ``null``, ``None``…, the spellings pandas reads as missing in a CSV);
in a numeric, boolean or date/time column also the placeholders of :data:`PLACEHOLDERS`
(``?``, ``-``, ``unknown``…), which a training file may have held there (a column of numbers
and ``?`` is inferred numeric, with a notice). A model input absent from the table is missing
in every row (a notice names it); columns that are not model inputs are ignored (a notice
names the unknown ones), or refused with ``strict``.
Every value that cannot be read is reported at once, in :attr:`SchemaError.problems`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from prudent._json import plain_scalar
from prudent.data._dates import DateOrder, fixed_date, iso_date
from prudent.data._formats import COMMA_NUMBER, FORMATTED_NUMBER, comma_number, formatted_number
from prudent.data._input_columns import input_columns
from prudent.data._plain import (
    EXPECTED_TEXT,
    bytes_as_text,
    clipped,
    complex_columns,
    numpy_backed,
    text_flaw,
    text_names,
)
from prudent.data._schema import MISSING_WORDS, PLACEHOLDERS, ColumnSpec, Role, Schema
from prudent.errors import FieldProblem, SchemaError

__all__ = [
    "ACCEPTS",
    "MAX_MAGNITUDE",
    "MISSING_WORDS",
    "is_missing_word",
    "string_pattern",
    "validate_frame",
]

MAX_MAGNITUDE = 1e150
"""Numbers must be smaller than this in size (their squares must not overflow float64)."""
_NUMBER = (  # every string it matches is below 1e150 in size: 150 digits, or 9 times 1e140
    r"[+-]?(?:[0-9]{1,150}(?:\.[0-9]*)?|\.[0-9]+"
    r"|(?:[0-9]{1,9}(?:\.[0-9]*)?|\.[0-9]+)[eE](?:-[0-9]{1,3}|\+?[0-9]{1,2}|\+?1[0-3][0-9]|\+?140))"
)
_TRUE, _FALSE = ("true", "yes", "t", "y", "1", "1.0"), ("false", "no", "f", "n", "0", "0.0")
_MAX_PROBLEMS = 100

ACCEPTS: dict[Role, str] = {
    Role.numeric: (
        'a finite number, a numeric string such as "3.5" or "$1,234.50" or "12.5%", or '
        "true/false (1/0)"
    ),
    Role.boolean: "true/false, 1/0, or yes/no, true/false, t/f, y/n as strings in any case",
    Role.datetime: (
        'a date/time as an ISO 8601 string such as "2024-01-31T12:00:00Z" (with its year; '
        'not "today", "now", a time alone or a number)'
    ),
    Role.categorical: "any string (a number or boolean is read as its text)",
    Role.text: "any string (a number or boolean is read as its text)",
}
"""What each role accepts besides a missing value, in words (for errors and documentation)."""
_EXPECTED = {
    Role.numeric: "a number",
    Role.boolean: "a boolean (true/false, yes/no, 1/0)",
    Role.datetime: "a date/time (ISO 8601)",
}
_FINITE = "a finite number (not an infinity)"
_TOO_LARGE = "a number below 1e150 in size (larger ones overflow)"
_TOO_LONG = "a number of at most 150 digits, or 9 before an exponent up to e140"
_FIX = {
    Role.numeric: "should be numeric",
    Role.boolean: "should be boolean (true/false, yes/no, 1/0)",
    Role.datetime: "should be a date/time",
}


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(_any_case(w) for w in words)


def string_pattern(role: Role, decimal: str = ".") -> str | None:
    """The regular expression a string must match for a column of ``role`` (None: any string);
    a numeric column trained on decimal commas (``decimal=","``) takes them too.

    The same expression decides at predict time, so a published schema that carries it is
    exactly as strict as the model: missing spellings match it in every role.

    Examples
    --------
    >>> import re
    >>> bool(re.search(string_pattern(Role.boolean), " YES ")), string_pattern(Role.text)
    (True, None)
    """
    missing = _alternatives(MISSING_WORDS + PLACEHOLDERS)
    if role is Role.numeric:
        comma = f"{COMMA_NUMBER}|" if decimal == "," else ""
        return rf"^\s*(?:{comma}{_NUMBER}|{FORMATTED_NUMBER}|{missing})\s*$"
    if role is Role.boolean:
        return rf"^\s*(?:{_alternatives(_TRUE + _FALSE)}|{missing})\s*$"
    return None


_MISSING_RE = re.compile(rf"^\s*(?:{_alternatives(MISSING_WORDS)})\s*$")
_PLACEHOLDER_RE = re.compile(rf"^\s*(?:{_alternatives(PLACEHOLDERS)})\s*$")
_NUMBER_RE = re.compile(rf"^\s*{_NUMBER}\s*$")
_INFINITY = _alternatives(("inf", "infinity"))
_LOOSE_NUMBER_RE = re.compile(
    rf"^\s*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|{_INFINITY})\s*$"
)
_EXPONENT_OR_WORD = re.compile("[eEiI]")
"""In a loose number: an exponent (``1e999``) or an infinity (``inf``), not digits alone."""
_WORDS = {**dict.fromkeys(_TRUE, 1.0), **dict.fromkeys(_FALSE, 0.0)}


def is_missing_word(value: Any) -> bool:
    """Whether ``value`` is a string read as a missing value.

    Examples
    --------
    >>> [is_missing_word(v) for v in ("", " N/A", "null", "none", "0", None)]
    [True, True, True, True, False, False]
    """
    return isinstance(value, str) and _MISSING_RE.search(value) is not None


class _Bad(Exception):
    """A value that does not fit its column; carries what was expected."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def _finite(value: float) -> float:
    if math.isinf(value):
        raise _Bad(_FINITE)
    if abs(value) >= MAX_MAGNITUDE:
        raise _Bad(_TOO_LARGE)
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating | Decimal):  # Decimal: SQL, Parquet
        try:
            return _finite(float(value))
        except OverflowError:  # a whole number past the floats (JSON's 10**400): finite
            raise _Bad(_TOO_LARGE) from None
    if isinstance(value, str) and _NUMBER_RE.search(value):
        return float(value)
    if _is_placeholder(value):
        return math.nan
    marked = formatted_number(value) if isinstance(value, str) else None
    if marked is not None:  # '$1,234.50', '12.5%'
        return _finite(marked)
    if isinstance(value, str) and _LOOSE_NUMBER_RE.search(value):  # 1e999, or 1e300
        number = float(value)
        raise _Bad(
            _FINITE
            if math.isinf(number) and _EXPONENT_OR_WORD.search(value)  # not 5,000 digits
            else _TOO_LARGE
            if abs(number) >= MAX_MAGNITUDE
            else _TOO_LONG
        )
    raise _Bad(_EXPECTED[Role.numeric])


def _comma_number(value: Any) -> float:
    """:func:`_number` in a column a file wrote with decimal commas: ``"14,23"`` is 14.23,
    ``"1.065,5"`` 1065.5 and ``"1,234"`` 1.234, as that file's reader read them."""
    if isinstance(value, str):
        number = comma_number(value)
        if number is not None:
            return _finite(number)
    return _number(value)


def _boolean(value: Any) -> float:
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
        return float(value)
    if isinstance(value, str) and value.strip().lower() in _WORDS:
        return _WORDS[value.strip().lower()]
    if _is_placeholder(value):
        return math.nan
    raise _Bad(_EXPECTED[Role.boolean])


def _is_placeholder(value: Any) -> bool:
    """``?``, ``-``, ``unknown``… (:data:`PLACEHOLDERS`): no value, in a number, boolean or date."""
    return isinstance(value, str) and _PLACEHOLDER_RE.search(value) is not None


def _as_text(value: Any) -> str:
    # 3.0 and 3 are one category: a column read whole (with gaps, so float) and a chunk
    # read without gaps (so int) must give the same strings.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if text_flaw(value) is not None:  # refused on every face, as the service's log must
        raise _Bad(EXPECTED_TEXT)
    return str(value)


Problems = list[tuple[Any, Any, str]]
"""(row label, value received, what was expected) for each value that does not fit."""


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return (isinstance(value, float) and math.isnan(value)) or is_missing_word(value)


def _each(s: pd.Series, parse: Callable[[Any], Any], missing: Any) -> tuple[list[Any], Problems]:
    """Parse every value of an object column; missing values (and words) become ``missing``.

    A column of strings is parsed once per distinct string (a file's column repeats a few
    values over many rows); other columns value by value.
    """
    if len(s) > 1 and pd.api.types.infer_dtype(s, skipna=True) == "string":
        return _each_distinct(s, parse, missing)
    return _each_value(s, parse, missing)


def _each_value(
    s: pd.Series, parse: Callable[[Any], Any], missing: Any
) -> tuple[list[Any], Problems]:
    return _read(list(s.index), s.tolist(), parse, missing)


def _read(
    labels: list[Any], values: list[Any], parse: Callable[[Any], Any], missing: Any
) -> tuple[list[Any], Problems]:
    """Parse ``values`` one by one (row ``labels`` name the bad ones); missing ones become
    ``missing``."""
    out: list[Any] = []
    problems: Problems = []
    for label, value in zip(labels, values, strict=True):
        if _is_missing(value):
            out.append(missing)
            continue
        try:
            out.append(parse(value))
        except _Bad as bad:
            out.append(missing)
            problems.append((label, value, bad.expected))
    return out, problems


def _each_distinct(
    s: pd.Series, parse: Callable[[Any], Any], missing: Any
) -> tuple[list[Any], Problems]:
    """:func:`_each` of a column of strings (and missing values), parsing each distinct one."""
    codes, distinct = pd.factorize(s, use_na_sentinel=True)  # None, NaN: -1
    parsed, bad = _each_value(pd.Series(distinct, dtype=object), parse, missing)
    out = np.empty(len(distinct) + 1, dtype=object)
    out[:-1], out[-1] = parsed, missing
    problems: Problems = []
    if bad:
        expected = {int(i): why for i, _, why in bad}
        at = np.flatnonzero(np.isin(codes, list(expected)))
        values = s.to_numpy(dtype=object)
        problems = [(s.index[int(i)], values[i], expected[int(codes[i])]) for i in at]
    return list(out[codes]), problems


def _numbers(s: pd.Series, parse: Callable[[Any], float]) -> tuple[pd.Series, Problems]:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64"), []
    if pd.api.types.is_numeric_dtype(s):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        if parse in (_number, _comma_number) and not (np.abs(values) >= MAX_MAGNITUDE).any():
            return pd.Series(values, index=s.index), []  # the fast path: nothing to check
        if parse is _boolean and np.isin(values, (0.0, 1.0)).sum() == (values == values).sum():
            return pd.Series(values, index=s.index), []  # 0, 1 and missing: all valid
        s = pd.Series(values.astype(object), index=s.index)
    out, problems = _each(s, parse, np.nan)
    return pd.Series(out, index=s.index, dtype="float64"), problems


def _datetimes(s: pd.Series, order: DateOrder | None = None) -> tuple[pd.Series, Problems]:
    if pd.api.types.is_datetime64_any_dtype(s):  # aware times become naive UTC, as strings do
        return (s.dt.tz_convert("UTC").dt.tz_localize(None) if s.dt.tz is not None else s), []
    values = s.tolist()
    missing = np.fromiter(
        (_is_missing(v) or _is_placeholder(v) for v in values), dtype=bool, count=len(s)
    )
    # a bare number is no date, nor a string that a parser would date from the moment of
    # reading ('today', 'now', '10:00') or give a year nobody wrote ('-1', 'January')
    fixed = {v: fixed_date(v) for v in {v for v in values if isinstance(v, str)}}
    refused = np.fromiter(
        (isinstance(v, int | float | np.number) or not fixed.get(v, True) for v in values),
        dtype=bool,
        count=len(s),
    )
    given = s.astype(object).where(~missing & ~refused, None)
    if order is not None:  # day and month first, in the order the training column had
        given = given.map(lambda v: iso_date(v, order) if isinstance(v, str) else v)
    converted = pd.to_datetime(given, errors="coerce", format="mixed", utc=True)
    converted = converted.dt.tz_localize(None)
    bad = (converted.isna() & given.notna()).to_numpy() | (refused & ~missing)
    expected = _EXPECTED[Role.datetime]
    return converted, [(label, s[label], expected) for label in s.index[bad]]


def _strings(s: pd.Series) -> tuple[pd.Series, Problems]:
    out, problems = _each(s.astype(object), _as_text, None)
    return pd.Series(out, index=s.index, dtype=object), problems


def _parser(spec: ColumnSpec) -> Callable[[Any], float]:
    """How a numeric or boolean column's values are read."""
    if spec.role is Role.boolean:
        return _boolean
    return _comma_number if spec.decimal == "," else _number


def _coerce(spec: ColumnSpec, s: pd.Series) -> tuple[pd.Series, Problems]:
    if spec.role in (Role.numeric, Role.boolean):
        return _numbers(s, _parser(spec))
    if spec.role is Role.datetime:
        return _datetimes(s, spec.date_order)
    return _strings(s)


_SMALL_ROWS = 64
"""Frames of at most this many rows (a served request) are read value by value: for them the
per-column pandas work costs more than the values. Same values, dtypes and errors."""


def _listed(role: Role, s: pd.Series) -> list[Any] | None:
    """``s``'s values as :func:`_coerce` reads them, or None for a column only it reads
    (dates, dtypes other than numpy's and pandas' strings)."""
    dtype = s.dtype
    if role is Role.datetime or not isinstance(dtype, np.dtype | pd.StringDtype):
        return None
    if dtype.kind in "iuf" and role in (Role.numeric, Role.boolean):
        return list(s.to_numpy(dtype=np.float64).tolist())  # as _numbers reads them
    return list(s.tolist()) if dtype.kind in "biufO" else None


def _small_column(
    spec: ColumnSpec, labels: list[Any], values: list[Any]
) -> tuple[pd.Series | npt.NDArray[np.float64], Problems]:
    """:func:`_coerce` of a small frame's column given as ``values`` (numbers as an array)."""
    if spec.role in (Role.numeric, Role.boolean):
        numbers, problems = _read(labels, values, _parser(spec), math.nan)
        return np.array(numbers, dtype=np.float64), problems
    texts, problems = _read(labels, values, _as_text, None)
    return pd.Series(texts, dtype=object), problems  # object: DataFrame would infer pandas' str


def _sentence(name: str, role: Role, first: FieldProblem, n: int, rows: str) -> str:
    more = f" and {n - 1} more value(s)" if n > 1 else ""
    where = f"{first.received} ({rows} {first.row}){more}"
    if first.expected == _FINITE:
        return f"Column '{name}' holds an infinite number {where}, but inputs must be finite"
    if first.expected == _TOO_LARGE:
        return f"Column '{name}' holds {where}, too large to compute with (the limit is 1e150)"
    if first.expected == EXPECTED_TEXT:
        return f"Column '{name}' holds {where}, but inputs must be {EXPECTED_TEXT}"
    fix = "; use ISO 8601 such as 2024-01-31" if role is Role.datetime else ""
    return f"Column '{name}' {_FIX.get(role, 'is invalid')}, but holds {where}{fix}"


def _message(
    role_of: dict[str, Role], problems: list[FieldProblem], counts: dict[str, int], rows: str
) -> str:
    parts = [
        _sentence(name, role_of[name], next(p for p in problems if p.field == name), n, rows)
        for name, n in counts.items()
    ]
    head = "" if len(parts) == 1 else f"{len(parts)} columns hold values the model cannot read: "
    return (
        f"{head}{'; '.join(parts)}; fix or remove such values (null, empty or NA is missing)"
        f"{_header_hint(problems, rows)}."
    )


def _header_hint(problems: list[FieldProblem], rows: str) -> str:
    """`` (… repeats the header …)`` when two or more columns hold their own name in one row:
    files joined end to end, whose second header reads as a row.

    Examples
    --------
    >>> p = [FieldProblem("a", "a number", "'a'", 101), FieldProblem("b", "a number", "'b'", 101)]
    >>> _header_hint(p, "data row")
    '; data row 101 repeats the header (files joined end to end?): remove that line'
    >>> _header_hint(p[:1], "data row")
    ''
    """
    by_row: dict[Any, set[str]] = {}
    for p in problems:
        if p.received == repr(p.field):
            by_row.setdefault(p.row, set()).add(p.field)
    row = next((r for r, fields in by_row.items() if len(fields) >= 2), None)
    if row is None:
        return ""
    return f"; {rows} {row} repeats the header (files joined end to end?): remove that line"


def _refuse(schema: Schema, found: dict[str, Problems], rows: str) -> SchemaError:
    problems: list[FieldProblem] = []
    counts: dict[str, int] = {}
    for name, bad in found.items():
        counts[name] = len(bad)
        for label, value, expected in bad:
            row = int(label) if isinstance(label, int | np.integer) else str(label)
            problems.append(FieldProblem(name, expected, clipped(repr(plain_scalar(value))), row))
    role_of = {c.name: c.role for c in schema.features}
    message = _message(role_of, problems, counts, rows)
    return SchemaError(message, field=problems[0].field, problems=tuple(problems[:_MAX_PROBLEMS]))


def validate_frame(
    frame: pd.DataFrame, schema: Schema, *, strict: bool = False, rows: str = "row"
) -> tuple[pd.DataFrame, list[str]]:
    """Check a frame against ``schema`` and coerce it to the types the model expects.

    Parameters
    ----------
    frame
        Input rows; the target column may be present and is ignored.
    schema
        The schema recorded at fit time.
    strict
        Refuse columns that are not model inputs instead of ignoring them.
    rows
        How an error names a bad value's row, before its index label: ``"row"``; a file's
        rows, labelled from 1 after the header, are ``"data row"`` (``prudent predict``).

    Returns
    -------
    tuple of (pandas.DataFrame, list of str)
        The coerced feature columns in schema order, and notices (unknown columns ignored,
        inputs absent).

    Raises
    ------
    SchemaError
        Values that cannot be read as their column's role (every one in ``problems``),
        duplicated names, no model input at all, or extra columns with ``strict``.

    Examples
    --------
    >>> from prudent.data import infer_schema
    >>> s = infer_schema(pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}), "y")
    >>> validate_frame(pd.DataFrame({"x": ["3"], "z": [1]}), s)[1]
    ["Column 'z' is not in the model's schema: ignored."]
    """
    frame = numpy_backed(text_names(frame))  # pd.DataFrame(X)'s 0, 1, 2: the fit's "0", "1"…
    complex_columns(frame)
    columns = input_columns(list(frame.columns), schema, strict=strict)
    frame = bytes_as_text(frame, names=[n for n in schema.feature_names if n in frame.columns])
    small = len(frame) <= _SMALL_ROWS
    labels = list(frame.index) if small else []
    out: dict[str, pd.Series | npt.NDArray[Any]] = {}
    found: dict[str, Problems] = {}
    for spec in schema.features:
        if spec.name in columns.absent:
            s = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        else:
            s = frame[spec.name]
        values = _listed(spec.role, s) if small else None
        if values is not None:
            out[spec.name], problems = _small_column(spec, labels, values)
        else:
            coerced, problems = _coerce(spec, s)
            out[spec.name] = coerced.reset_index(drop=True)
        if problems:
            found[spec.name] = problems
    if found:
        raise _refuse(schema, found, rows)
    empty = [
        spec.name
        for spec in schema.features
        if spec.name not in columns.absent and _emptied(spec.missing_share, out[spec.name])
    ]
    notices = columns.notices()
    if empty:
        notices.append(
            f"Column(s) {empty} are empty in every one of the {len(frame)} rows, though the "
            "training rows mostly held them: treated as missing."
        )
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame))), notices


EMPTIED_ROWS = 5
"""Fewest rows in which an input missing in every one is said to be (see :func:`_emptied`)."""


def _emptied(trained_missing: float, values: Any) -> bool:
    """Whether an input the training rows mostly held (missing in fewer than half) is missing
    in every one of at least :data:`EMPTIED_ROWS` rows: a column a file gives but left empty
    (an export that lost it), which an absent column's notice would have named. By chance
    that happens once in 32 batches of 5 rows at most (half missing), and far less often for
    a column seldom missing."""
    if len(values) < EMPTIED_ROWS or trained_missing >= 0.5:
        return False
    return bool(pd.isna(pd.Series(values)).all())
