"""The expression tree of rules and its evaluation; the tokenizer and the parser that build it
are in :mod:`prudent.models._rules_tokens` and :mod:`prudent.models._rules_parse`.

No user text ever reaches ``eval``: the tokenizer knows a closed set of tokens, the parser
builds a small tree of the node classes below, and evaluation walks that tree with pandas.
Evaluation is three-valued: each node yields two masks, *surely true* and *surely false*;
rows in neither are unknown (a missing value, or values of different types).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

from prudent._typing import BoolArray

__all__ = ["BOOLEAN_WORDS", "DTYPE_KINDS", "Expr", "as_boolean", "as_category", "evaluate_expr"]

DTYPE_KINDS = frozenset({"numeric", "text", "categorical", "boolean", "datetime"})
"""The column kinds ``dtypes`` may name."""

BOOLEAN_WORDS: Mapping[str, bool] = {
    **dict.fromkeys(("true", "yes", "t", "y", "1", "1.0"), True),
    **dict.fromkeys(("false", "no", "f", "n", "0", "0.0"), False),
}
"""The strings a boolean column reads as true or false (in any case, spaces around allowed),
as :func:`prudent.data.validate_frame` reads them."""

Literal = bool | int | float | str
Masks = tuple[BoolArray, BoolArray]

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip


def _kind_of(value: object) -> str | None:
    if isinstance(value, bool | np.bool_):
        return "boolean"
    if isinstance(value, int | float | np.integer | np.floating):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dt.date | np.datetime64):
        return "datetime"
    return None


def as_boolean(value: object) -> bool | None:
    """``value`` as a boolean column reads it, or ``None`` when it reads as neither.

    Examples
    --------
    >>> [as_boolean(v) for v in (True, 0, 1.0, " Yes", "n", "maybe", 2, None)]
    [True, False, True, True, False, None, None, None]
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return BOOLEAN_WORDS.get(value.strip().lower())
    return None


def as_category(value: Literal) -> str:
    """``value`` as a categorical column reads it: its text, a whole number without ``.0``.

    Examples
    --------
    >>> [as_category(v) for v in ("FR", 3, 3.0, 2.5, True)]
    ['FR', '3', '3', '2.5', 'True']
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _booleans(column: pd.Series) -> pd.Series:
    """1.0 where ``column``'s values read as true, 0.0 as false, NaN elsewhere (missing, or
    not a boolean): a validated boolean column holds 1.0/0.0 already, a raw one may hold
    ``True``, ``"yes"``, ``1``…"""
    if is_numeric_dtype(column):  # the validated 1.0/0.0, bools, 1/0
        values = column.to_numpy(dtype=float, na_value=np.nan)
        ones_zeros = np.where((values == 0) | (values == 1), values, np.nan)
        return pd.Series(ones_zeros, index=column.index, dtype=float)
    read = [as_boolean(v) for v in column.to_numpy(dtype=object)]
    floats = [np.nan if b is None else float(b) for b in read]
    return pd.Series(floats, index=column.index, dtype=float)


def _categories(column: pd.Series) -> pd.Series:
    """``column`` with numbers and booleans as their text, as a categorical column reads
    them (a validated one holds text already)."""
    if isinstance(column.dtype, pd.StringDtype):
        return column
    values: npt.NDArray[np.object_] = column.to_numpy(dtype=object)
    text = [v if _kept_as_is(v) else as_category(v) for v in values]
    return pd.Series(text, index=column.index, dtype=object)


def _kept_as_is(value: Any) -> bool:
    """Whether a categorical cell is compared as it is: text, missing, or not a literal."""
    return isinstance(value, str) or _kind_of(value) is None or bool(pd.isna(value))


def _read(column: pd.Series, kind: str | None) -> pd.Series:
    """``column`` as the rules compare a column of ``kind`` (booleans as 1.0/0.0)."""
    if kind == "boolean":
        return _booleans(column)
    if kind == "categorical":
        return _categories(column)
    return column


def _literal(value: Literal, kind: str | None) -> Literal:
    """A checked literal as :func:`_read` reads its column: a boolean's as 1.0/0.0."""
    return float(value) if kind == "boolean" else value


class Expr:
    """A node of a parsed ``when`` expression."""

    def columns(self) -> Iterator[str]:
        """The column names this node reads."""
        yield from ()

    def masks(self, df: pd.DataFrame) -> Masks:
        """The rows where this node is surely true, and surely false."""
        raise NotImplementedError


@dataclass(frozen=True)
class ColumnRef:
    """A column on the right of a comparison."""

    name: str


@dataclass(frozen=True)
class BoolOp(Expr):
    """``a and b and …`` or ``a or b or …`` (Kleene logic)."""

    op: str
    parts: tuple[Expr, ...]

    def columns(self) -> Iterator[str]:
        for p in self.parts:
            yield from p.columns()

    def masks(self, df: pd.DataFrame) -> Masks:
        pairs = [p.masks(df) for p in self.parts]
        trues, falses = np.array([t for t, _ in pairs]), np.array([f for _, f in pairs])
        if self.op == "and":
            return np.all(trues, axis=0), np.any(falses, axis=0)
        return np.any(trues, axis=0), np.all(falses, axis=0)


