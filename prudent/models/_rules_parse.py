"""The recursive-descent parser of the rules' ``when`` language, with its type checks.

:func:`parse_expr` builds a tree of the node classes of :mod:`prudent.models._rules_expr`
from the tokens of :mod:`prudent.models._rules_tokens`; given the table's columns and their
kinds it refuses unknown columns (suggesting close names) and comparisons of mismatched
types (:func:`_type_problem`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from prudent.errors import RuleError
from prudent.models._rules_expr import (
    BoolOp,
    ColumnRef,
    Compare,
    Contains,
    Expr,
    In,
    Literal,
    Missing,
    Not,
    _kind_of,
    as_boolean,
    as_category,
)
from prudent.models._rules_tokens import _KEYWORDS, _syntax, _Token, _tokenize

__all__ = ["parse_expr"]

# column kind -> literal kinds it compares with; kinds that are ordered; kinds with `contains`
_COMPARABLE = {
    "numeric": {"number"}, "text": {"text"}, "categorical": {"text", "number", "boolean"},
    "boolean": {"boolean"}, "datetime": {"text"},
}  # fmt: skip
_ORDERED = frozenset({"numeric", "text", "datetime"})
_SEARCHABLE = frozenset({"text", "categorical"})
_BOOLEAN_HINT = '"yes"/"no", "true"/"false", "y"/"n", "t"/"f", 1/0'


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
        return self.check_types(node, start.pos)

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

    def check_types(self, node: Expr, pos: int) -> Expr:
        column = next(node.columns())
        kind = self.dtypes.get(column)
        if kind is None:
            return node
        problem = _type_problem(node, kind, self.dtypes)
        if problem:
            raise _syntax(self.text, pos, f"type mismatch: column {column!r} is {kind}, {problem}")
        return _typed(node, kind)


def _typed(node: Expr, kind: str) -> Expr:
    """``node`` told its column's ``kind``, its values written as that column reads them: a
    boolean's ``"yes"`` as ``True``, a categorical's ``3`` as ``"3"``."""
    if isinstance(node, Compare):
        rhs = node.rhs if isinstance(node.rhs, ColumnRef) else _as_kind(node.rhs, kind)
        return replace(node, rhs=rhs, kind=kind)
    if isinstance(node, In):
        return replace(node, values=tuple(_as_kind(v, kind) for v in node.values), kind=kind)
    return node


def _as_kind(value: Literal, kind: str) -> Literal:
    if kind == "boolean":
        return bool(as_boolean(value))
    return as_category(value) if kind == "categorical" else value


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
    return next(filter(None, (_literal_problem(value, kind) for value in values)), None)


def _literal_problem(value: Any, kind: str) -> str | None:
    """Why a column of ``kind`` cannot be compared with ``value``, or None when it can."""
    lit_kind = _kind_of(value)
    if kind == "boolean" and lit_kind != "boolean":
        if as_boolean(value) is not None:  # "yes", 0, 1: as the column reads them
            return None
        return (
            f"but is compared with the {lit_kind} {value!r}; compare it with true or false "
            f"(or a word it reads as one: {_BOOLEAN_HINT})"
        )
    if lit_kind not in _COMPARABLE[kind]:
        wanted = " or ".join(sorted(_COMPARABLE[kind]))
        return f"but is compared with the {lit_kind} {value!r}; compare it with a {wanted}"
    if kind == "datetime":
        try:
            pd.Timestamp(str(value))
        except ValueError:
            return f"but {value!r} is not a date; write dates as 'YYYY-MM-DD'"
    return None
