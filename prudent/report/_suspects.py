"""The label audit's most suspect rows, as a table narrow enough to read.

``label_issues.csv`` holds each flagged row's number, its given and likely label, the
score and every input column; a table of 750 columns was 160,000 px wide. The report
shows at most :data:`SHOWN_INPUTS` input columns, the most important first when the
bundle measured importance, and says how many it leaves to the file.
"""

from __future__ import annotations

import pandas as pd

from prudent.bundle._evidence import FitEvidence
from prudent.report._cells import cell
from prudent.report._html import Html, table

__all__ = ["SHOWN_INPUTS", "shown_inputs", "suspects_table"]

SHOWN_INPUTS = 12
"""The most input columns the suspect-labels table shows."""
_FIXED = ("row", "given", "likely", "score")
_SHOWN_ROWS = 50


def shown_inputs(inputs: list[str], importance: list[str], limit: int = SHOWN_INPUTS) -> list[str]:
    """The input columns to show: the most important first, then in the file's order.

    Examples
    --------
    >>> shown_inputs(["a", "b", "c", "d"], ["c", "z"], limit=3)
    ['c', 'a', 'b']
    """
    present = set(inputs)
    ranked = [c for c in importance if c in present]
    return list(dict.fromkeys([*ranked, *inputs]))[:limit]


def _rows(head: pd.DataFrame, columns: list[str]) -> list[list[str]]:
    digits = {"score": 3}
    return [
        [cell(v, digits.get(c, 4)) for c, v in zip(columns, r, strict=True)]
        for r in head[columns].itertuples(index=False)
    ]


def suspects_table(issues: pd.DataFrame, fit: FitEvidence) -> Html:
    """The most suspect rows of ``issues`` with their most telling input columns."""
    head = issues.head(_SHOWN_ROWS)
    fixed = [c for c in map(str, head.columns) if c in _FIXED]
    inputs = [c for c in map(str, head.columns) if c not in _FIXED]
    importance = fit.trust.importance
    ranked = [c.column for c in importance.columns] if importance else []
    shown = shown_inputs(inputs, ranked)
    flagged = max(fit.label_audit.n_suspect, len(issues))  # the file may be cut
    title = f"Suspect labels (the {len(head)} most suspect of {flagged} flagged)"
    if len(shown) < len(inputs):
        order = "the most important" if ranked else "the first"
        title += (
            f"; {len(shown)} of {len(inputs)} input columns shown ({order}), "
            f"{len(inputs) - len(shown)} left out: {fit.label_audit.file} has them all"
        )
    columns = fixed + shown
    return table(columns, _rows(head.rename(columns=str), columns), title)
