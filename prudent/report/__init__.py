"""prudent.report: the self-contained HTML fit report of a bundle.

The report sits above :mod:`prudent.bundle` and reads only a bundle's manifest and
evidence files; ``prudent fit`` and ``prudent report`` store it as ``report.html``.
:func:`render_report` and :func:`figure_seconds` (and with them matplotlib, for the plots)
are imported on first use: the service's pages use only the HTML helpers, and ``prudent
serve`` starts without matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prudent._lazy import lazy_getattr
from prudent.report._html import NO_HTML, Html, Section, esc, fmt, page, pct, table

if TYPE_CHECKING:
    from prudent.report._plots import figure_seconds
    from prudent.report._render import render_report

__all__ = [
    "NO_HTML",
    "Html",
    "Section",
    "esc",
    "figure_seconds",
    "fmt",
    "page",
    "pct",
    "render_report",
    "table",
]

__getattr__ = lazy_getattr(
    __name__,
    {"render_report": "prudent.report._render", "figure_seconds": "prudent.report._plots"},
)
