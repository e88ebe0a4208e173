"""``prudent show``'s notices: every notice the fit gave, a ``Caution`` beside the promises
it qualifies, and a warning marked as ``prudent fit`` marks it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from prudent.cli._show_layout import say

__all__ = ["CAUTION", "WARNING", "cautions", "show_notices", "show_warnings"]

WARNING = "WARNING"
"""How the fit starts a warning."""

CAUTION = "Caution:"
"""How the fit starts a caution on the figures it measured (a small locked test)."""


def _bullet(console: Console, notice: str) -> None:
    """One notice, its ``WARNING`` or ``Caution:`` in bold yellow."""
    for mark in (WARNING, CAUTION):
        if notice.startswith(mark):
            say(console, f"• {mark}", notice.removeprefix(mark).lstrip(), style="bold yellow")
            return
    say(console, "•", notice, style="")


def cautions(console: Console, notices: Sequence[str]) -> None:
    """Print the notices that qualify the locked test's figures (``Caution: …``)."""
    for notice in notices:
        if notice.startswith(CAUTION):
            _bullet(console, notice)


def show_notices(console: Console, notices: Sequence[str]) -> None:
    """Print every notice of the fit, warnings and cautions first, as one ``•`` item each."""
    if not notices:
        return
    first = [n for n in notices if n.startswith((WARNING, CAUTION))]
    warned = ", warnings and cautions first" if first else ""
    say(console, f"Notices of the fit ({len(notices)}{warned}):", "", style="bold")
    for notice in [*first, *[n for n in notices if n not in first]]:
        _bullet(console, notice)


def show_warnings(console: Console, notices: Sequence[str]) -> None:
    """Print the warnings among ``notices`` (``WARNING …``), one ``•`` item each."""
    for notice in notices:
        if notice.startswith(WARNING):
            _bullet(console, notice)
