"""``prudent show``'s schema: the target and its classes in a sentence, then the input
columns — all of them for a narrow table, the first :data:`SCHEMA_ROWS` and a count per role
for a wide one (``prudent show --json`` lists every column)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console

from prudent.cli._show_layout import Col, draw, say

__all__ = ["SCHEMA_ROWS", "show_schema"]

SCHEMA_ROWS = 20
"""The most input columns the schema table lists; a wider table is summed up by role."""

CLASSES_LISTED = 10
"""The most classes named in the schema's sentence."""

_COLS = (
    Col("column", max_width=40),
    Col("role"),
    Col("dtype", drop=2),
    Col("distinct", justify="right"),
    Col("missing", justify="right", drop=1),
)


def classes_text(classes: list[Any]) -> str:
    """The classes in a sentence, the first :data:`CLASSES_LISTED` of a long list.

    Examples
    --------
    >>> classes_text(["no", "yes"])
    "2 classes: 'no', 'yes'"
    >>> classes_text(list(range(40)))[-47:]
    '… (the first 10; prudent show --json lists all)'
    """
    named = ", ".join(f"'{c}'" for c in classes[:CLASSES_LISTED])
    more = len(classes) > CLASSES_LISTED
    tail = f", … (the first {CLASSES_LISTED}; prudent show --json lists all)" if more else ""
    return f"{len(classes)} classes: {named}{tail}"


def _roles(columns: list[dict[str, Any]]) -> str:
    counts = Counter(str(c["role"]) for c in columns)
    return ", ".join(f"{n:,} {role}" for role, n in counts.most_common())


def show_schema(console: Console, manifest: dict[str, Any]) -> None:
    """Print the target, its classes and the input columns (see the module docstring)."""
    say(console, "Target:", f"'{manifest['target']}', {classes_text(manifest['classes'])}")
    columns = manifest["schema"]["columns"]
    shown = columns[:SCHEMA_ROWS]
    title = f"Schema ({len(columns):,} columns: {_roles(columns)})"
    if len(columns) > len(shown):
        title += f"; the first {len(shown)}, prudent show --json lists all"
    rows = [
        [
            str(c["name"]),
            str(c["role"]),
            str(c["dtype"]),
            f"{c['n_unique']:,}" if isinstance(c["n_unique"], int) else str(c["n_unique"]),
            f"{c['missing_share']:.1%}",
        ]
        for c in shown
    ]
    draw(console, title, _COLS, rows)
    if len(columns) > len(shown):
        say(console, "", f"… and {len(columns) - len(shown):,} more columns.")
