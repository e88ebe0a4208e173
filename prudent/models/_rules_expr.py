"""The expression language of rules: tokenizer, recursive-descent parser and evaluator.

No user text ever reaches ``eval``: the tokenizer knows a closed set of tokens, the parser
builds a small tree of the node classes below, and evaluation walks that tree with pandas.
Evaluation is three-valued: each node yields two masks, *surely true* and *surely false*;
rows in neither are unknown (a missing value, or values of different types).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

from prudent._typing import BoolArray
from prudent.errors import RuleError

__all__ = ["DTYPE_KINDS", "Expr", "evaluate_expr", "parse_expr"]

DTYPE_KINDS = frozenset({"numeric", "text", "categorical", "boolean", "datetime"})
"""The column kinds ``dtypes`` may name."""

Literal = bool | int | float | str
Masks = tuple[BoolArray, BoolArray]

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "missing", "contains", "true", "false"})
_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    |(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    |(?P<column>`[^`]+`)
    |(?P<op>==|!=|<=|>=|<|>)
    |(?P<punct>[()\[\],])
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)""",
    re.VERBOSE,
)
_HINTS = {
    ".": "attribute access ('.') is not allowed",
    "=": "'=' is not an operator; use '==' to compare",
    "&": "use 'and' instead of '&'",
    "|": "use 'or' instead of '|'",
    "!": "use 'not' or '!=' instead of '!'",
    '"': "unterminated string",
    "'": "unterminated string",
    "`": "unterminated or empty backtick-quoted column name",
}
# column kind -> literal kinds it compares with; kinds that are ordered; kinds with `contains`
_COMPARABLE = {
    "numeric": {"number"}, "text": {"text"}, "categorical": {"text", "number", "boolean"},
    "boolean": {"boolean"}, "datetime": {"text"},
}  # fmt: skip
_ORDERED = frozenset({"numeric", "text", "datetime"})
_SEARCHABLE = frozenset({"text", "categorical"})


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, column, op, punct, name, end
    value: Any
    pos: int
    text: str

    def is_kw(self, word: str) -> bool:
        return self.kind == "name" and str(self.value).lower() == word


def _syntax(text: str, pos: int, message: str) -> RuleError:
    return RuleError(f"{message} at position {pos + 1}:\n    {text}\n    {' ' * pos}^")


def _tokenize(text: str) -> list[_Token]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            char = text[pos]
            raise _syntax(text, pos, _HINTS.get(char, f"unexpected character {char!r}"))
        kind, raw = m.lastgroup or "", m.group()
        if kind == "number":
            value: Any = float(raw) if any(c in raw for c in ".eE") else int(raw)
            if isinstance(value, int) and abs(value) >= 2**63:  # beyond a column's int64
                value = float(value) if len(raw) < 300 else math.inf
            if not math.isfinite(value):
                raise _syntax(text, pos, f"the number {raw[:20]}… is too large")
        elif kind == "string":
            value = re.sub(r"\\(.)", r"\1", raw[1:-1])
        elif kind == "column":
            value = raw[1:-1]
        else:
            value = raw
        if kind != "space":
            tokens.append(_Token(kind, value, pos, raw))
        pos = m.end()
    tokens.append(_Token("end", None, len(text), ""))
    return tokens


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

    def columns(self) -> Iterator[str]:
        yield self.column
        if isinstance(self.rhs, ColumnRef):
            yield self.rhs.name

    def masks(self, df: pd.DataFrame) -> Masks:
        rhs = df[self.rhs.name] if isinstance(self.rhs, ColumnRef) else self.rhs
        return _compare(df[self.column], self.op, rhs)


@dataclass(frozen=True)
class In(Expr):
    """``column in [..]`` or ``column not in [..]``."""

    column: str
    values: tuple[Literal, ...]
    negate: bool

    def columns(self) -> Iterator[str]:
        yield self.column

    def masks(self, df: pd.DataFrame) -> Masks:
        pairs = [_compare(df[self.column], "==", v) for v in self.values]
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


def parse_expr(
    text: str,
    *,
    columns: Sequence[str] | None = None,
    dtypes: Mapping[str, str] | None = None,
) -> Expr:
    """Parse a ``when`` expression.

    Parameters
    ----------
    text
        The expression, for example ``age < 18 and country in ["FR", "DE"]``.
    columns
        The known column names; others are refused when given.
    dtypes
        Column name → kind; comparisons of mismatched types are refused when given.

    Returns
    -------
    Expr
        The parsed tree.

    Raises
    ------
    RuleError
        Naming the position and the expected token, an unknown column or a type mismatch.

    Examples
    --------
    >>> parse_expr("age >= 18 and not (country == 'FR')", columns=["age", "country"])
    BoolOp(op='and', parts=(Compare(column='age', op='>=', rhs=18), Not(part=Compare(...))))
    """
    try:
        return _Parser(text, columns, dtypes or {}).parse()
    except RecursionError:
        raise RuleError(
            f"The expression {text[:40]!r}… nests too deeply (parentheses or 'not'); write it "
            "with fewer levels."
        ) from None


