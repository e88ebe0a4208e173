"""Numbers as spreadsheets and exports write them: ``$1,234.50``, ``12.5%``, ``-€3``.

One expression (:data:`FORMATTED_NUMBER`) decides what counts as such a number and one
function (:func:`formatted_number`) reads it, so schema inference at fit time, the input
contract at predict time and the patterns the HTTP schemas publish agree.

What is read: an optional sign, an optional currency sign (``$ € £ ¥``, the sign may also
follow it), digits grouped by commas in threes (``1,234,567``) or not grouped, an optional
decimal part after a point, an optional ``%`` or a currency sign after the number (``12.50 €``,
as much of Europe writes a price). The marks are dropped and the number kept as
written: ``12.5%`` is 12.5, ``$1,234.50`` is 1234.5. A comma is only ever a thousands
separator here (``3,5`` is no number), so a decimal comma is never misread.

A column that a file wrote with decimal commas (``14,23``; a point between groups of three
digits groups thousands: ``1.065,5``) is read with :data:`COMMA_NUMBER` and
:func:`comma_number` instead, at fit time by the CSV reader and afterwards by the input
contract, which the schema tells (``ColumnSpec.decimal``).
"""

from __future__ import annotations

import re
from collections.abc import Collection

import numpy as np
import pandas as pd

__all__ = [
    "CODE_SPELLING",
    "COMMA_NUMBER",
    "FORMATTED_NUMBER",
    "comma_number",
    "formatted_number",
    "formatted_share",
    "numbers_beside",
    "numbers_in_text",
]

CODE_SPELLING = re.compile(r"^[+-]?0[0-9]")
"""Numbers written with a leading zero (``01``, ``02134``): codes, whose spelling carries
meaning."""

_CURRENCY = "$€£¥"
FORMATTED_NUMBER = (  # at most 150 digits before the point, so below 1e150 in size
    rf"(?:[+-]?[{_CURRENCY}] ?|[{_CURRENCY}] ?[+-]|[+-])?"  # one sign, before or after a currency
    r"(?:[0-9]{1,3}(?:,[0-9]{3}){1,49}|[0-9]{1,150})(?:\.[0-9]*)?"
    rf"(?: ?[%{_CURRENCY}])?"
)
"""A number with a currency sign, thousands separators or a percent sign (a plain number too)."""
_FORMATTED_RE = re.compile(rf"^\s*{FORMATTED_NUMBER}\s*$")
_MARKS = re.compile(rf"[\s,%{_CURRENCY}]")
_MARKED = re.compile(rf"[,%{_CURRENCY}]")


COMMA_NUMBER = r"[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3}){1,49}(?:,[0-9]*)?|[0-9]{0,150},[0-9]+)"
"""A number written with a decimal comma (``14,23``, ``-,5``), or with points between groups
of three digits (``1.065``, ``1.065,5``): what a decimal-comma file's number looks like when
a point alone would not read it so."""
_COMMA_RE = re.compile(rf"^\s*{COMMA_NUMBER}\s*$")


def comma_number(text: str) -> float | None:
    """The number ``text`` writes with a decimal comma (or thousands points), else None.

    Examples
    --------
    >>> [comma_number(t) for t in ("14,23", " -0,5 ", "1.065", "1.065,5", ",5", "1,234")]
    [14.23, -0.5, 1065.0, 1065.5, 0.5, 1.234]
    >>> [comma_number(t) for t in ("1.5", "12", "1,2,3", "1.06,5", "abc", ",")]
    [None, None, None, None, None, None]
    """
    if not _COMMA_RE.match(text):
        return None
    return float(text.strip().replace(".", "").replace(",", "."))


