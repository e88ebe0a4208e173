"""Data values and numbers written for people, in the report's tables and slice labels."""

from __future__ import annotations

import math
import numbers
import re

import pandas as pd

__all__ = ["cell", "number_text", "plain_reason"]

_NUMPY_SCALAR = re.compile(r"np\.(?:u?int|float)\d*\(([^()]*)\)")


def number_text(value: float, digits: int = 3) -> str:
    """Write a number in plain digits, as people read them.

    A whole number is written whole (``2011``, ``13,510``: thousands separated from 10,000);
    another to ``digits`` significant digits. Scientific notation only beyond 1e15 or below
    1e-3, a missing value (NaN) as ``missing``.

    Examples
    --------
    >>> number_text(2011.0), number_text(13510.0), number_text(6329.7), number_text(0.99874)
    ('2011', '13,510', '6330', '0.999')
    >>> number_text(float("nan")), number_text(2.5e-5), number_text(-0.0)
    ('missing', '2.5e-05', '0')
    >>> number_text(0.96, 4), number_text(79.30, 4), number_text(0.99987)
    ('0.96', '79.3', '1.000')
    """
    if math.isnan(value):
        return "missing"
    if math.isinf(value) or abs(value) >= 1e15 or 0 < abs(value) < 1e-3:
        return f"{value:.{digits}g}"
    decimals = 0 if value == 0 else max(0, digits - 1 - math.floor(math.log10(abs(value))))
    rounded = round(value, decimals)
    if value == int(value) or (rounded == int(rounded) and decimals == 0):
        whole = int(rounded)
        return f"{whole:,}" if abs(whole) >= 10_000 else str(whole)
    text = f"{rounded:,.{decimals}f}" if abs(rounded) >= 10_000 else f"{rounded:.{decimals}f}"
    trimmed = text.rstrip("0")
    return text if trimmed.endswith(".") else trimmed  # 0.9999 to 3 digits stays 1.000


def cell(value: object, digits: int = 4, limit: int = 200) -> str:
    """Write a data value for a table cell: numbers by :func:`number_text`, a missing value
    as ``missing``, text cut to ``limit`` characters.

    Examples
    --------
    >>> cell(None), cell(float("nan")), cell(2011.0), cell(31754.52342), cell("x" * 3, limit=2)
    ('missing', 'missing', '2011', '31,755', 'x…')
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return "missing"
    if isinstance(value, bool | str) or not isinstance(value, numbers.Real):
        text = str(value)
        return text if len(text) <= limit else text[: limit - 1] + "…"
    return number_text(float(value), digits)


def plain_reason(text: str) -> str:
    """Write numpy scalars in a message as the numbers they hold (``np.int64(1)`` → ``1``).

    An exception's message carries them since numpy 2 prints its scalars that way.

    Examples
    --------
    >>> plain_reason("only one class: np.int64(1); ratio np.float64(0.5)")
    'only one class: 1; ratio 0.5'
    """
    return _NUMPY_SCALAR.sub(r"\1", text)