class _Parser:
    def __init__(self, text: str, columns: Sequence[str] | None, dtypes: Mapping[str, str]):
        self.text, self.columns, self.dtypes = text, columns, dtypes
        self.tokens, self.i = _tokenize(text), 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def fail(self, expected: str, tok: _Token | None = None) -> RuleError:
        tok = tok or self.peek()
        found = "the end of the expression" if tok.kind == "end" else repr(tok.text)
        return _syntax(self.text, tok.pos, f"syntax error: expected {expected} but found {found}")

    def expect_punct(self, char: str) -> None:
        if self.peek().value != char or self.peek().kind != "punct":
            raise self.fail(repr(char))
        self.advance()

    def parse(self) -> Expr:
        if self.peek().kind == "end":
            raise self.fail("a condition such as age > 18")
        expr = self.or_()
        if self.peek().kind != "end":
            raise self.fail("'and', 'or' or the end of the expression")
        return expr

    def or_(self) -> Expr:
        return self.chain("or", self.and_)

    def and_(self) -> Expr:
        return self.chain("and", self.not_)

    def chain(self, word: str, sub: Callable[[], Expr]) -> Expr:
        parts = [sub()]
        while self.peek().is_kw(word):
            self.advance()
            parts.append(sub())
        return parts[0] if len(parts) == 1 else BoolOp(word, tuple(parts))

    def not_(self) -> Expr:
        if self.peek().is_kw("not"):
            self.advance()
            return Not(self.not_())
        if self.peek().kind == "punct" and self.peek().value == "(":
            self.advance()
            expr = self.or_()
            self.expect_punct(")")
            return expr
        return self.predicate()

    def predicate(self) -> Expr:
        start = self.peek()
        column = self.column("a column name, 'not' or '('")
        tok = self.advance()
        node: Expr
        if tok.kind == "op":
            node = Compare(column, tok.value, self.operand())
        elif tok.is_kw("in") or tok.is_kw("not"):
            if tok.is_kw("not") and not self.advance().is_kw("in"):
                raise self.fail("'in' after 'not'", self.tokens[self.i - 1])
            node = In(column, self.list_(), negate=tok.is_kw("not"))
        elif tok.is_kw("is"):
            negate = self.peek().is_kw("not")
            if negate:
                self.advance()
            if not self.advance().is_kw("missing"):
                raise self.fail("'missing'", self.tokens[self.i - 1])
            node = Missing(column, negate)
        elif tok.is_kw("contains"):
            text = self.advance()
            if text.kind != "string":
                raise self.fail("a quoted string after 'contains'", text)
            node = Contains(column, text.value)
        else:
            raise self.fail("a comparison (==, !=, <, <=, >, >=, in, not in, is missing, "
                            f"contains) after column {column!r}", tok)  # fmt: skip
        self.check_types(node, start.pos)
        return node

    def column(self, expected: str) -> str:
        tok = self.advance()
        if tok.kind == "name" and self.peek().kind == "punct" and self.peek().value == "(":
            raise _syntax(self.text, tok.pos, f"function calls such as {tok.text}(...) are "
                          "not allowed; rules only compare columns with values")  # fmt: skip
        if tok.kind != "column" and (tok.kind != "name" or tok.value.lower() in _KEYWORDS):
            raise self.fail(expected, tok)
        name = str(tok.value)
        if self.columns is not None and name not in self.columns:
            close = difflib.get_close_matches(name, list(self.columns), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise RuleError(
                f"unknown column {name!r}.{hint} Known columns: {', '.join(self.columns)}. "
                "Quote names with spaces or that are keywords in backticks, e.g. `first name`."
            )
        return name

    def operand(self) -> Literal | ColumnRef:
        tok = self.peek()
        if tok.kind == "column" or (tok.kind == "name" and tok.value.lower() not in _KEYWORDS):
            return ColumnRef(self.column("a column name"))
        return self.literal()

    def literal(self) -> Literal:
        tok = self.advance()
        if tok.kind in ("number", "string"):
            return tok.value  # type: ignore[no-any-return]
        if tok.is_kw("true") or tok.is_kw("false"):
            return tok.is_kw("true")
        raise self.fail("a number, a quoted string, true or false", tok)

    def list_(self) -> tuple[Literal, ...]:
        self.expect_punct("[")
        values = [self.literal()]
        while self.peek().kind == "punct" and self.peek().value == ",":
            self.advance()
            values.append(self.literal())
        self.expect_punct("]")
        return tuple(values)

    def check_types(self, node: Expr, pos: int) -> None:
        column = next(node.columns())
        kind = self.dtypes.get(column)
        if kind is None:
            return
        problem = _type_problem(node, kind, self.dtypes)
        if problem:
            raise _syntax(self.text, pos, f"type mismatch: column {column!r} is {kind}, {problem}")


def _type_problem(node: Expr, kind: str, dtypes: Mapping[str, str]) -> str | None:
    if isinstance(node, Contains) and kind not in _SEARCHABLE:
        return "so 'contains' does not apply; use it on text columns"
    if isinstance(node, Compare) and node.op not in ("==", "!=") and kind not in _ORDERED:
        return f"which has no order, so {node.op!r} does not apply; use == or !="
    if isinstance(node, Compare) and isinstance(node.rhs, ColumnRef):
        other = dtypes.get(node.rhs.name, kind)
        same = {kind, other} <= {"text", "categorical"} or other == kind
        return None if same else f"but {node.rhs.name!r} is {other}; they cannot be compared"
    values: tuple[Any, ...] = ()
    if isinstance(node, In):
        values = node.values
    elif isinstance(node, Compare):
        values = (node.rhs,)
    for value in values:
        lit_kind = _kind_of(value)
        if lit_kind not in _COMPARABLE[kind]:
            wanted = " or ".join(sorted(_COMPARABLE[kind]))
            return f"but is compared with the {lit_kind} {value!r}; compare it with a {wanted}"
        if kind == "datetime":
            try:
                pd.Timestamp(str(value))
            except ValueError:
                return f"but {value!r} is not a date; write dates as 'YYYY-MM-DD'"
    return None
