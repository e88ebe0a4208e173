"""How a fit tells people what it is doing: notices, tables and progress.

The pipeline talks to a :class:`Reporter`. The command line passes a rich one that prints;
the library (``prudent.fit``) a :class:`LoggingReporter`: every notice goes to the
``prudent`` logger, the ones that are truly warnings (a notice starting with ``WARNING``,
such as a model significantly worse than the baseline or many labels that look wrong) are
also raised as a :class:`~prudent.errors.PrudentWarning`, and a progress bar is drawn in
terminals and notebooks.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from prudent.errors import PrudentWarning

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["LoggingReporter", "QuietReporter", "Reporter", "is_warning", "rich_progress"]

logger = logging.getLogger("prudent")


class Reporter(Protocol):
    """The seam between the fit pipeline and whoever watches it."""

    def notice(self, message: str) -> None:
        """Say one thing worth knowing (a skip, a drop, a reduction)."""

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Show a small table."""

    def progress(self, description: str, total: int) -> AbstractContextManager[Any]:
        """A context manager yielding ``advance(n=1)`` for a bar of ``total`` steps."""


def is_warning(message: str) -> bool:
    """Whether a notice is a warning (it starts with ``WARNING``), not just information.

    Examples
    --------
    >>> is_warning("WARNING knn: significantly worse than the logistic baseline")
    True
    >>> is_warning("Skipped mlp: no time left in the budget.")
    False
    """
    return message.startswith("WARNING")


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

    def progress(self, description: str, total: int) -> AbstractContextManager[Any]:
        """A bar that draws nothing."""
        return _silent()


@contextmanager
def _silent() -> Iterator[Any]:
    def advance(n: int = 1) -> None:
        return None

    yield advance


@contextmanager
def rich_progress(console: Console, description: str, total: int) -> Iterator[Any]:
    """A rich progress bar of ``total`` steps on ``console``; yields ``advance(n=1)``."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


class LoggingReporter(QuietReporter):
    """The library's reporter: notices to ``logging`` and ``warnings``, a bar where one shows.

    Parameters
    ----------
    progress
        Draw progress bars on stderr: ``True``, ``False``, or ``None`` to draw them only in a
        terminal or a Jupyter notebook.

    Examples
    --------
    >>> import warnings
    >>> r = LoggingReporter(progress=False)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     r.notice("Skipped mlp: no time left.")
    ...     r.notice("WARNING knn: significantly worse than the logistic baseline")
    >>> [str(w.message) for w in caught]
    ['WARNING knn: significantly worse than the logistic baseline']
    >>> len(r.notices)
    2
    """

    def __init__(self, *, progress: bool | None = None) -> None:
        super().__init__()
        self._console = _stderr_console() if progress is not False else None
        if progress is None and self._console is not None:
            self._console = self._console if _live(self._console) else None

    def notice(self, message: str) -> None:
        """Keep ``message``, log it (INFO) and warn when it is a warning."""
        super().notice(message)
        logger.info(message)
        if is_warning(message):
            warnings.warn(message, PrudentWarning, stacklevel=2)

    def progress(self, description: str, total: int) -> AbstractContextManager[Any]:
        """A rich bar on stderr when bars are on, else one that draws nothing."""
        if self._console is None:
            return super().progress(description, total)
        return rich_progress(self._console, description, total)


def _live(console: Console) -> bool:
    """A terminal, or a notebook that can draw rich's live widgets."""
    if console.is_jupyter:
        import importlib.util

        return importlib.util.find_spec("ipywidgets") is not None
    return console.is_terminal


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)
