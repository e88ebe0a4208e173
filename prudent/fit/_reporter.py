"""How a fit tells people what it is doing: notices, tables and progress.

The pipeline talks to a :class:`Reporter`; the command line passes a rich one with
progress bars, the library a quiet one that only keeps the notices.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

__all__ = ["QuietReporter", "Reporter"]


class Reporter(Protocol):
    """The seam between the fit pipeline and whoever watches it."""

    def notice(self, message: str) -> None:
        """Say one thing worth knowing (a skip, a drop, a reduction)."""

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Show a small table."""

    def progress(self, description: str, total: int) -> AbstractContextManager[Any]:
        """A context manager yielding ``advance(n=1)`` for a bar of ``total`` steps."""


class QuietReporter:
    """Keeps notices in :attr:`notices`; shows nothing.

    Examples
    --------
    >>> r = QuietReporter()
    >>> r.notice("hello")
    >>> r.notices
    ['hello']
    """

    def __init__(self) -> None:
        self.notices: list[str] = []

    def notice(self, message: str) -> None:
        """Record ``message``."""
        self.notices.append(message)

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Ignore tables."""

    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Any]:
        """A bar that draws nothing."""

        def advance(n: int = 1) -> None:
            return None

        yield advance