@dataclass(frozen=True)
class Not(Expr):
    """``not a``: swaps true and false, leaves unknown unknown."""

    part: Expr

    def columns(self) -> Iterator[str]:
        yield from self.part.columns()

    def masks(self, df: pd.DataFrame) -> Masks:
        true, false = self.part.masks(df)
        return false, true


@dataclass(frozen=True)
class Compare(Expr):
    """``column <op> literal`` or ``column <op> column``."""

    column: str
    op: str
    rhs: Literal | ColumnRef
    kind: str | None = field(default=None, repr=False)
    """The column's kind when the rule was checked against the table (None: unchecked)."""

    def columns(self) -> Iterator[str]:
        yield self.column
        if isinstance(self.rhs, ColumnRef):
            yield self.rhs.name

    def masks(self, df: pd.DataFrame) -> Masks:
        left = _read(df[self.column], self.kind)
        if isinstance(self.rhs, ColumnRef):
            return _compare(left, self.op, _read(df[self.rhs.name], self.kind))
        return _compare(left, self.op, _literal(self.rhs, self.kind))


@dataclass(frozen=True)
class In(Expr):
    """``column in [..]`` or ``column not in [..]``."""

    column: str
    values: tuple[Literal, ...]
    negate: bool
    kind: str | None = field(default=None, repr=False)
    """The column's kind when the rule was checked against the table (None: unchecked)."""

    def columns(self) -> Iterator[str]:
        yield self.column

    def masks(self, df: pd.DataFrame) -> Masks:
        left = _read(df[self.column], self.kind)
        pairs = [_compare(left, "==", _literal(v, self.kind)) for v in self.values]
        true = np.any([t for t, _ in pairs], axis=0)
        comparable = np.any([t | f for t, f in pairs], axis=0)
        false = comparable & ~true
        return (false, true) if self.negate else (true, false)


@dataclass(frozen=True)
class Missing(Expr):
    """``column is missing`` or ``column is not missing``."""

    column: str
    negate: bool

    def columns(self) -> Iterator[str]:
        yield self.column

    def masks(self, df: pd.DataFrame) -> Masks:
        missing = np.asarray(pd.isna(df[self.column]), dtype=bool)
        return (~missing, missing) if self.negate else (missing, ~missing)


@dataclass(frozen=True)
class Contains(Expr):
    """``column contains "text"`` (case-sensitive substring)."""

    column: str
    text: str

    def columns(self) -> Iterator[str]:
        yield self.column

    def masks(self, df: pd.DataFrame) -> Masks:
        column = df[self.column]
        if isinstance(column.dtype, pd.StringDtype):  # fast path: every value is text
            found = column.str.contains(self.text, regex=False)
            true = found.to_numpy(dtype=bool, na_value=False)
            return true, ~np.asarray(column.isna(), dtype=bool) & ~true
        values = column.to_numpy(dtype=object)
        known = np.array([isinstance(v, str) for v in values], dtype=bool)
        true = np.array([isinstance(v, str) and self.text in v for v in values], dtype=bool)
        return true, known & ~true


def _compare(left: pd.Series, op: str, right: Literal | pd.Series) -> Masks:
    fn, n = _OPS[op], len(left)
    numeric = is_numeric_dtype(left) and not is_bool_dtype(left)
    if numeric and isinstance(right, pd.Series):
        numeric = is_numeric_dtype(right) and not is_bool_dtype(right)
    elif numeric:
        numeric = _kind_of(right) == "number"
    if numeric:
        a = left.to_numpy(dtype=float, na_value=np.nan)
        b = right.to_numpy(dtype=float, na_value=np.nan) if isinstance(right, pd.Series) else right
        known = ~np.isnan(a) & ~np.isnan(b)
        with np.errstate(invalid="ignore"):
            res = np.asarray(fn(a, b), dtype=bool)
        return res & known, ~res & known
    if isinstance(left.dtype, pd.StringDtype) and isinstance(right, str):
        known = ~np.asarray(left.isna(), dtype=bool)  # fast path: every value is text
        res = fn(left, right).to_numpy(dtype=bool, na_value=False)
        return res & known, ~res & known
    rhs: Any = right
    if is_datetime64_any_dtype(left) and isinstance(right, str):
        try:
            rhs = pd.Timestamp(right)
        except (ValueError, TypeError):
            return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    rvals = rhs.to_numpy(dtype=object) if isinstance(rhs, pd.Series) else [rhs] * n
    true, false = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for i, (a, b) in enumerate(zip(left.to_numpy(dtype=object), rvals, strict=True)):
        kind = _kind_of(a)
        if kind is None or kind != _kind_of(b) or pd.isna(a) or pd.isna(b):
            continue
        try:
            result = bool(fn(a, b))
        except TypeError:  # e.g. naive vs aware timestamps: unknown
            continue
        true[i], false[i] = result, not result
    return true, false


def evaluate_expr(expr: Expr, df: pd.DataFrame) -> Masks:
    """Evaluate ``expr`` on every row of ``df``: masks of rows surely true and surely false."""
    true, false = expr.masks(df)
    n = len(df)
    return np.broadcast_to(true, (n,)).copy(), np.broadcast_to(false, (n,)).copy()
