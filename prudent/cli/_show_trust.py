"""``prudent show``'s trust stage: diversity, the ensemble and calibration choices, the OOD
detector, the decision policy and what the model relies on."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from prudent.bundle._evidence import Diversity, FitEvidence, Importance, LockedTest, OodChoice
from prudent.bundle._evidence import OodTest as _OodTest
from prudent.cli._show_choices import show_calibration, show_ensemble
from prudent.cli._show_format import fixed, pairs, signed
from prudent.cli._show_layout import Col, draw, say

__all__ = ["show_accept", "show_importance", "show_trust"]


def _diversity(console: Console, d: Diversity | None) -> None:
    """The error correlations, columns numbered as the rows (names never split), and the
    rows each model alone gets right."""
    if d is None:
        return
    alone = {u.model: f"{u.rows} ({fixed(u.share)})" for u in d.unique_signal}
    rows = [
        [f"{i + 1} {m}", *[signed(v, 2) for v in d.error_correlation[i]], alone.get(m, "—")]
        for i, m in enumerate(d.models)
    ]
    cols = [
        Col("model", max_width=24),
        *[Col(str(i + 1), justify="right") for i in range(len(d.models))],
        Col("alone", justify="right", drop=1),
    ]
    title = (
        "Error correlation of out-of-fold mistakes (lower = more diverse); alone: rows only "
        "that model gets right (share)"
    )
    draw(console, title, cols, rows)


def _ood(console: Console, o: OodChoice, test: LockedTest) -> None:
    ood = test.ood or _OodTest()
    extra = (
        f"; AUROC vs given OOD examples {fixed(ood.test_auroc)} (max-probability "
        f"{fixed(ood.test_auroc_max_prob)})"
        if ood.test_auroc is not None
        else ""
    )
    fpr = f"{o.fpr_target:.0%}" if o.fpr_target is not None else "?"
    say(
        console,
        "OOD:",
        f"detector {o.chosen}, threshold {fixed(o.threshold)} at {fpr} FPR; test FPR "
        f"{fixed(ood.test_fpr)}{extra}",
    )


def _costs(console: Console, ev: FitEvidence, classes: list[Any]) -> bool:
    """The cost policy's line, when a cost matrix decides; whether there was one."""
    th, test = ev.trust.thresholds, ev.trust.test or LockedTest()
    chosen = th.cost_policy if th else None
    if th is None or th.costs is None or not chosen:
        return False
    val, order = th.costs, ", ".join(str(c) for c in classes)
    say(
        console,
        "Cost policy:",
        f"answer with the label of least expected cost when it is ≤ the review cost "
        f"{chosen.review_cost:g} (costs: rows = true class, columns = predicted, class order "
        f"{order}); cost per row on validation {fixed(val.decisions)} vs all-review "
        f"{fixed(val.all_review)} and model only {fixed(val.model_only)}; test decisions: "
        f"{pairs(test.decisions)}",
    )
    return True


def show_accept(console: Console, ev: FitEvidence, classes: list[Any]) -> None:
    """The accept threshold (or cost policy), the test decisions and the backup's role."""
    th, test = ev.trust.thresholds, ev.trust.test or LockedTest()
    if th is None:
        return
    accept = th.accept
    if not _costs(console, ev, classes) and accept:
        line = (
            f"{accept.threshold:.4f} ({accept.method}), validation coverage "
            f"{fixed(accept.coverage)}"
            if accept.feasible and accept.threshold is not None
            else "no accept threshold: the model never auto-accepts (no threshold reaches "
            f"accuracy {accept.target_accuracy} on validation)"
        )
        say(console, "Accept threshold:", f"{line}; test decisions: {pairs(test.decisions)}")
    if th.backup_role:
        say(console, "Backup:", th.backup_role.text)


def show_importance(console: Console, found: Importance | None) -> None:
    """The ten columns the model relies on most (permutation importance, locked test)."""
    if not found or not found.columns:
        return
    cols = (
        Col("column", max_width=40),
        Col("log loss rise", justify="right"),
        Col("± sd", justify="right", drop=1),
        Col("bal. acc drop", justify="right"),
    )
    rows = [
        [
            c.column,
            signed(c.log_loss_increase),
            fixed(c.log_loss_sd),
            signed(c.balanced_accuracy_drop),
        ]
        for c in found.columns[:10]
    ]
    title = f"Importance (locked test, {found.rows} rows, shuffled {found.n_repeats}x)"
    draw(console, title, cols, rows)


def show_trust(console: Console, ev: FitEvidence, classes: list[Any]) -> None:
    """Diversity, ensemble, calibration, OOD, the decision policy and the ensemble's flag."""
    t, test = ev.trust, ev.trust.test or LockedTest()
    _diversity(console, t.diversity)
    if t.ensemble:
        show_ensemble(console, t.ensemble)
    if t.calibration:
        show_calibration(console, t.calibration, test)
    if t.ood:
        _ood(console, t.ood, test)
    show_accept(console, ev, classes)
    if t.ensemble and t.ensemble.flag:
        say(console, t.ensemble.flag, "", style="bold yellow")