def formatted_number(text: str) -> float | None:
    """The number ``text`` writes with currency, thousands or percent marks, else None.

    Examples
    --------
    >>> [formatted_number(t) for t in ("$1,234.50", " 12.5 %", "-€3", "$-0.5", "1,234,567")]
    [1234.5, 12.5, -3.0, -0.5, 1234567.0]
    >>> [formatted_number(t) for t in ("12.50 €", "1,200£", "5 %€")]
    [12.5, 1200.0, None]
    >>> [formatted_number(t) for t in ("3,5", "12,34", "$", "1.2.3", "abc")]
    [None, None, None, None, None]
    >>> [formatted_number(t) for t in ("+$-14,072.", "-$ +3", "+-3", "$+3")]  # one sign only
    [None, None, None, 3.0]
    """
    if _FORMATTED_RE.search(text) is None:
        return None
    return float(_MARKS.sub("", text))  # what the marks leave: [+-]digits[.digits]


def formatted_share(values: pd.Series) -> tuple[float, str | None]:
    """Of the distinct strings in ``values``, the share that are numbers written with marks,
    and one such string as an example (None when there is none).

    Examples
    --------
    >>> formatted_share(pd.Series(["$1,200", "$950", "$1,200", "n/a"]))
    (0.6666666666666666, '$1,200')
    >>> formatted_share(pd.Series(["1.5", "2"]))
    (0.0, None)
    """
    distinct = pd.Series(values.dropna().astype(str).unique())
    if distinct.empty:
        return 0.0, None
    marked = distinct.str.contains(_MARKED) & distinct.str.match(_FORMATTED_RE)
    example = str(distinct[marked].iloc[0]) if marked.any() else None
    return float(marked.mean()), example


def numbers_in_text(s: pd.Series, missing: Collection[str]) -> str | None:
    """One of the strings when ``s`` mixes numbers with strings that write plain numbers (a
    JSON Lines column of ``41`` and ``"41"``), else None: as categories, 41 and "41" would be
    two values.

    Strings in ``missing`` (lower-cased) are left aside; a string with a leading zero
    (``"02134"``) is a code, so the column is not numbers.

    Examples
    --------
    >>> numbers_in_text(pd.Series([41, "38", 52.5, "NA", None], dtype=object), {"na"})
    '38'
    >>> numbers_in_text(pd.Series([41, "02134"], dtype=object), ()) is None
    True
    >>> numbers_in_text(pd.Series(["41", "38"]), ()) is None  # text alone: the file's own type
    True
    """
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return None
    values = s.dropna()
    written = values.map(lambda v: isinstance(v, str)).astype(bool)
    numbers = values[~written]
    if not written.any() or numbers.empty or not numbers.map(_is_number).all():
        return None
    texts = values[written].str.strip()
    texts = texts[~texts.str.lower().isin(list(missing))]
    parsed = pd.to_numeric(texts, errors="coerce")
    if texts.empty or parsed.isna().any() or parsed.abs().eq(float("inf")).any():
        return None
    return None if texts.str.contains(CODE_SPELLING).any() else str(texts.iloc[0])


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def numbers_beside(s: pd.Series, missing: Collection[str]) -> dict[str, int]:
    """The few values that keep a column of numbers from being read as numbers, with counts.

    A column whose values are mostly numbers (at least half, with 20 distinct) but for a
    few other values (at most 5 distinct: ``n/k``, ``see notes``, ``true``) is read as
    categories, each number one of them; the fit says which values did it. Empty when the
    column is not such a column. Strings in ``missing`` (lower-cased) are left aside.

    Examples
    --------
    >>> numbers_beside(pd.Series([*map(str, range(40)), "n/k", "n/k"]), ())
    {'n/k': 2}
    >>> numbers_beside(pd.Series(["1", "2", "3", "XL"]), ())  # a few codes: categories
    {}
    """
    texts = s.dropna().astype(str).str.strip()  # True is 'True': no number
    counts = texts[~texts.str.lower().isin(list(missing))].value_counts()  # each value once
    numbers = pd.to_numeric(pd.Series(counts.index, dtype=object), errors="coerce").to_numpy()
    number = ~np.isnan(numbers)
    if counts[number].sum() < max(counts.sum() / 2, 1) or len(np.unique(numbers[number])) < 20:
        return {}
    counts = counts[~number]
    return {} if len(counts) > 5 else {str(k): int(v) for k, v in counts.items()}
