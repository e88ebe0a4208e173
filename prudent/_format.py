"""Numbers written for people, the same on every face: no signed zero (``-0.000``).

The report, ``prudent show`` and the fit's notices round a value to a few decimals; one
that rounds to zero is written without a sign, whichever side of zero it was.
"""

from __future__ import annotations

__all__ = ["fixed", "signed"]


def fixed(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` decimals, without the sign of a value that rounds to zero.

    Examples
    --------
    >>> fixed(0.12345), fixed(-0.0001), fixed(-0.25, 1)
    ('0.123', '0.000', '-0.2')
    """
    text = f"{x:.{digits}f}"
    return text.lstrip("-") if float(text) == 0 else text


def signed(x: float | None, digits: int = 3) -> str:
    """``x`` with its sign, no sign when it rounds to zero, and ``—`` for no value.

    Examples
    --------
    >>> signed(0.0412), signed(-0.0003), signed(-0.25, 2), signed(None)
    ('+0.041', '0.000', '-0.25', '—')
    """
    if x is None:
        return "—"
    text = f"{x:+.{digits}f}"
    return text[1:] if float(text) == 0 else text
