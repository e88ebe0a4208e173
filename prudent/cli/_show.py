"""Turn a bundle's manifest into the tables ``prudent fit`` and ``prudent show`` print."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from prudent.cli._console import print_table

__all__ = ["show_decisions", "show_manifest"]

_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "log_loss", "brier", "ece")


def _ci(m: dict[str, float]) -> str:
    return f"{m['point']:.3f} ({m['low']:.2f}–{m['high']:.2f})"


_VERDICT = {"better": "better", "not_better": "not better", "worse": "WORSE"}


def _vs(r: dict[str, Any]) -> str:
    vs = r.get("vs_baseline")
    if not vs:
        return "baseline"
    return f"{_VERDICT.get(vs['verdict'], vs['verdict'])} p={vs['p_adjusted']:.2g}"


def _leaderboard(console: Console, manifest: dict[str, Any]) -> None:
    """One line per model within 100 columns: balanced accuracy with its interval, the other
    metrics as points (``prudent show --json`` and the report have every interval, Brier and
    prediction speed)."""
    rows = []
    for r in manifest["leaderboard"]:
        m = r["metrics"]
        ba = m["balanced_accuracy"]
        rows.append(
            [
                r["name"] + ("*" if r["baseline"] else ""),
                f"{ba['point']:.3f} ({ba['low']:.2f}–{ba['high']:.2f})",
                *[f"{m[k]['point']:.3f}" for k in ("accuracy", "macro_f1", "log_loss", "ece")],
                f"{r['fit_seconds']:.1f}s",
                _vs(r),
            ]
        )
    print_table(
        console,
        f"Leaderboard (out-of-fold; * baseline; vs best baseline '{manifest['best_baseline']}', "
        "Holm-adjusted)",
        ["model", "bal. acc (95% CI)", "acc", "F1", "logloss", "ECE", "fit", "vs baseline"],
        rows,
        compact=True,
    )
    for r in manifest["leaderboard"]:
        vs = r.get("vs_baseline")
        if vs and vs["verdict"] == "worse":
            console.print(
                f"[bold yellow]WARNING[/] {vs['message'].removeprefix('WARNING ')}", highlight=False
            )
    for s in manifest.get("skipped", []):
        console.print(f"• skipped {s['name']}: {s['reason']}", highlight=False)


def _schema(console: Console, manifest: dict[str, Any]) -> None:
    rows = [
        [c["name"], c["role"], c["dtype"], c["n_unique"], f"{c['missing_share']:.1%}"]
        for c in manifest["schema"]["columns"]
    ]
    print_table(
        console,
        f"Schema (target '{manifest['target']}', classes {manifest['classes']})",
        ["column", "role", "dtype", "distinct", "missing"],
        rows,
    )


def _final(console: Console, manifest: dict[str, Any]) -> None:
    chosen = manifest["chosen"]
    console.print(
        f"[bold]Chosen:[/] {chosen.get('primary')} ({chosen.get('kind')}) — {chosen.get('reason')}",
        highlight=False,
    )
    tm = manifest["test_metrics"]
    rows = [[name, *[_ci(tm[name][m]) for m in _METRICS]] for name in tm]
    print_table(
        console,
        f"Locked test set ({manifest['splits']['test_rows']} rows, touched once)",
        ["model", *_METRICS],
        rows,
    )


def _promises(console: Console, manifest: dict[str, Any]) -> None:
    promises = manifest.get("trust", {}).get("promises")
    if not promises:
        return
    rows = [
        [
            p["name"],
            p["promised"],
            p["measured"],
            {True: "yes", False: "NO", None: "—"}[p.get("kept")],
        ]
        for p in promises
    ]
    print_table(
        console,
        "Promises, checked on the locked test set",
        ["promise", "promised", "measured", "kept"],
        rows,
    )


def _diversity(console: Console, d: dict[str, Any]) -> None:
    if not d:
        return
    models = d["models"]
    rows = [[m, *[f"{v:+.2f}" for v in d["error_correlation"][i]]] for i, m in enumerate(models)]
    print_table(
        console,
        "Error correlation of out-of-fold mistakes (lower = more diverse)",
        ["", *models],
        rows,
    )
    signal = d.get("unique_signal") or []
    if signal:
        keys = list(signal[0])
        print_table(
            console,
            "Unique signal: rows each model alone gets right",
            keys,
            [
                [r[k2] if not isinstance(r[k2], float) else f"{r[k2]:.3f}" for k2 in keys]
                for r in signal
            ],
        )


def _trust(console: Console, t: dict[str, Any], classes: list[Any]) -> None:
    if not t:
        return
    _diversity(console, t.get("diversity", {}))
    e = t.get("ensemble", {})
    if e:
        weights = ", ".join(f"{k}={v:.2f}" for k, v in e.get("members", {}).items())
        vs = e.get("vs_best_single", {})
        console.print(
            f"[bold]Ensemble:[/] {e.get('kind')} ({weights}); log loss gain over "
            f"{e.get('best_single')}: {e.get('gain_log_loss', 0):.4f} "
            f"({vs.get('test')}, p={vs.get('p_value', float('nan')):.3g})",
            highlight=False,
        )
    c, test = t.get("calibration", {}), t.get("test", {})
    if c:
        console.print(
            f"[bold]Calibration:[/] {c['method']} (chosen by CV log loss "
            f"{ {k2: round(v, 4) for k2, v in c['cv_log_loss'].items()} }); "
            f"ECE holdout {c['ece_before_holdout']:.3f} → {c['ece_after_holdout']:.3f}"
            f"; test {test.get('ece_raw', float('nan')):.3f} → "
            f"{test.get('ece_calibrated', float('nan')):.3f}",
            highlight=False,
        )
    o = t.get("ood", {})
    if o:
        auroc = test.get("ood", {}).get("test_auroc")
        extra = (
            f"; AUROC vs given OOD examples {auroc:.3f} (max-probability "
            f"{test['ood']['test_auroc_max_prob']:.3f})"
            if auroc is not None
            else ""
        )
        console.print(
            f"[bold]OOD:[/] detector {o['chosen']}, threshold {o['threshold']:.3f} "
            f"at {o['fpr_target']:.0%} FPR; test FPR "
            f"{test.get('ood', {}).get('test_fpr', float('nan')):.3f}{extra}",
            highlight=False,
        )
    _accept(console, t, classes)
    flag = t.get("ensemble", {}).get("flag")
    if flag:
        console.print(f"[bold yellow]{flag}[/]", highlight=False)


def _costs(console: Console, t: dict[str, Any], classes: list[Any]) -> bool:
    """The cost policy's line, when a cost matrix decides; whether there was one."""
    th, test = t.get("thresholds", {}), t.get("test", {})
    chosen = (th.get("policy") or {}).get("cost_policy")
    if not chosen or not th.get("costs"):
        return False
    val, order = th["costs"], ", ".join(str(c) for c in classes)
    console.print(
        f"[bold]Cost policy:[/] answer with the label of least expected cost when it is ≤ the "
        f"review cost {chosen['review_cost']:g} (costs: rows = true class, columns = predicted,"
        f" class order {order}); cost per row on validation {val['decisions']:.3f} vs "
        f"all-review {val['all_review']:.3f} and model only {val['model_only']:.3f}; test "
        f"decisions: {test.get('decisions', {})}",
        highlight=False,
    )
    return True


