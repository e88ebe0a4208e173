"""Sections 1 and 2: the data, and the baselines against the candidates."""

from __future__ import annotations

from collections import Counter

import numpy as np

from prudent.bundle._evidence import FitEvidence, LeaderboardRow
from prudent.data import ColumnSpec, Schema
from prudent.report._cells import plain_reason
from prudent.report._evidence import Evidence, need
from prudent.report._html import Html, Section, esc, fmt, p_text, pct, table
from prudent.report._plots import (
    BAD,
    GOOD,
    GREY,
    MID,
    NEUTRAL,
    figure_html,
    hbars,
    new_figure,
    short,
)
from prudent.report._suspects import suspects_table

__all__ = ["baselines_section", "data_section"]

_TOP_CLASSES = 24
_TOP_COLUMNS = 15
_VERDICT_COLOR = {"better": GOOD, "not_better": MID, "worse": BAD}


def _class_balance(counts: dict[str, int]) -> Html:
    items = sorted(counts.items(), key=lambda kv: -kv[1])
    if len(items) > _TOP_CLASSES:
        rest = items[_TOP_CLASSES - 1 :]
        items = [
            *items[: _TOP_CLASSES - 1],
            (f"{len(rest)} other classes", sum(v for _, v in rest)),
        ]
    fig, ax = new_figure(6.4, 1.2 + 0.22 * len(items))
    values = [v for _, v in items]
    hbars(ax, [k for k, _ in items], values, NEUTRAL)
    total = sum(counts.values())
    for i, v in enumerate(values):
        ax.text(v, len(values) - 1 - i, f" {v} ({v / total:.0%})", va="center", fontsize=8)
    ax.set_xlim(0, max(values) * 1.3)
    ax.set_xlabel("labelled rows")
    ax.set_title("Class balance")
    alt = "Bar chart of rows per class: " + ", ".join(f"{k} {v}" for k, v in items[:10])
    return figure_html(fig, alt)


def _columns_figure(columns: list[ColumnSpec]) -> Html:
    missing = sorted((c for c in columns if c.missing_share > 0), key=lambda c: -c.missing_share)[
        :_TOP_COLUMNS
    ]
    if missing:
        fig, ax = new_figure(6.4, 1.2 + 0.22 * len(missing))
        shares = [c.missing_share for c in missing]
        hbars(ax, [c.name for c in missing], shares, MID)
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of rows missing")
        ax.set_title("Columns with missing values")
        alt = "Bar chart of missing shares: " + ", ".join(
            f"{c.name} {pct(c.missing_share)}" for c in missing[:10]
        )
        return figure_html(fig, alt)
    roles = Counter(c.role.value for c in columns)
    fig, ax = new_figure(6.4, 1.2 + 0.3 * len(roles))
    hbars(ax, list(roles), list(roles.values()), NEUTRAL)
    ax.set_xlabel("columns")
    ax.set_title("Columns by role (no missing values)")
    alt = "Bar chart of columns per role: " + ", ".join(f"{k} {v}" for k, v in roles.items())
    return figure_html(fig, alt)


def _data_takeaway(fit: FitEvidence, counts: dict[str, int], columns: list[ColumnSpec]) -> str:
    total = max(sum(counts.values()), 1)
    big = max(counts, key=lambda k: counts[k])
    small = min(counts, key=lambda k: counts[k])
    roles = Counter(c.role.value for c in columns)
    n_missing = sum(1 for c in columns if c.missing_share > 0)
    data = need(fit.data, "data")
    dropped = data.dropped_missing_target
    return (
        f"{data.rows} rows, {len(counts)} classes (largest '{big}' "
        f"{counts[big] / total:.0%}, smallest '{small}' {counts[small] / total:.0%}); "
        f"{len(columns)} columns ({', '.join(f'{v} {k}' for k, v in roles.most_common())}), "
        f"{n_missing} with missing values; {dropped} rows dropped for a missing label."
    )


