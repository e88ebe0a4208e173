"""How ``prudent show`` writes its figures: no signed zero, no ``p=0``, no raw enum."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prudent._format import fixed as plain
from prudent._format import signed
from prudent.bundle._evidence import Interval

__all__ = ["ci", "fixed", "p_text", "pairs", "signed", "verdict_text"]

_VERDICT = {"better": "better", "not_better": "not better", "worse": "WORSE"}


def fixed(x: float | None, digits: int = 3) -> str:
    """``x`` as :func:`prudent._format.fixed` writes it, ``nan`` for no value.

    Examples
    --------
    >>> fixed(0.12345), fixed(-0.0001), fixed(None)
    ('0.123', '0.000', 'nan')
    """
    return "nan" if x is None else plain(x, digits)


def p_text(p: float | None) -> str:
    """A p-value as a reader takes it: two figures, e-notation below 0.001, and a bound
    where the test underflowed to zero.

    Examples
    --------
    >>> p_text(0.0412), p_text(1.0), p_text(3.1e-59), p_text(0.0), p_text(None)
    ('p=0.041', 'p=1', 'p=3.1e-59', 'p<1e-300', 'p=—')
    """
    if p is None:
        return "p=—"
    if p <= 0:
        return "p<1e-300"
    return f"p={p:.1e}" if p < 1e-3 else f"p={p:.2g}"


def verdict_text(verdict: str) -> str:
    """A comparison's verdict in words (``not_better`` → ``not better``).

    Examples
    --------
    >>> verdict_text("not_better"), verdict_text("worse")
    ('not better', 'WORSE')
    """
    return _VERDICT.get(verdict, verdict.replace("_", " "))


def pairs(values: Mapping[str, Any]) -> str:
    """``name value`` pairs for a sentence, where a dict's repr printed braces and quotes.

    Examples
    --------
    >>> pairs({"accept": 1177, "review": 173})
    'accept 1177, review 173'
    """
    return ", ".join(f"{k} {v}" for k, v in values.items()) or "none"


def ci(m: Interval, *, lines: int = 1) -> str:
    """A point and its 95% interval, on one line or the interval on a second.

    Examples
    --------
    >>> ci(Interval(0.456, 0.436, 0.477)), ci(Interval(0.456, 0.436, 0.477), lines=2)
    ('0.456 (0.436–0.477)', '0.456\\n0.436–0.477')
    """
    bounds = f"{fixed(m.low)}–{fixed(m.high)}"
    return f"{fixed(m.point)} ({bounds})" if lines == 1 else f"{fixed(m.point)}\n{bounds}"
