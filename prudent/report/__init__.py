"""prudent.report: the self-contained HTML fit report of a bundle.

The report sits above :mod:`prudent.bundle` and reads only a bundle's manifest and
evidence files; ``prudent fit`` and ``prudent report`` store it as ``report.html``.
"""

from __future__ import annotations

from prudent.report._html import NO_HTML, Html, Section, esc, fmt, page, pct, table
from prudent.report._render import render_report

__all__ = ["NO_HTML", "Html", "Section", "esc", "fmt", "page", "pct", "render_report", "table"]