def _data_tables(ev: Evidence, counts: dict[str, int], columns: list[ColumnSpec]) -> list[Html]:
    total = max(sum(counts.values()), 1)
    tables = [
        table(
            ["class", "rows", "share"],
            [[k, v, pct(v / total)] for k, v in counts.items()],
            "Classes",
        ),
        table(
            ["column", "role", "dtype", "distinct values", "missing"],
            [[c.name, c.role.value, c.dtype, c.n_unique, pct(c.missing_share)] for c in columns],
            "Columns and roles (identifier and dropped columns are not read by the model)",
        ),
    ]
    tables.append(_kept_dropped(ev.fit))
    if ev.label_issues is not None and len(ev.label_issues):
        tables.append(suspects_table(ev.label_issues, ev.fit))
    return tables


def _kept_dropped(fit: FitEvidence) -> Html:
    data, splits, audit = fit.data, fit.splits, fit.label_audit
    facts: list[list[object]] = [
        ["rows read", data.rows if data else "—"],
        ["rows dropped (missing label)", data.dropped_missing_target if data else 0],
        ["training rows (cross-validated)", splits.train_rows if splits else "—"],
        ["locked test rows", splits.test_rows if splits else "—"],
        ["folds", splits.n_folds if splits else "—"],
        ["suspect labels (label audit)", audit.n_suspect],
        ["suspect rows removed", "yes" if audit.dropped else "no"],
    ]
    facts += [["split note", n] for n in (splits.notes if splits else [])]
    return table(["what", "value"], facts, "What was kept and dropped")


def data_section(ev: Evidence) -> Section:
    """Rows, classes and their balance, column roles, missing values, what was dropped."""
    counts = need(need(ev.fit.data, "data").class_counts, "data.class_counts")
    columns = list(Schema.from_dict(ev.get("schema")).columns)
    return Section(
        "data",
        "Data",
        _data_takeaway(ev.fit, counts, columns),
        figures=[_class_balance(counts), _columns_figure(columns)],
        tables=_data_tables(ev, counts, columns),
    )


def _metric(row: LeaderboardRow, name: str) -> tuple[float, float, float]:
    m = row.metrics.get(name)
    point = np.nan if m is None or m.point is None else m.point
    low = point if m is None or m.low is None else m.low
    return point, low, point if m is None or m.high is None else m.high


def _verdict(row: LeaderboardRow) -> str | None:
    return row.vs_baseline.verdict if row.vs_baseline else None


def _leaderboard_figure(rows: list[LeaderboardRow], shipped: set[str]) -> Html:
    fig, axes = new_figure(7.2, 1.3 + 0.32 * len(rows), ncols=2)
    names = [r.name + (" ★" if r.name in shipped else "") for r in rows][::-1]
    colors = [GREY if r.baseline else _VERDICT_COLOR.get(str(_verdict(r)), NEUTRAL) for r in rows][
        ::-1
    ]
    for ax, metric, label in zip(
        axes,
        ("balanced_accuracy", "log_loss"),
        ("balanced accuracy (higher is better)", "log loss (lower is better)"),
        strict=True,
    ):
        stats = np.array([_metric(r, metric) for r in rows][::-1])
        y = np.arange(len(rows))
        err = np.abs(np.vstack([stats[:, 0] - stats[:, 1], stats[:, 2] - stats[:, 0]]))
        ax.errorbar(stats[:, 0], y, xerr=np.nan_to_num(err), fmt="none", ecolor="#57606a")
        ax.scatter(stats[:, 0], y, c=colors, s=40, zorder=3)
        ax.set_yticks(y, [short(n) for n in names])
        ax.set_xlabel(label)
    axes[1].tick_params(labelleft=False)
    axes[0].set_title("Cross-validated, 95% interval (grey: baselines)")
    alt = "Dot plot of balanced accuracy and log loss per model: " + ", ".join(
        f"{r.name} {fmt(_metric(r, 'balanced_accuracy')[0])}" for r in rows
    )
    return figure_html(
        fig,
        alt,
        "★ part of the shipped model; colour: green better than the baseline, "
        "amber not significantly better, red significantly worse (in accuracy, McNemar).",
    )


