"""Turn a bundle's typed evidence (``FitEvidence``, the objects the HTML report renders too)
into the tables ``prudent fit`` and ``prudent show`` print."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console

from prudent.bundle import FitEvidence
from prudent.bundle._evidence import (
    UNKNOWN_CHOICE,
    Calibration,
    Choice,
    Diversity,
    Importance,
    Interval,
    LeaderboardRow,
    LockedTest,
    OodChoice,
    OodTest,
)
from prudent.cli._console import print_table

__all__ = ["show_decisions", "show_manifest"]

_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "log_loss", "brier", "ece")


def _pairs(values: Mapping[str, Any]) -> str:
    """``name value`` pairs for a sentence, where a dict's repr printed braces and quotes.

    Examples
    --------
    >>> _pairs({"accept": 1177, "review": 173})
    'accept 1177, review 173'
    """
    return ", ".join(f"{k} {v}" for k, v in values.items()) or "none"


def _ci(m: Interval) -> str:
    return f"{m.point:.3f} ({m.low:.3f}–{m.high:.3f})"


_VERDICT = {"better": "better", "not_better": "not better", "worse": "WORSE"}


def _vs(r: LeaderboardRow) -> str:
    vs = r.vs_baseline
    if vs is None:
        return "baseline"
    return f"{_VERDICT.get(vs.verdict, vs.verdict)} p={vs.p_adjusted:.2g}"


def _leaderboard(console: Console, ev: FitEvidence) -> None:
    """One line per model within 100 columns: balanced accuracy with its interval, the other
    metrics as points (``prudent show --json`` and the report have every interval, Brier and
    prediction speed)."""
    rows = []
    for r in ev.leaderboard:
        m = r.metrics
        rows.append(
            [
                r.name + ("*" if r.baseline else ""),
                _ci(m["balanced_accuracy"]),
                *[f"{m[k].point:.3f}" for k in ("accuracy", "macro_f1", "log_loss", "ece")],
                f"{r.fit_seconds:.1f}s",
                _vs(r),
            ]
        )
    print_table(
        console,
        f"Leaderboard (out-of-fold; * baseline; vs best baseline '{ev.best_baseline}', "
        "Holm-adjusted)",
        ["model", "bal. acc (95% CI)", "acc", "F1", "logloss", "ECE", "fit", "vs baseline"],
        rows,
        compact=True,
    )
    for r in ev.leaderboard:
        vs = r.vs_baseline
        if vs and vs.verdict == "worse" and vs.message:
            # a warning only where the fit gave one (a family that ought to beat the baseline);
            # a simpler or overfitting family's loss is said plainly
            warned = vs.message.startswith("WARNING ")
            mark = "[bold yellow]WARNING[/]" if warned else "•"
            console.print(f"{mark} {vs.message.removeprefix('WARNING ')}", highlight=False)
    for s in ev.skipped:
        console.print(f"• skipped {s.name}: {s.reason}", highlight=False)


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


def _final(console: Console, ev: FitEvidence) -> None:
    chosen = ev.chosen or UNKNOWN_CHOICE
    console.print(
        f"[bold]Chosen:[/] {chosen.primary} ({chosen.kind}) — {chosen.reason}", highlight=False
    )
    tm = ev.test_metrics
    rows = [[name, *[_ci(tm[name][m]) for m in _METRICS]] for name in tm]
    print_table(
        console,
        f"Locked test set ({ev.splits.test_rows if ev.splits else '?'} rows, touched once)",
        ["model", *_METRICS],
        rows,
    )


def _promises(console: Console, ev: FitEvidence) -> None:
    promises = ev.trust.promises
    if not promises:
        return
    rows = [[p.name, p.promised, p.measured, p.kept_text] for p in promises]
    print_table(
        console,
        "Promises, checked on the locked test set",
        ["promise", "promised", "measured", "kept"],
        rows,
    )


def _diversity(console: Console, d: Diversity | None) -> None:
    if d is None:
        return
    rows = [[m, *[f"{v:+.2f}" for v in d.error_correlation[i]]] for i, m in enumerate(d.models)]
    print_table(
        console,
        "Error correlation of out-of-fold mistakes (lower = more diverse)",
        ["", *d.models],
        rows,
    )
    if d.unique_signal:
        print_table(
            console,
            "Unique signal: rows each model alone gets right",
            ["model", "rows", "share"],
            [[u.model, u.rows, f"{u.share:.3f}"] for u in d.unique_signal],
        )


def _ensemble(console: Console, e: Choice) -> None:
    weights = ", ".join(f"{k}={v:.2f}" for k, v in e.members.items())
    vs = e.vs_best_single
    test = f" ({vs.test}, p={vs.p_value:.3g})" if vs else ""
    console.print(
        f"[bold]Ensemble:[/] {e.kind} ({weights}); log loss gain over "
        f"{e.best_single}: {e.gain_log_loss or 0:.4f}{test}",
        highlight=False,
    )


def _calibration(console: Console, c: Calibration, test: LockedTest) -> None:
    scores = {k: round(v, 4) for k, v in c.cv_log_loss.items() if v is not None}
    console.print(
        f"[bold]Calibration:[/] {c.method} (chosen by CV log loss: {_pairs(scores)}); "
        f"ECE holdout {_f(c.ece_before_holdout)} → {_f(c.ece_after_holdout)}"
        f"; test {_f(test.ece_raw)} → {_f(test.ece_calibrated)}",
        highlight=False,
    )


def _f(x: float | None) -> str:
    return "nan" if x is None else f"{x:.3f}"


def _ood(console: Console, o: OodChoice, test: LockedTest) -> None:
    ood = test.ood or OodTest()
    extra = (
        f"; AUROC vs given OOD examples {ood.test_auroc:.3f} (max-probability "
        f"{_f(ood.test_auroc_max_prob)})"
        if ood.test_auroc is not None
        else ""
    )
    console.print(
        f"[bold]OOD:[/] detector {o.chosen}, threshold {_f(o.threshold)} "
        f"at {o.fpr_target:.0%} FPR; test FPR {_f(ood.test_fpr)}{extra}",
        highlight=False,
    )


def _trust(console: Console, ev: FitEvidence, classes: list[Any]) -> None:
    t, test = ev.trust, ev.trust.test or LockedTest()
    _diversity(console, t.diversity)
    if t.ensemble:
        _ensemble(console, t.ensemble)
    if t.calibration:
        _calibration(console, t.calibration, test)
    if t.ood:
        _ood(console, t.ood, test)
    _accept(console, ev, classes)
    if t.ensemble and t.ensemble.flag:
        console.print(f"[bold yellow]{t.ensemble.flag}[/]", highlight=False)


def _costs(console: Console, ev: FitEvidence, classes: list[Any]) -> bool:
    """The cost policy's line, when a cost matrix decides; whether there was one."""
    th, test = ev.trust.thresholds, ev.trust.test or LockedTest()
    chosen = th.cost_policy if th else None
    if th is None or th.costs is None or not chosen:
        return False
    val, order = th.costs, ", ".join(str(c) for c in classes)
    console.print(
        f"[bold]Cost policy:[/] answer with the label of least expected cost when it is ≤ the "
        f"review cost {chosen.review_cost:g} (costs: rows = true class, columns = predicted,"
        f" class order {order}); cost per row on validation {_f(val.decisions)} vs "
        f"all-review {_f(val.all_review)} and model only {_f(val.model_only)}; test "
        f"decisions: {_pairs(test.decisions)}",
        highlight=False,
    )
    return True


