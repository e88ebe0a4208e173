"""Section 5, the last mile: risk-coverage, the confusion matrix and the error slices."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from prudent._format import at_least
from prudent.bundle import LABEL_COLUMN
from prudent.bundle._evidence import CostSummary, LockedTest, Thresholds
from prudent.metrics import risk_coverage_curve
from prudent.report._evidence import Evidence, ShippedLabels
from prudent.report._html import Html, Section, fmt, pct, table
from prudent.report._plots import (
    BAD,
    GREY,
    MID,
    NEUTRAL,
    figure_html,
    hbars,
    heatmap,
    new_figure,
)
from prudent.report._slices import confident_errors, error_slices, top_features

__all__ = ["confusion_view", "draw_slices", "last_mile_section"]

_MAX_CLASSES = 20  # beyond this the confusion matrix folds the rest into "other"
_SHOWN_SLICES = 12


def _cost_line(ev: Evidence, costs: CostSummary, test: LockedTest) -> str:
    order = ", ".join(ev.classes)
    line = (
        "a cost matrix decides (rows = true class, columns = predicted, class order "
        f"{order}): the cheapest label is given when its expected cost is at most a "
        f"review's; cost per row on validation {fmt(costs.decisions)} vs all-review "
        f"{fmt(costs.all_review)} and model only {fmt(costs.model_only)}"
    )
    if test.costs:
        line += f", on the locked test {fmt(test.costs.decisions)}"
    return line


def _operating_point(ax: Any, ev: Evidence, conf: Any, ok: Any, target: float) -> str:
    th = ev.fit.trust.thresholds or Thresholds()
    test = ev.fit.trust.test or LockedTest()
    accept = th.accept
    t = accept.threshold if accept else None
    if th.costs and th.cost_policy:
        line = _cost_line(ev, th.costs, test)
    elif t is not None and accept is not None and accept.feasible:
        mask = conf >= float(t)
        point = (float(mask.mean()), float(1 - ok[mask].mean()) if mask.any() else 0.0)
        ax.plot(*point, "o", color=BAD, markersize=9, label=f"threshold {float(t):.3f}")
        budget = th.review_budget
        what = (
            f"promised ≥ {at_least(target)} with a review budget of {pct(budget)}"
            if budget is not None
            else f"target {fmt(target)}"
        )
        line = (
            f"accepting confidence ≥ {float(t):.3f} covers {pct(point[0])} of the locked test "
            f"at accuracy {fmt(1 - point[1])} ({what})"
        )
    elif accept is None:
        line = "the bundle records no accept threshold"
    else:
        line = (
            "no accept threshold: the model never auto-accepts (no confidence threshold "
            f"reached accuracy {fmt(target)} on validation); rows go to review unless a rule "
            "or the backup model answers"
        )
    cov, acc = test.coverage, test.accepted_accuracy
    if cov is not None and acc is not None and cov > 0:
        label = "accepted after OOD and rules"
        ax.plot(cov, 1 - acc, "*", color="black", markersize=11, label=label)
        line += f"; after OOD checks and rules {pct(cov)} is accepted at {fmt(acc)}"
    return line


def _risk_coverage_figure(ev: Evidence, shipped: ShippedLabels) -> tuple[Html, Html, str]:
    conf, ok = shipped.confidence, shipped.ok
    coverage, risk, thresholds = risk_coverage_curve(conf, ok)
    th = ev.fit.trust.thresholds or Thresholds()
    target = float(
        (th.accept and th.accept.target_accuracy) or ev.find("spec.target_accuracy", 0.95)
    )
    fig, ax = new_figure(6.4, 3.6)
    ax.step(np.r_[0, coverage], np.r_[risk[0], risk], where="post", color=NEUTRAL, label="model")
    ax.axhline(1 - target, color=MID, linestyle="--", label=f"allowed risk (1 − {fmt(target)})")
    line = _operating_point(ax, ev, conf, ok, target)
    ax.set_xlim(0, 1.02)
    top = max(float(risk.max()), 1 - target) * 1.15 + 1e-3
    ax.set_ylim(-0.02 * top, top)
    ax.set_xlabel("coverage (share of rows accepted)")
    ax.set_ylabel("risk (error rate among accepted)")
    ax.set_title("Risk–coverage on the locked test")
    ax.legend(fontsize=8, loc="upper left")
    alt = f"Risk-coverage curve on {len(ok)} locked-test rows: {line}"
    idx = np.unique(np.linspace(0, len(coverage) - 1, min(20, len(coverage))).astype(int))
    numbers = table(
        ["confidence ≥", "coverage", "risk", "accuracy"],
        [[fmt(thresholds[i]), pct(coverage[i]), fmt(risk[i]), fmt(1 - risk[i])] for i in idx],
        "Risk–coverage (every few steps)",
    )
    reachable = th.reachable
    if reachable:
        numbers = Html(
            numbers
            + table(
                ["coverage", "accuracy", "largest target it can promise"],
                [[pct(r.coverage), fmt(r.accuracy), fmt(r.promisable)] for r in reachable],
                "Best accuracy reachable on validation at several coverages, and the largest "
                "accuracy target (--target-accuracy) that passes its test there",
            )
        )
    return figure_html(fig, alt), numbers, line


def confusion_view(
    y: np.ndarray[Any, Any],
    pred: np.ndarray[Any, Any],
    classes: list[str],
    limit: int = _MAX_CLASSES,
) -> tuple[np.ndarray[Any, Any], list[str]]:
    """Return the confusion matrix, folding all but the ``limit - 1`` busiest classes.

    Examples
    --------
    >>> import numpy as np
    >>> m, names = confusion_view(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1]), list("abc"), 2)
    >>> names, m.tolist()
    (['c', '2 other classes'], [[1, 1], [1, 1]])
    """
    k = len(classes)
    full = confusion_matrix(y, pred, labels=np.arange(k))
    if k <= limit:
        return full, list(classes)
    errors = full.sum(0) + full.sum(1) - 2 * np.diag(full)
    keep = np.lexsort((-full.sum(1), -errors))[: limit - 1]
    keep = np.sort(keep)
    group = np.full(k, len(keep))
    group[keep] = np.arange(len(keep))
    folded = np.zeros((len(keep) + 1, len(keep) + 1), dtype=np.int64)
    np.add.at(folded, (group[:, None].repeat(k, 1), group[None, :].repeat(k, 0)), full)
    return folded, [classes[i] for i in keep] + [f"{k - len(keep)} other classes"]


def _confusion_figure(y: Any, pred: Any, classes: list[str]) -> tuple[Html, Html]:
    matrix, names = confusion_view(y, pred, classes)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    side = min(10.0, 3.0 + 0.32 * len(names))
    fig, ax = new_figure(side + 1.4, side)
    numbered = heatmap(
        ax,
        shares,
        (names, names),
        cmap="Blues",
        vmin=0,
        vmax=1,
        numbers=matrix,
        number_format="{:d}",
    )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix (locked test)")
    full = confusion_matrix(y, pred, labels=np.arange(len(classes)))
    off = [
        (int(full[i, j]), classes[i], classes[j]) for i, j in zip(*np.nonzero(full), strict=True)
    ]
    off = sorted((o for o in off if o[1] != o[2]), key=lambda o: -o[0])
    alt = f"Confusion matrix of {len(classes)} classes on {len(y)} locked-test rows; " + (
        f"most frequent confusion: {off[0][1]} predicted as {off[0][2]} ({off[0][0]} rows)"
        if off
        else "no confusions"
    )
    caption = "Rows: true class; colour: share of the true class; " + (
        "numbers: rows."
        if numbered
        else "too many cells to number: the counts are under 'The numbers'."
    )
    figure = figure_html(fig, alt, caption, wide=len(names) > 12)
    return figure, _confusion_tables(full, classes, off)


def _confusion_tables(full: Any, classes: list[str], off: list[tuple[int, str, str]]) -> Html:
    pairs = table(
        ["true", "predicted", "rows"],
        [[t, p, n] for n, t, p in off[:25]],
        "Most frequent confusions",
    )
    if len(classes) > _MAX_CLASSES:
        return pairs
    matrix = table(
        ["true \\ predicted", *classes],
        [[classes[i], *map(int, full[i])] for i in range(len(classes))],
        "Confusion matrix (rows: true class)",
    )
    return Html(matrix + pairs)


def _slices(ev: Evidence, shipped: ShippedLabels) -> tuple[pd.DataFrame, list[str]]:
    y, wrong = shipped.y, shipped.wrong
    roles = ev.roles
    frame = ev.test_rows
    if (
        frame is not None
        and LABEL_COLUMN in frame
        and not np.array_equal(frame[LABEL_COLUMN].to_numpy(), y[: len(frame)])
    ):
        frame = None  # not aligned with the test arrays: slice by class only
    top = top_features(frame, roles, wrong[: len(frame)]) if frame is not None else []
    features = [(name, roles.get(name, "categorical")) for name, _ in top]
    slices = error_slices(y, wrong, ev.classes, frame, features, min_rows=max(5, len(y) // 100))
    return slices, [name for name, _ in top]


def draw_slices(ax: Any, shown: pd.DataFrame, overall: float) -> None:
    """Draw error rates by slice, errors/rows on each bar, the overall rate as a dashed line.

    The axis stops at 1 (an error rate); a count that would run past it sits inside its bar.
    """
    labels = [f"{f} = {s}" for f, s in zip(shown["feature"], shown["slice"], strict=True)]
    hbars(ax, labels, shown["error rate"].tolist(), BAD, limit=40)
    high = min(
        1.0, max(float(shown["error rate"].max()) if len(shown) else 0.0, overall, 0.05) * 1.25
    )
    rates = shown["error rate"].to_numpy()[::-1]
    for i, (e, n) in enumerate(zip(shown["errors"][::-1], shown["rows"][::-1], strict=True)):
        inside = rates[i] > 0.8 * high
        ax.text(
            rates[i],
            i,
            f" {e}/{n} ",
            va="center",
            ha="right" if inside else "left",
            fontsize=8,
            color="white" if inside else "black",
        )
    ax.axvline(overall, color=GREY, linestyle="--")
    ax.set_xlim(0, high)
    ax.set_xlabel(f"error rate (errors/rows on the bars; dashed: overall {overall:.1%})")
    ax.set_title("Where the errors concentrate (locked test)")


def _slices_figure(slices: pd.DataFrame, overall: float) -> Html:
    with_errors = slices[slices["errors"] > 0]
    shown = (with_errors if len(with_errors) else slices).head(_SHOWN_SLICES)
    fig, ax = new_figure(6.4, 1.3 + 0.3 * max(len(shown), 1))
    draw_slices(ax, shown, overall)
    alt = "Bar chart of error rate by slice: " + "; ".join(
        f"{r.feature} = {r.slice}: {r.errors} of {r.rows} wrong" for r in shown.head(6).itertuples()
    )
    return figure_html(fig, alt)


def _errors_block(ev: Evidence, shipped: ShippedLabels, top: list[str]) -> Html:
    frame = ev.test_rows
    if frame is None:
        return Html(
            '<p class="missing">The locked-test rows are not in the bundle, so no '
            "example errors are shown.</p>"
        )
    roles = ev.roles
    features = [c for c in frame.columns if not str(c).startswith("__")]
    text = [c for c in features if roles.get(str(c)) == "text"]
    columns = features if len(features) <= 6 else list(dict.fromkeys([*text, *top]))[:5]
    worst = confident_errors(frame, shipped, ev.classes, columns)
    if worst.empty:
        return Html("<p>No wrong predictions among the locked-test rows kept in the bundle.</p>")
    rows = [[int(r[0]), r[1], r[2], fmt(r[3]), *r[4:]] for r in worst.itertuples(index=False)]
    return Html(
        "<h3>Most confident errors</h3>"
        + table(
            ["input row", "true", "predicted", "confidence", *map(str, columns)],
            rows,
            f"The {len(worst)} wrong predictions made with the highest confidence",
        )
    )


def last_mile_section(ev: Evidence) -> Section:
    """Risk-coverage with the operating point, confusion matrix, error slices, worst errors.

    Every figure reads the labels the bundle ships (its label rule) and their confidence,
    as the header's locked-test metrics do.
    """
    shipped = ev.shipped_labels()
    rc_fig, rc_table, line = _risk_coverage_figure(ev, shipped)
    cm_fig, cm_tables = _confusion_figure(shipped.y, shipped.label, ev.classes)
    slices, top = _slices(ev, shipped)
    overall = float(shipped.wrong.mean())
    figures = [rc_fig, cm_fig, _slices_figure(slices, overall)]
    worst = slices.iloc[0] if len(slices) and slices.iloc[0]["errors"] > 0 else None
    where = (
        f"; worst slice {worst['feature']} = {worst['slice']} ({worst['errors']} of "
        f"{worst['rows']} wrong)"
        if worst is not None
        else "; no errors to slice"
    )
    slice_rows = [[f, s, n, e, pct(r)] for f, s, n, e, r in slices.itertuples(index=False)]
    tables = [
        rc_table,
        cm_tables,
        table(
            ["feature", "slice", "rows", "errors", "error rate"],
            slice_rows,
            f"Error slices, worst first (top features: {', '.join(top) or 'none'})",
        ),
    ]
    body = [_errors_block(ev, shipped, top)]
    th = ev.fit.trust.thresholds
    role = th.backup_role.text if th and th.backup_role else ""
    takeaway = f"{line[0].upper()}{line[1:]}{where}. {role}".strip()
    return Section(
        "last-mile", "The last mile", takeaway, figures=figures, tables=tables, body=body
    )
