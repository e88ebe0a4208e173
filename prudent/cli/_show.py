"""Turn a bundle's typed evidence (``FitEvidence``, the objects the HTML report renders too)
into what ``prudent fit`` and ``prudent show`` print.

Everything fits an 80-column terminal, and no line is wider than 100 columns when piped
(``_show_layout``): a narrow table leaves out its least needed columns and says which,
``prudent show --json`` has every figure.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from prudent.bundle import FitEvidence
from prudent.bundle._evidence import UNKNOWN_CHOICE, LeaderboardRow, Metrics
from prudent.bundle._summary import METRICS, unknown_values_line
from prudent.cli._show_format import ci, fixed, p_text, verdict_text
from prudent.cli._show_layout import Col, draw, fits, say
from prudent.cli._show_notices import WARNING, cautions, show_notices, show_warnings
from prudent.cli._show_schema import show_schema
from prudent.cli._show_trust import show_accept, show_importance, show_trust

__all__ = ["show_decisions", "show_manifest"]

_METRIC_NAMES = {
    "accuracy": "accuracy",
    "balanced_accuracy": "bal. accuracy",
    "macro_f1": "macro F1",
    "log_loss": "log loss",
    "brier": "Brier",
    "ece": "ECE",
}
_NAME_WIDTH = 12
"""The width a model's name is cut to (with an ellipsis) when the locked test is narrow."""


def _vs(r: LeaderboardRow) -> str:
    vs = r.vs_baseline
    if vs is None:
        return "baseline"
    return f"{verdict_text(vs.verdict)} {p_text(vs.p_adjusted)}"


_LEADERBOARD = (
    Col("model", max_width=24),
    Col("bal. acc", justify="right"),
    Col("95% CI", drop=4),
    Col("acc", justify="right", drop=3),
    Col("F1", justify="right", drop=2),
    Col("log loss", justify="right"),
    Col("ECE", justify="right"),
    Col("fit", justify="right", drop=1),
    Col("vs baseline"),
)


def _leaderboard(console: Console, ev: FitEvidence, *, bullets: bool) -> None:
    """One line per model: balanced accuracy with its interval, the other metrics as points
    (``prudent show --json`` and the report have every interval, Brier and speed)."""
    rows = []
    for r in ev.leaderboard:
        m = r.metrics["balanced_accuracy"]
        rows.append(
            [
                r.name + ("*" if r.baseline else ""),
                fixed(m.point),
                f"{fixed(m.low)}–{fixed(m.high)}",
                *[fixed(r.metrics[k].point) for k in ("accuracy", "macro_f1", "log_loss", "ece")],
                f"{r.fit_seconds or 0:.1f}s",
                _vs(r),
            ]
        )
    title = (
        f"Leaderboard (out-of-fold; * baseline; vs the best baseline '{ev.best_baseline}': "
        "McNemar on accuracy, Holm-adjusted)"
    )
    draw(console, title, _LEADERBOARD, rows, compact=True)
    if bullets:
        _leaderboard_bullets(console, ev)


def _leaderboard_bullets(console: Console, ev: FitEvidence) -> None:
    """A loss to the baseline (a warning only where the fit gave one: a family that ought to
    beat it) and each family skipped, below the leaderboard."""
    for r in ev.leaderboard:
        vs = r.vs_baseline
        if vs and vs.verdict == "worse" and vs.message:
            warned = vs.message.startswith(WARNING)
            mark, style = ("• WARNING", "bold yellow") if warned else ("•", "")
            say(console, mark, vs.message.removeprefix(WARNING).lstrip(), style=style)
    for s in ev.skipped:
        say(console, "•", f"skipped {s.name}: {s.reason}", style="")


def _test_table(
    tm: dict[str, Metrics], names: list[str], lines: int, cut: int | None
) -> tuple[list[Col], list[list[str]]]:
    """The locked test's metrics as rows and models as columns (names cut to ``cut``)."""
    shown = [n if cut is None or len(n) <= cut else n[: cut - 1] + "…" for n in names]
    cols = [Col("metric"), *[Col(n, justify="right") for n in shown]]
    rows = [
        [_METRIC_NAMES[m], *[ci(tm[n][m], lines=lines) if m in tm[n] else "—" for n in names]]
        for m in METRICS
    ]
    return cols, rows


def _final(console: Console, ev: FitEvidence) -> None:
    chosen = ev.chosen or UNKNOWN_CHOICE
    say(console, "Chosen:", f"{chosen.primary} ({chosen.kind}) — {chosen.reason}")
    tm = ev.test_metrics
    names = sorted(tm, key=lambda n: n != "final")  # the shipped model first
    cols, rows = _test_table(tm, names, 1, None)
    for lines, cut in ((2, None), (2, _NAME_WIDTH)):
        if fits(console, cols, rows):
            break
        cols, rows = _test_table(tm, names, lines, cut)
    test_rows = ev.splits.test_rows if ev.splits else "?"
    title = f"Locked test set ({test_rows} rows, touched once; 95% intervals; final = shipped)"
    draw(console, title, cols, rows)


_PROMISES = (
    Col("promise", prose=True),
    Col("promised", prose=True),
    Col("measured", prose=True),
    Col("kept"),
)


def _promises(console: Console, ev: FitEvidence) -> None:
    promises = ev.trust.promises
    if promises:
        rows = [[p.name, p.promised, p.measured, p.kept_text] for p in promises]
        draw(console, "Promises, checked on the locked test set", _PROMISES, rows)
    cautions(console, ev.notices)


def show_decisions(console: Console, manifest: dict[str, Any]) -> None:
    """Print the accept threshold, the test decisions and the promises."""
    ev = FitEvidence.from_manifest(manifest)
    show_accept(console, ev, manifest.get("classes", []))
    _promises(console, ev)


def _label_audit(console: Console, ev: FitEvidence) -> None:
    audit = ev.label_audit
    cut = audit.listed is not None and audit.listed < audit.n_suspect
    where = f", the {audit.listed} most suspect in " if cut else " in "
    dropped = " (removed before fitting)" if audit.dropped else ""
    say(
        console,
        "Label audit:",
        f"{audit.n_suspect} suspect label(s){where}{audit.file}{dropped}",
        style="",
    )


def show_manifest(console: Console, manifest: dict[str, Any], *, notices: bool = False) -> None:
    """Print the schema, leaderboard, trust stage, chosen model, test metrics, promises
    (each ``Caution`` beside them), the unknown-values check and the label audit.

    ``notices=True`` ends with every notice of the fit, warnings first (``prudent show``);
    without it (``prudent fit``, which printed them as they came) the warnings alone are
    repeated, each beside what it qualifies.
    """
    ev = FitEvidence.from_manifest(manifest)
    show_schema(console, manifest)
    _leaderboard(console, ev, bullets=not notices)
    show_trust(console, ev, manifest.get("classes", []))
    show_importance(console, ev.trust.importance)
    _final(console, ev)
    _promises(console, ev)
    say(console, "", unknown_values_line(manifest))
    _label_audit(console, ev)
    if notices:
        show_notices(console, ev.notices)
    else:  # the leaderboard's warnings are below it
        losses = {r.vs_baseline.message for r in ev.leaderboard if r.vs_baseline}
        show_warnings(console, [n for n in ev.notices if n not in losses])
