"""``prudent show``'s layout: sentences wrapped at word boundaries and tables that fit the
terminal, neither wider than :data:`MEASURE` (a piped console is 160 columns wide).

A table too wide for the console leaves out its least needed columns, and its title says
which; numbers never wrap, and names are cut with an ellipsis rather than split.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["MEASURE", "Col", "draw", "fits", "heading", "measure", "say"]

MEASURE = 100
"""The widest ``prudent show`` draws a sentence or a table, however wide the console."""


def measure(console: Console) -> int:
    """The width to draw in: the console's, at most :data:`MEASURE`."""
    return min(console.width, MEASURE)


def _wrapped(text: str, width: int, indent: str) -> str:
    """``text`` wrapped at word boundaries, each paragraph's later lines indented."""
    return "\n".join(
        textwrap.fill(
            part,
            width=width,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        for part in text.split("\n")
    )


def say(console: Console, label: str, body: str, *, style: str = "bold") -> None:
    """Print ``label`` (styled) and ``body``, wrapped at word boundaries within the measure,
    later lines indented by two spaces."""
    head = f"{label} " if label else ""
    text = Text(_wrapped((head + body).rstrip(), measure(console), "  "))
    text.stylize(style, 0, len(head.rstrip()))
    console.print(text, highlight=False, crop=False, soft_wrap=True)


def heading(console: Console, text: str) -> None:
    """A table's title: italic, wrapped at word boundaries within the measure."""
    console.print(
        Text(_wrapped(text, measure(console), "  "), style="italic"),
        highlight=False,
        crop=False,
        soft_wrap=True,
    )


@dataclass(frozen=True)
class Col:
    """A table column: its header, alignment, and how it gives way when space is short.

    ``drop`` is its rank among the columns left out of a narrow table (1 goes first, 0
    never); ``prose`` wraps at word boundaries (else the cells never wrap); ``max_width``
    cuts longer cells with an ellipsis.
    """

    header: str
    justify: Literal["left", "right"] = "left"
    drop: int = 0
    prose: bool = False
    max_width: int | None = None


def _table(cols: Sequence[Col], rows: Sequence[Sequence[str]], compact: bool) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0) if compact else (0, 1),
        collapse_padding=True,
        header_style="bold",
    )
    for c in cols:
        table.add_column(
            c.header,
            justify=c.justify,
            no_wrap=not c.prose,
            overflow="fold" if c.prose else "ellipsis",
            max_width=c.max_width,
        )
    for r in rows:
        table.add_row(*r)
    return table


def _width(col: Col, cells: Sequence[str]) -> int:
    """The narrowest a column can be: its widest line, or its longest word when prose."""
    parts = [col.header, *cells]
    pieces = [w for p in parts for w in (p.split() if col.prose else p.split("\n"))]
    widest = max((cell_len(w) for w in pieces), default=0)
    return widest if col.max_width is None else min(widest, col.max_width)


def fits(
    console: Console, cols: Sequence[Col], rows: Sequence[Sequence[str]], *, compact: bool = False
) -> bool:
    """Whether the table of ``rows`` fits the console's measure with every column."""
    gap = 1 if compact else 2
    widths = [_width(c, [r[i] for r in rows]) for i, c in enumerate(cols)]
    return sum(widths) + gap * (len(cols) - 1) <= measure(console)


def _fitting(
    console: Console, cols: Sequence[Col], rows: Sequence[Sequence[str]], compact: bool
) -> tuple[Table, list[str]]:
    """The table with the fewest columns left out that fits, and the headers left out."""
    keep = list(range(len(cols)))
    order = sorted((i for i, c in enumerate(cols) if c.drop), key=lambda i: cols[i].drop)

    def kept() -> tuple[list[Col], list[list[str]]]:
        return [cols[i] for i in keep], [[r[i] for i in keep] for r in rows]

    left_out: list[str] = []
    while order and not fits(console, *kept(), compact=compact):
        gone = order.pop(0)
        keep.remove(gone)
        left_out.append(cols[gone].header or "notes")
    return _table(*kept(), compact), left_out


def draw(
    console: Console,
    title: str,
    cols: Sequence[Col],
    rows: Sequence[Sequence[str]],
    *,
    compact: bool = False,
) -> None:
    """Print ``title`` and a table of ``rows`` that fits the console's measure.

    Columns with a ``drop`` rank are left out, first rank first, until the table fits; the
    title then names them and how to see them.
    """
    table, left_out = _fitting(console, cols, rows, compact)
    if left_out:
        title += f" ({', '.join(left_out)} left out at this width; prudent show --json has all)"
    heading(console, title)
    console.print(table, width=measure(console), highlight=False)
