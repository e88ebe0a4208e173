"""Turn a bundle's manifest into the tables ``prudent fit`` and ``prudent show`` print."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from prudent.cli._console import print_table

__all__ = ["show_manifest"]

_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "log_loss", "brier", "ece")


def _ci(m: dict[str, float]) -> str:
    return f"{m['point']:.3f} ({m['low']:.2f}–{m['high']:.2f})"


def _leaderboard(console: Console, manifest: dict[str, Any]) -> None:
    rows = []
    for r in manifest["leaderboard"]:
        vs = r.get("vs_baseline")
        test = (f"{vs['test']}: p={vs['p_value']:.2g}, Holm p={vs['p_adjusted']:.2g} → "
                f"{vs['verdict'].replace('_', ' ')}" if vs else "baseline")
        rows.append([r["name"] + (" (baseline)" if r["baseline"] else ""),
                     *[_ci(r["metrics"][m]) for m in _METRICS],
                     f"{r['fit_seconds']:.2f}s", f"{r['predict_seconds_per_1k']:.3f}s", test])
    print_table(console, "Leaderboard (out-of-fold, 95% bootstrap CI) vs best baseline "
                f"'{manifest['best_baseline']}'",
                ["model", *_METRICS, "fit", "predict/1k rows", "significance vs baseline"], rows)
    for r in manifest["leaderboard"]:
        vs = r.get("vs_baseline")
        if vs and vs["verdict"] == "worse":
            console.print(f"[bold yellow]WARNING[/] {vs['message'].removeprefix('WARNING ')}",
                          highlight=False)
    for s in manifest.get("skipped", []):
        console.print(f"• skipped {s['name']}: {s['reason']}", highlight=False)


def _schema(console: Console, manifest: dict[str, Any]) -> None:
    rows = [[c["name"], c["role"], c["dtype"], c["n_unique"], f"{c['missing_share']:.1%}"]
            for c in manifest["schema"]["columns"]]
    print_table(console, f"Schema (target '{manifest['target']}', classes "
                f"{manifest['classes']})", ["column", "role", "dtype", "distinct", "missing"],
                rows)


def _final(console: Console, manifest: dict[str, Any]) -> None:
    chosen = manifest["chosen"]
    console.print(f"[bold]Chosen:[/] {chosen.get('primary')} ({chosen.get('kind')}) — "
                  f"{chosen.get('reason')}", highlight=False)
    tm = manifest["test_metrics"]
    rows = [[name, *[_ci(tm[name][m]) for m in _METRICS]] for name in tm]
    print_table(console, f"Locked test set ({manifest['splits']['test_rows']} rows, touched "
                "once)", ["model", *_METRICS], rows)


def _promises(console: Console, manifest: dict[str, Any]) -> None:
    promises = manifest.get("trust", {}).get("promises")
    if not promises:
        return
    rows = [[p["name"], p["promised"], p["measured"], "yes" if p.get("kept") else "NO"]
            for p in promises]
    print_table(console, "Promises, checked on the locked test set",
                ["promise", "promised", "measured", "kept"], rows)


def show_manifest(console: Console, manifest: dict[str, Any]) -> None:
    """Print the schema, leaderboard, chosen model, test metrics and promises."""
    _schema(console, manifest)
    _leaderboard(console, manifest)
    extra = manifest.get("trust", {}).get("show")
    if extra:
        for block in extra:
            print_table(console, block["title"], block["columns"], block["rows"])
    _final(console, manifest)
    _promises(console, manifest)
    audit = manifest.get("label_audit", {})
    console.print(f"Label audit: {audit.get('n_suspect', 0)} suspect label(s) in "
                  f"{audit.get('file')}" + (" (removed before fitting)" if audit.get("dropped")
                                            else ""), highlight=False)
