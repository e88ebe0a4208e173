"""Dates as people and spreadsheets write them: ``31/01/2024``, ``1/31/2024 08:15``, ``31.01.2024``.

ISO 8601 (``2024-01-31``) says which number is the month; a date written day and month first
does not, so a column's order is read once, at fit time, from its values
(:func:`date_order`: a first number above 12 is a day, a second above 12 is one), stored
with the column, and each such value is rewritten as ISO with that order before it is
parsed (:func:`iso_date`), at fit and at prediction alike. Parsing each value on its own
would read ``05/01/2024`` as May and ``13/01/2024`` as January in the same column.

A date names its year in four digits and stands still: :func:`fixed_date` refuses what a
parser would fill in from the moment of reading (``today``, ``now``, a time alone such as
``10:00``) or from nowhere (``January`` as the year 1, ``-1`` as the year -1, ``2024`` or
``20240131`` as a bare number, which prudent never infers a date column from).
"""

from __future__ import annotations

import re
from typing import Literal

import pandas as pd

__all__ = ["DateOrder", "date_order", "fixed_date", "iso_date", "utc_offsets"]

DateOrder = Literal["mdy", "dmy"]
"""Month first (``01/31/2024``) or day first (``31/01/2024``)."""

_DAY_MONTH_YEAR = re.compile(r"^\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?=$|[ T])")
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
_SIGNED_OR_NUMBER = re.compile(r"^\s*(?:[+-]|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$)")
_OFFSET = re.compile(r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)\s*$")
"""A time of day followed by its offset from UTC: ``08:15+01:00``, ``08:15:00Z``."""
_RELATIVE = re.compile(r"\b(?:now|today|tonight|yesterday|tomorrow|ago)\b", re.IGNORECASE)


def date_order(values: pd.Series, share: float = 0.95) -> tuple[DateOrder, bool] | None:
    """The order of a column of dates written day and month first, and whether it is only
    assumed; None when it is no such column (fewer than ``share`` of its non-missing values
    are) or its values disagree (a day above 12 in both places).

    With no number above 12 in either place the order cannot be read: month first is
    assumed, as spreadsheets in the US write it, and the second value says so.

    Examples
    --------
    >>> date_order(pd.Series(["31/01/2024", "01/02/2024", None]))
    ('dmy', False)
    >>> date_order(pd.Series(["1/31/2024 08:15", "2/1/2024 17:00"]))
    ('mdy', False)
    >>> date_order(pd.Series(["01/02/2024", "03/04/2024"]))  # nothing above 12
    ('mdy', True)
    >>> date_order(pd.Series(["13/01/2024", "01/13/2024"])) is None  # both orders: no dates
    True
    >>> date_order(pd.Series(["2024-01-31", "2024-02-01"])) is None  # ISO says its order
    True
    """
    text = values.dropna().astype(str)
    if text.empty:
        return None
    parts = text.str.extract(_DAY_MONTH_YEAR)
    found = parts[0].notna()
    if found.mean() < share:
        return None
    first, second = (parts.loc[found, k].astype(int) for k in (0, 2))
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    if (day_first and month_first) or bool((first > 31).any()) or bool((second > 31).any()):
        return None
    return ("dmy" if day_first else "mdy"), not (day_first or month_first)


def iso_date(text: str, order: DateOrder) -> str:
    """``text`` with its leading day-month-year date rewritten as ISO 8601 in ``order``; any
    other text unchanged (a month above 12 stays, to be refused where it is parsed).

    Examples
    --------
    >>> iso_date("31.01.2024 08:15", "dmy"), iso_date("1/31/2024", "mdy")
    ('2024-01-31 08:15', '2024-01-31')
    >>> iso_date("2024-01-31", "dmy")
    '2024-01-31'
    """
    found = _DAY_MONTH_YEAR.match(text)
    if found is None:
        return text
    a, _, b, year = found.groups()
    month, day = (a, b) if order == "mdy" else (b, a)
    return f"{year}-{int(month):02d}-{int(day):02d}{text[found.end() :]}"


def fixed_date(text: str) -> bool:
    """Whether ``text`` may be read as a date: it writes its year in four digits, it is no
    number (signed, or digits alone) and it names no day relative to the moment of reading.

    What a parser does with the rest is its own business (``2024-13-01`` is still refused
    there); what this refuses, pandas would turn into a date that depends on the day the
    value is read (``today``, ``now``, ``10:00``) or into a year nobody wrote.

    Examples
    --------
    >>> [fixed_date(t) for t in ("2024-01-31T10:00Z", "31/01/2024", "Jan 31, 2024")]
    [True, True, True]
    >>> [fixed_date(t) for t in ("today", "now", "10:00", "January", "24-01-31")]
    [False, False, False, False, False]
    >>> [fixed_date(t) for t in ("-1", "0", "2024", "20240131", "-2024-01-31")]
    [False, False, False, False, False]
    >>> fixed_date("2024-01-31 tomorrow")
    False
    """
    return (
        _YEAR.search(text) is not None
        and _SIGNED_OR_NUMBER.search(text) is None
        and _RELATIVE.search(text) is None
    )


def utc_offsets(values: pd.Series, sample: int = 2000) -> tuple[str, list[str]] | None:
    """A value of a date column written with its offset from UTC, and the distinct offsets
    among the first ``sample`` values; None when no value has one.

    Such times are read in UTC at fit and at prediction alike (``08:15+01:00`` is 07:15), so
    their hour, and near midnight their day, are UTC's, not the local clock's.

    Examples
    --------
    >>> utc_offsets(pd.Series(["2024-03-01T08:15+01:00", "2024-07-01 08:15:00+02:00", None]))
    ('2024-03-01T08:15+01:00', ['+01:00', '+02:00'])
    >>> utc_offsets(pd.Series(pd.to_datetime(["2024-03-01 08:15"]).tz_localize("Europe/Paris")))
    ('2024-03-01 08:15:00+01:00', ['Europe/Paris'])
    >>> utc_offsets(pd.Series(["2024-03-01 08:15", "2024-03-02"])) is None
    True
    """
    head = values.dropna().head(sample)
    if isinstance(head.dtype, pd.DatetimeTZDtype):
        return (str(head.iloc[0]), [str(head.dtype.tz)]) if len(head) else None
    found = head.astype(str).str.extract(_OFFSET, expand=False).dropna()
    if found.empty:
        return None
    return str(head[found.index[0]]), sorted(set(found))
