"""Rich output for the command line: a reporter with progress bars, and tables."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["RichReporter", "print_table"]


def print_table(
    console: Console,
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    compact: bool = False,
) -> None:
    """Print a simple table with a title; ``compact`` draws no cell borders or folds."""
    from rich import box

    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD,
        pad_edge=not compact,
        show_edge=not compact,
        padding=(0, 0) if compact else (0, 1),
    )
    for c in columns:
        table.add_column(str(c), overflow="ellipsis" if compact else "fold", no_wrap=compact)
    for r in rows:
        table.add_row(*[str(v) for v in r])
    console.print(table)


class RichReporter:
    """Shows notices as they come, tables, and rich progress bars (to stderr)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.notices: list[str] = []

    def notice(self, message: str) -> None:
        """Print and keep one notice."""
        from prudent.pipeline import is_warning  # the fit is loaded when it reports

        self.notices.append(message)
        style = "bold yellow" if is_warning(message) else "cyan"
        self.console.print(f"[{style}]•[/] {escape(message)}", highlight=False)

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Print a table."""
        print_table(self.console, title, columns, rows)

    def progress(self, description: str, total: int) -> AbstractContextManager[Any]:
        """A progress bar of ``total`` steps; yields ``advance(n=1)``."""
        from prudent.pipeline import rich_progress

        return rich_progress(self.console, description, total)
