"""The tokenizer of the rules' ``when`` language: a closed set of tokens, no ``eval``.

:func:`_tokenize` turns an expression into numbers, strings, backtick-quoted columns,
operators, punctuation and names; any other character is refused with a hint
(:data:`_HINTS`) at its position (:func:`_syntax`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from prudent.errors import RuleError

__all__: list[str] = []  # helpers of :mod:`prudent.models._rules_parse` only

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
