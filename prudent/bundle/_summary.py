"""What a bundle says about itself in Python: a one-line repr, a text summary, a notebook
card and the leaderboard as a table, all read from the manifest."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd

__all__ = ["METRICS", "leaderboard_frame", "one_line", "summary_html", "summary_text"]

METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "log_loss", "brier", "ece")
"""The metrics of the leaderboard and the locked test, in display order."""


def leaderboard_frame(manifest: dict[str, Any]) -> pd.DataFrame:
    """The out-of-fold leaderboard: one row per model, metric points with 95% bounds.

    Columns: ``model``, ``baseline``, each metric and its ``<metric>_low`` / ``<metric>_high``,
    ``fit_seconds``, ``predict_seconds_per_1k``, ``vs_baseline`` (the verdict of the
    significance test against the best baseline) and ``p_adjusted`` (Holm).
    """
    rows = []
    for r in manifest["leaderboard"]:
        vs = r.get("vs_baseline") or {}
        row: dict[str, Any] = {"model": r["name"], "baseline": bool(r["baseline"])}
        for m in METRICS:
            ci = r["metrics"][m]
            row |= {m: ci["point"], f"{m}_low": ci["low"], f"{m}_high": ci["high"]}
        row |= {
            "fit_seconds": r["fit_seconds"],
            "predict_seconds_per_1k": r["predict_seconds_per_1k"],
            "vs_baseline": vs.get("verdict", "baseline" if r["baseline"] else None),
            "p_adjusted": vs.get("p_adjusted"),
        }
        rows.append(row)
    return pd.DataFrame(rows)


def _test_of_chosen(manifest: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The locked-test metrics of the shipped model (``final`` in ``test_metrics``)."""
    tm = manifest.get("test_metrics") or {}
    name = "final" if "final" in tm else next(reversed(tm), "")
    return ("shipped model" if name == "final" else name), tm.get(name, {})


def one_line(manifest: dict[str, Any], version: str, path: object) -> str:
    """The bundle's ``repr``: target, classes, chosen model, locked-test accuracy, where."""
    chosen = manifest.get("chosen", {}).get("primary", "?")
    _, test = _test_of_chosen(manifest)
    acc = f", test accuracy {test['accuracy']['point']:.3f}" if "accuracy" in test else ""
    where = f", path='{path}'" if path is not None else ", unsaved"
    return (
        f"<prudent.Bundle {version}: target '{manifest['target']}', "
        f"{len(manifest['classes'])} classes, model {chosen}{acc}{where}>"
    )


def _promise_rows(manifest: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    kept = {True: "yes", False: "NO", None: "—"}
    return [
        (p["name"], p["promised"], p["measured"], kept[p.get("kept")])
        for p in manifest.get("trust", {}).get("promises") or []
    ]


def summary_text(manifest: dict[str, Any], version: str, path: object) -> str:
    """A plain-text summary: chosen model, locked-test metrics, promises and notices."""
    chosen = manifest.get("chosen", {})
    name, test = _test_of_chosen(manifest)
    lines = [
        one_line(manifest, version, path),
        f"Chosen: {chosen.get('primary')} ({chosen.get('kind')}) — {chosen.get('reason')}",
        f"Locked test ({manifest['splits']['test_rows']} rows, touched once), {name}:",
        *[
            f"  {m:<18} {test[m]['point']:.3f}  ({test[m]['low']:.3f}–{test[m]['high']:.3f})"
            for m in METRICS
            if m in test
        ],
        "Promises, checked on the locked test:",
        *[f"  [{k:>3}] {n}: promised {p}, measured {m}" for n, p, m, k in _promise_rows(manifest)],
        "Notices:",
        *[f"  • {n}" for n in manifest.get("notices", [])],
    ]
    return "\n".join(lines)


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    def cells(tag: str, values: tuple[str, ...]) -> str:
        return "".join(f"<{tag}>{html.escape(str(v))}</{tag}>" for v in values)

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return f"<table><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"


def summary_html(manifest: dict[str, Any], version: str, path: object) -> str:
    """The notebook card: the same content as :func:`summary_text`, as escaped HTML."""
    chosen = manifest.get("chosen", {})
    name, test = _test_of_chosen(manifest)
    metrics = [
        (m, f"{test[m]['point']:.3f}", f"{test[m]['low']:.3f}–{test[m]['high']:.3f}")
        for m in METRICS
        if m in test
    ]
    notices = "".join(f"<li>{html.escape(n)}</li>" for n in manifest.get("notices", []))
    return (
        f"<div class='prudent-bundle'><p><strong>{html.escape(one_line(manifest, version, path))}"
        f"</strong></p><p>Chosen: <code>{html.escape(str(chosen.get('primary')))}</code> "
        f"({html.escape(str(chosen.get('kind')))}) — {html.escape(str(chosen.get('reason')))}</p>"
        f"<p>Locked test ({manifest['splits']['test_rows']} rows, touched once), "
        f"{html.escape(name)}:</p>{_table(('metric', 'value', '95% interval'), metrics)}"
        f"<p>Promises, checked on the locked test:</p>"
        f"{_table(('promise', 'promised', 'measured', 'kept'), _promise_rows(manifest))}"
        f"<details><summary>Notices ({len(manifest.get('notices', []))})</summary>"
        f"<ul>{notices}</ul></details></div>"
    )
