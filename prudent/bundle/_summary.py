"""What a bundle says about itself in Python: a one-line repr, a text summary, a notebook
card and the leaderboard as a table, all read from the manifest's typed evidence."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

from prudent.bundle._evidence import UNKNOWN_CHOICE, FitEvidence, Metrics
from prudent.errors import BundleError

__all__ = [
    "METRICS",
    "leaderboard_frame",
    "one_line",
    "summary_html",
    "summary_text",
    "unknown_values_line",
]

METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "log_loss", "brier", "ece")
"""The metrics of the leaderboard and the locked test, in display order."""


def leaderboard_frame(evidence: FitEvidence) -> pd.DataFrame:
    """The out-of-fold leaderboard: one row per model, metric points with 95% bounds.

    Columns: ``model``, ``baseline``, each metric and its ``<metric>_low`` / ``<metric>_high``,
    ``fit_seconds``, ``predict_seconds_per_1k``, ``vs_baseline`` (the verdict of the
    significance test against the best baseline) and ``p_adjusted`` (Holm).
    """
    rows = []
    for r in evidence.leaderboard:
        vs = r.vs_baseline
        row: dict[str, Any] = {"model": r.name, "baseline": r.baseline}
        for m in METRICS:
            ci = r.metrics[m]
            row |= {m: ci.point, f"{m}_low": ci.low, f"{m}_high": ci.high}
        row |= {
            "fit_seconds": r.fit_seconds,
            "predict_seconds_per_1k": r.predict_seconds_per_1k,
            "vs_baseline": vs.verdict if vs else ("baseline" if r.baseline else None),
            "p_adjusted": vs.p_adjusted if vs else None,
        }
        rows.append(row)
    return pd.DataFrame(rows)


def _point(test: Metrics, metric: str) -> str:
    return f"{test[metric].point:.3f}"


def one_line(manifest: dict[str, Any], version: str, path: object) -> str:
    """The bundle's ``repr``: target, classes, chosen model, locked-test accuracy, where."""
    try:
        evidence = FitEvidence.from_manifest(manifest)
        chosen = (evidence.chosen or UNKNOWN_CHOICE).primary
        _, test = evidence.final_test
        acc = f", test accuracy {_point(test, 'accuracy')}" if "accuracy" in test else ""
    except BundleError:  # a repr must not fail: an unreadable evidence shows as such
        chosen, acc = "?", ", evidence unreadable"
    where = f", path='{path}'" if path is not None else ", unsaved"
    return (
        f"<prudent.Bundle {version}: target '{manifest['target']}', "
        f"{len(manifest['classes'])} classes, model {chosen}{acc}{where}>"
    )


def _metric_rows(test: Metrics) -> list[tuple[str, str, str]]:
    return [
        (m, f"{test[m].point:.3f}", f"{test[m].low:.3f}–{test[m].high:.3f}")
        for m in METRICS
        if m in test
    ]


def _promise_rows(evidence: FitEvidence) -> list[tuple[str, str, str, str]]:
    return [(p.name, p.promised, p.measured, p.kept_text) for p in evidence.trust.promises]


def summary_text(manifest: dict[str, Any], version: str, path: object) -> str:
    """A plain-text summary: chosen model, locked-test metrics, promises and notices."""
    ev = FitEvidence.from_manifest(manifest)
    chosen = ev.chosen or UNKNOWN_CHOICE
    name, test = ev.final_test
    lines = [
        one_line(manifest, version, path),
        f"Chosen: {chosen.primary} ({chosen.kind}) — {chosen.reason}",
        f"Locked test ({ev.splits.test_rows if ev.splits else '?'} rows, touched once), {name}:",
        *[f"  {m:<18} {point}  ({ci})" for m, point, ci in _metric_rows(test)],
        "Promises, checked on the locked test:",
        *[f"  [{k:>3}] {n}: promised {p}, measured {m}" for n, p, m, k in _promise_rows(ev)],
        unknown_values_line(manifest),
        "Notices:",
        *[f"  • {n}" for n in ev.notices],
    ]
    return "\n".join(lines)


def unknown_values_line(manifest: dict[str, Any]) -> str:
    """What the ``unknown_values`` flag checks, or that an older bundle cannot set it."""
    seen = manifest.get("training_values")
    if not seen:
        return (
            "Unknown values: not checked — this bundle was saved before prudent kept its "
            "training values (unknown_values stays empty and the review page marks nothing; "
            "refit to get them)."
        )
    c = seen["columns"]
    checked = f"{c['numeric']} numeric, {c['categorical']} categorical, {c['text']} text"
    flagged = ""
    if seen.get("test_rows"):
        flagged = f"; {seen['test_rows_flagged']} of {seen['test_rows']} locked-test rows flagged"
    return f"Unknown values: checked on {checked} column(s){flagged}."


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    def cells(tag: str, values: tuple[str, ...]) -> str:
        return "".join(f"<{tag}>{html.escape(str(v))}</{tag}>" for v in values)

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return f"<table><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"


def summary_html(manifest: dict[str, Any], version: str, path: object) -> str:
    """The notebook card: the same content as :func:`summary_text`, as escaped HTML."""
    ev = FitEvidence.from_manifest(manifest)
    chosen = ev.chosen or UNKNOWN_CHOICE
    name, test = ev.final_test
    notices = "".join(f"<li>{html.escape(n)}</li>" for n in ev.notices)
    return (
        f"<div class='prudent-bundle'><p><strong>{html.escape(one_line(manifest, version, path))}"
        f"</strong></p><p>Chosen: <code>{html.escape(chosen.primary)}</code> "
        f"({html.escape(chosen.kind)}) — {html.escape(chosen.reason)}</p>"
        f"<p>Locked test ({ev.splits.test_rows if ev.splits else '?'} rows, touched once), "
        f"{html.escape(name)}:</p>{_table(('metric', 'value', '95% interval'), _metric_rows(test))}"
        f"<p>Promises, checked on the locked test:</p>"
        f"{_table(('promise', 'promised', 'measured', 'kept'), _promise_rows(ev))}"
        f"<details><summary>Notices ({len(ev.notices)})</summary>"
        f"<ul>{notices}</ul></details></div>"
    )