def _accept(console: Console, ev: FitEvidence, classes: list[Any]) -> None:
    th, test = ev.trust.thresholds, ev.trust.test or LockedTest()
    if th is None:
        return
    accept = th.accept
    if not _costs(console, ev, classes) and accept:
        line = (
            f"{accept.threshold:.4f} ({accept.method}), validation coverage {_f(accept.coverage)}"
            if accept.feasible and accept.threshold is not None
            else "no accept threshold: the model never auto-accepts (no threshold reaches "
            f"accuracy {accept.target_accuracy} on validation)"
        )
        console.print(
            f"[bold]Accept threshold:[/] {line}; test decisions: {_pairs(test.decisions)}",
            highlight=False,
        )
    if th.backup_role:
        console.print(f"[bold]Backup:[/] {th.backup_role.text}", highlight=False)


def _importance(console: Console, found: Importance | None) -> None:
    """The ten columns the model relies on most (permutation importance, locked test)."""
    from prudent.report._sec_importance import IMPORTANCE_HEADERS, importance_rows

    if found and found.columns:
        title = f"Importance (locked test, {found.rows} rows, shuffled {found.n_repeats}x)"
        print_table(console, title, IMPORTANCE_HEADERS, importance_rows(found, top=10))


def show_decisions(console: Console, manifest: dict[str, Any]) -> None:
    """Print the accept threshold, the test decisions and the promises."""
    ev = FitEvidence.from_manifest(manifest)
    _accept(console, ev, manifest.get("classes", []))
    _promises(console, ev)


def show_manifest(console: Console, manifest: dict[str, Any]) -> None:
    """Print the schema, leaderboard, chosen model, test metrics and promises."""
    ev = FitEvidence.from_manifest(manifest)
    _schema(console, manifest)
    _leaderboard(console, ev)
    _trust(console, ev, manifest.get("classes", []))
    _importance(console, ev.trust.importance)
    _final(console, ev)
    _promises(console, ev)
    audit = ev.label_audit
    cut = audit.listed is not None and audit.listed < audit.n_suspect
    where = f", the {audit.listed} most suspect in " if cut else " in "
    console.print(
        f"Label audit: {audit.n_suspect} suspect label(s){where}"
        f"{audit.file}" + (" (removed before fitting)" if audit.dropped else ""),
        highlight=False,
    )
