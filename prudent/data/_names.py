"""Lists of column names as people give them: comma-separated, repeated, or both."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["split_names"]


def split_names(values: str | Iterable[str] | None) -> tuple[str, ...]:
    """Column names given as ``'a,b'``, ``['a', 'b']`` or repeated options, as one tuple.

    Examples
    --------
    >>> split_names("a,b")
    ('a', 'b')
    >>> split_names(["a", "b,c"])
    ('a', 'b', 'c')
    >>> split_names(None)
    ()
    """
    if values is None:
        return ()
    items = [values] if isinstance(values, str) else list(values)
    return tuple(p.strip() for v in items for p in str(v).split(",") if p.strip())