def _leaderboard_takeaway(fit: FitEvidence, rows: list[LeaderboardRow]) -> str:
    base_name = fit.best_baseline or next(r.name for r in rows if r.baseline)
    base = next((r for r in rows if r.name == base_name), rows[0])
    candidates = [r for r in rows if not r.baseline]
    primary = fit.shipped.primary
    if not candidates:
        return (
            f"Only baselines finished; the best, {base_name}, has balanced accuracy "
            f"{fmt(_metric(base, 'balanced_accuracy')[0])}; shipped: {primary}."
        )
    best = max(candidates, key=lambda r: _metric(r, "balanced_accuracy")[0])
    vs = best.vs_baseline
    verdict = {"better": "significantly more", "worse": "significantly less"}.get(
        str(_verdict(best)), "not significantly more or less"
    )
    return (
        f"Best candidate {best.name}: balanced accuracy "
        f"{fmt(_metric(best, 'balanced_accuracy')[0])} vs baseline {base_name} "
        f"{fmt(_metric(base, 'balanced_accuracy')[0])}; {verdict} accurate than the baseline "
        f"(accuracy, McNemar, Holm-adjusted {p_text(vs.p_adjusted if vs else None)}); "
        f"shipped: {primary}."
    )


def _leaderboard_table(rows: list[LeaderboardRow]) -> Html:
    def ci(r: LeaderboardRow, m: str) -> str:
        p, lo, hi = _metric(r, m)
        return f"{fmt(p)} [{fmt(lo)}, {fmt(hi)}]"

    body = []
    for r in rows:
        vs = r.vs_baseline
        body.append(
            [
                r.name,
                "baseline" if r.baseline else r.family,
                ci(r, "accuracy"),
                ci(r, "balanced_accuracy"),
                ci(r, "log_loss"),
                ci(r, "ece"),
                fmt(vs.accuracy_diff if vs else None, 4),
                p_text(vs.p_adjusted if vs else None).removeprefix("p=").removeprefix("p"),
                (vs.verdict if vs else "").replace("_", " "),
                fmt(r.fit_seconds, 2),
                fmt(r.predict_seconds_per_1k, 4),
            ]
        )
    return table(
        [
            "model",
            "family",
            "accuracy",
            "balanced accuracy",
            "log loss",
            "ECE",
            "accuracy gain vs baseline",
            "p (Holm)",
            "verdict",
            "fit s",
            "predict s / 1k",
        ],
        body,
        "Leaderboard (cross-validated on the training rows; baselines first)",
    )


def baselines_section(ev: Evidence) -> Section:
    """The leaderboard with each candidate's gain over the baseline and its significance."""
    fit = ev.fit
    rows = need(fit.leaderboard, "leaderboard")
    members = fit.shipped.members
    losses = [
        (r.vs_baseline.message if r.vs_baseline else None) or f"{r.name} loses to the baseline."
        for r in rows
        if _verdict(r) == "worse"
    ]
    # an alert only where the fit warned (a family that ought to beat the baseline): a
    # simpler or overfitting family's loss is expected, and said plainly
    banners = [m.removeprefix("WARNING ") for m in losses if m.startswith("WARNING ")]
    body = [Html(f'<p class="meta">{esc(m)}</p>') for m in losses if not m.startswith("WARNING ")]
    skipped = [[s.name, plain_reason(s.reason)] for s in fit.skipped]
    tables = [_leaderboard_table(rows)]
    if skipped:
        tables.append(table(["skipped", "why"], skipped, "Candidates that did not run"))
        body.append(
            Html(
                f'<p class="meta">Skipped: {esc(", ".join(str(s[0]) for s in skipped))} '
                "(see the numbers for why).</p>"
            )
        )
    return Section(
        "baselines",
        "Baselines and candidates",
        _leaderboard_takeaway(fit, rows),
        figures=[_leaderboard_figure(rows, set(members))],
        tables=tables,
        banners=banners,
        body=body,
    )
