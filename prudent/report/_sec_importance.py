"""The report's "what the model relies on" section: permutation importance on the locked test."""

from __future__ import annotations

from prudent._format import signed
from prudent.bundle._trust_records import ColumnImportance, Importance
from prudent.report._evidence import Evidence, need
from prudent.report._html import Html, Section, fmt, table
from prudent.report._plots import NEUTRAL, figure_html, hbars, new_figure

__all__ = ["IMPORTANCE_HEADERS", "importance_rows", "importance_section"]

IMPORTANCE_HEADERS = ("column", "log loss rise", "± sd", "balanced accuracy drop")
"""The columns of the importance table, in the report and in ``prudent show``."""


def importance_rows(found: Importance, top: int | None = None) -> list[list[str]]:
    """The importance table's rows, most important first (``top`` of them when given).

    Examples
    --------
    >>> importance_rows(Importance([ColumnImportance("age", 0.1234, 0.01, 0.05)], 100, 5))
    [['age', '+0.123', '0.010', '+0.050']]
    """
    return [
        [
            c.column,
            signed(c.log_loss_increase),
            fmt(c.log_loss_sd),
            signed(c.balanced_accuracy_drop),
        ]
        for c in found.columns[:top]
    ]


def _figure(columns: list[ColumnImportance], top: int = 15) -> Html:
    shown = columns[:top]
    fig, ax = new_figure(6.4, 0.4 + 0.3 * max(len(shown), 3))
    hbars(ax, [c.column for c in shown], [c.log_loss_increase or 0.0 for c in shown], NEUTRAL)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("rise in locked-test log loss when the column is shuffled")
    alt = "Bar chart of permutation importance: " + ", ".join(
        f"{c.column} {signed(c.log_loss_increase)}" for c in shown
    )
    return figure_html(fig, alt)


def importance_section(ev: Evidence) -> Section:
    """How much worse the shipped model does on the locked test when a column is shuffled."""
    found = need(ev.fit.trust.importance, "trust.importance")
    columns = found.columns
    lead = ", ".join(
        f"{c.column!r} ({fmt(c.log_loss_increase)})"
        for c in columns[:3]
        if (c.log_loss_increase or 0.0) > 0
    )
    takeaway = (
        f"Shuffling one column at a time over {found.rows} locked-test rows "
        f"({found.n_repeats} times each): the model relies most on {lead}."
        if lead
        else "Shuffling any single column leaves the locked-test log loss unchanged: no one "
        "column carries the predictions alone."
    )
    skipped = found.not_measured
    banners = [f"Not measured (time): {', '.join(map(str, skipped))}."] if skipped else []
    caption = "Rise in log loss and drop in balanced accuracy when the column is shuffled"
    numbers = [table(list(IMPORTANCE_HEADERS), importance_rows(found), caption)]
    return Section(
        "importance",
        "What the model relies on",
        takeaway,
        figures=[_figure(columns)] if columns else [],
        tables=numbers,
        banners=banners,
    )
