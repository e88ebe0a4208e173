"""Rich output for the command line: a reporter with progress bars, and tables."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = ["RichReporter", "print_table"]


def print_table(
    console: Console, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Print a simple table with a title."""
    table = Table(title=title, title_justify="left", header_style="bold")
    for c in columns:
        table.add_column(str(c), overflow="fold")
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
        self.notices.append(message)
        style = "bold yellow" if message.startswith("WARNING") else "cyan"
        self.console.print(f"[{style}]•[/] {escape(message)}", highlight=False)

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Print a table."""
        print_table(self.console, title, columns, rows)

    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Any]:
        """A progress bar of ``total`` steps; yields ``advance(n=1)``."""
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        ) as bar:
            task = bar.add_task(description, total=total)

            def advance(n: int = 1) -> None:
                bar.advance(task, n)

            yield advance
