"""The one converter from numpy and pandas values to plain, JSON-ready Python.

The manifest, the prediction log, the JSON and V2 answers and the prediction table's faces
all go through :func:`json_value`: numpy scalars unwrapped, arrays and tuples as lists,
NaN, infinities and pandas' missing markers as ``None``, dates as ISO text.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np

from prudent.errors import DataError

__all__ = ["json_value", "label_text", "long_integer", "plain_scalar"]

_PLAIN_TYPES = frozenset({str, int, bool, type(None)})


def _missing(value: Any) -> bool:
    """pandas' ``NA`` and ``NaT`` (checked by type name: this module imports no pandas)."""
    return type(value).__name__ in ("NAType", "NaTType")


def plain_scalar(value: Any) -> Any:
    """Return a numpy scalar as the Python scalar it holds; any other value unchanged.

    Unlike :func:`json_value`, NaN and infinities stay as they are (for messages that show
    the value received).

    Examples
    --------
    >>> import numpy as np
    >>> plain_scalar(np.float64("inf")), plain_scalar(np.int8(3)), plain_scalar("x")
    (inf, 3, 'x')
    """
    return value.item() if isinstance(value, np.generic) else value


def json_value(value: Any, where: str = "value") -> Any:
    """Return ``value`` as plain JSON data.

    Parameters
    ----------
    value
        A scalar, mapping, sequence, numpy array or numpy/pandas scalar.
    where
        What the value is, for the error message.

    Returns
    -------
    Any
        ``None``, bool, int, float, str, list or dict with string keys; NaN, infinities and
        missing markers become ``None``, dates ISO text.

    Raises
    ------
    DataError
        When a value has a type JSON cannot hold.

    Examples
    --------
    >>> import numpy as np
    >>> json_value({"a": np.int64(1), "b": [np.float32(0.5), float("nan")], 3: (True,)})
    {'a': 1, 'b': [0.5, None], '3': [True]}
    >>> json_value(np.array([[1.5, np.inf]]))
    [[1.5, None]]
    """
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return json_value(plain_scalar(value), where)
    if isinstance(value, enum.Enum):
        return json_value(value.value, where)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_value(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_value(v, where) for v in value]
    if _missing(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise DataError(
        f"{where} holds a value of type {type(value).__name__} ({value!r}), but only JSON "
        "values can be stored or sent (str, int, float, bool, None, lists, dicts); convert it "
        "first."
    )


def label_text(value: object) -> str:
    """Return the text form under which a class label is stored and compared.

    Parameters
    ----------
    value
        A label: a string, a number or a numpy scalar.

    Returns
    -------
    str
        ``str`` of the plain Python value.

    Examples
    --------
    >>> import numpy as np
    >>> label_text(np.int64(2)), label_text("yes"), label_text(np.str_("no"))
    ('2', 'yes', 'no')
    """
    value = plain_scalar(value)
    return value if type(value) is str else str(value)


_LONG_INTEGER = re.compile(
    r"limit \((\d+) digits\) for integer string conversion.*has (\d+) digits"
)
"""Python's refusal of a JSON integer longer than ``sys.get_int_max_str_digits()``."""


def long_integer(exc: BaseException | None) -> str | None:
    """What a JSON reader's refusal of a too long whole number says, in prudent's words
    (where it is comes before it), or None for any other error.

    Examples
    --------
    >>> import json
    >>> try:
    ...     json.loads("1" + "0" * 5000)
    ... except ValueError as exc:
    ...     long_integer(exc)
    'holds a whole number of 5001 digits, more than the 4300 a JSON number may have here; \
send it shorter (in a numeric field, at most 1e150 in size) or as a string'
    >>> long_integer(ValueError("other")) is None
    True
    """
    digits = _LONG_INTEGER.search(str(exc)) if isinstance(exc, ValueError) else None
    if digits is None:
        return None
    return (
        f"holds a whole number of {digits.group(2)} digits, more than the {digits.group(1)} "
        "a JSON number may have here; send it shorter (in a numeric field, at most 1e150 in "
        "size) or as a string"
    )
