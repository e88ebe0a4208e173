"""Dates as people and spreadsheets write them: ``31/01/2024``, ``1/31/2024 08:15``, ``31.01.2024``.

ISO 8601 (``2024-01-31``) says which number is the month; a date written day and month first
does not, so a column's order is read once, at fit time, from its values
(:func:`date_order`: a first number above 12 is a day, a second above 12 is one), stored
with the column, and each such value is rewritten as ISO with that order before it is
parsed (:func:`iso_date`), at fit and at prediction alike. Parsing each value on its own
would read ``05/01/2024`` as May and ``13/01/2024`` as January in the same column.
"""

from __future__ import annotations

import re
from typing import Literal

import pandas as pd

__all__ = ["DateOrder", "date_order", "iso_date"]

DateOrder = Literal["mdy", "dmy"]
"""Month first (``01/31/2024``) or day first (``31/01/2024``)."""

_DAY_MONTH_YEAR = re.compile(r"^\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?=$|[ T])")


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