def _accept(console: Console, t: dict[str, Any], classes: list[Any]) -> None:
    th, test = t.get("thresholds", {}).get("accept"), t.get("test", {})
    if not _costs(console, t, classes) and th:
        line = (
            f"{th['threshold']:.4f} ({th['method']}), validation coverage {th['coverage']:.3f}"
            if th.get("feasible")
            else "no accept threshold: the model never auto-accepts (no threshold reaches "
            f"accuracy {th['target_accuracy']} on validation)"
        )
        console.print(
            f"[bold]Accept threshold:[/] {line}; test decisions: {test.get('decisions', {})}",
            highlight=False,
        )
    role = t.get("thresholds", {}).get("backup_role")
    if role:
        console.print(f"[bold]Backup:[/] {role['text']}", highlight=False)


def _importance(console: Console, found: dict[str, Any] | None) -> None:
    """The ten columns the model relies on most (permutation importance, locked test)."""
    from prudent.report._sec_importance import IMPORTANCE_HEADERS, importance_rows

    if found and found.get("columns"):
        title = f"Importance (locked test, {found['rows']} rows, shuffled {found['n_repeats']}x)"
        print_table(console, title, IMPORTANCE_HEADERS, importance_rows(found, top=10))


def show_decisions(console: Console, manifest: dict[str, Any]) -> None:
    """Print the accept threshold, the test decisions and the promises."""
    _accept(console, manifest.get("trust", {}), manifest.get("classes", []))
    _promises(console, manifest)


def show_manifest(console: Console, manifest: dict[str, Any]) -> None:
    """Print the schema, leaderboard, chosen model, test metrics and promises."""
    _schema(console, manifest)
    _leaderboard(console, manifest)
    _trust(console, manifest.get("trust", {}), manifest.get("classes", []))
    _importance(console, manifest.get("trust", {}).get("importance"))
    _final(console, manifest)
    _promises(console, manifest)
    audit = manifest.get("label_audit", {})
    console.print(
        f"Label audit: {audit.get('n_suspect', 0)} suspect label(s) in "
        f"{audit.get('file')}" + (" (removed before fitting)" if audit.get("dropped") else ""),
        highlight=False,
    )
