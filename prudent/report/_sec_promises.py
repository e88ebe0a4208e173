"""Sections 6 and 7: unfamiliar inputs (OOD), and the promises checked on the locked test."""

from __future__ import annotations

from typing import Any

import numpy as np

from prudent.bundle._evidence import LockedTest, OodChoice, OodTest, Promise
from prudent.report._evidence import Evidence, need
from prudent.report._html import Html, Section, fmt, pct, table
from prudent.report._plots import BAD, GOOD, MID, NEUTRAL, count_ticks, figure_html, new_figure

__all__ = ["draw_set_sizes", "ood_section", "promises_section"]


def _finite(values: Any) -> np.ndarray[Any, Any]:
    x = np.asarray(values, dtype=np.float64).ravel()
    return x[np.isfinite(x)]


def _ood_figure(inside: Any, outside: Any, threshold: float) -> Html:
    both = np.r_[inside, outside] if outside is not None else inside
    high = max(float(np.quantile(both, 0.995)), threshold) * 1.05 if len(both) else 1.0
    low = min(float(both.min(initial=threshold)), threshold)
    edges = np.linspace(low, high if high > low else low + 1.0, 41)
    fig, ax = new_figure(6.4, 3.4)
    groups = [(inside, NEUTRAL, 0.7, "locked test, in distribution")]
    if outside is not None:
        groups.append((outside, BAD, 0.6, "known OOD examples"))
    for scores, color, alpha, name in groups:
        ax.hist(
            np.clip(scores, low, edges[-1]),
            bins=edges,
            color=color,
            alpha=alpha,
            label=f"{name} ({len(scores)})",
        )
    ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.3g}")
    ax.set_xlabel("OOD score (higher = more unusual; clipped at the 99.5th percentile)")
    ax.set_ylabel("rows")
    count_ticks(ax)
    ax.set_title("Out-of-distribution scores")
    # a fixed place: matplotlib's search for the "best" one over every bar took over a second
    # on a loaded machine (and warns then); in-distribution scores pile up on the left
    ax.legend(fontsize=8, loc="upper right")
    alt = (
        f"Histogram of OOD scores of {len(inside)} locked-test rows"
        + (f" and {len(outside)} known OOD examples" if outside is not None else "")
        + f", with the threshold at {threshold:.3g}"
    )
    return figure_html(fig, alt)


def _ood_takeaway(ood: OodChoice, test: OodTest, fpr: Any, outside: Any) -> str:
    chosen = ood.chosen
    auroc = ood.validation_auroc.get(chosen)
    measured = f" (validation AUROC {fmt(auroc)})" if auroc is not None else ""
    threshold = float(need(ood.threshold, "trust.ood.threshold"))
    line = (
        f"Detector {chosen}{measured} flags scores ≥ "
        f"{threshold:.3g}: {pct(fpr)} of the locked test is flagged (target ≤ "
        f"{pct(ood.fpr_target)})"
    )
    if outside is not None and len(outside):
        tpr = float((outside >= threshold).mean())
        line += (
            f"; it catches {pct(tpr)} of the {len(outside)} known OOD examples (test AUROC "
            f"{fmt(test.test_auroc)}, max-probability AUROC "
            f"{fmt(test.test_auroc_max_prob)})"
        )
    else:
        line += "; no known OOD examples were given, so how many it catches is not measured"
    return line + "."


def _ood_tables(ood: OodChoice, test: OodTest, fpr: Any) -> list[Html]:
    facts: list[list[object]] = [
        ["chosen detector", ood.chosen],
        ["threshold", fmt(ood.threshold, 4)],
        ["target false-positive rate", pct(ood.fpr_target)],
        ["false-positive rate on the locked test", pct(fpr)],
    ]
    facts += [[k.replace("_", " "), fmt(v)] for k, v in test.figures().items()]
    compared = table(
        ["detector", "validation AUROC"],
        [[k, fmt(v)] for k, v in ood.validation_auroc.items()],
        "Detectors compared on validation data",
    )
    if not ood.validation_auroc:
        compared = Html(
            '<p class="meta">Detectors are compared only when OOD examples are given; '
            "none were.</p>"
        )
    return [table(["what", "value"], facts, "Threshold and rates"), compared]


def ood_section(ev: Evidence) -> Section:
    """OOD score histograms, the chosen threshold and its false-positive rate."""
    ood = need(ev.fit.trust.ood, "trust.ood")
    threshold = float(need(ood.threshold, "trust.ood.threshold"))
    inside = _finite(ev.array("test_ood_score"))
    outside = None
    if "ood_examples_score" in ev.arrays:
        outside = _finite(ev.arrays["ood_examples_score"])
    test = (ev.fit.trust.test or LockedTest()).ood or OodTest()
    fpr = test.test_fpr
    if fpr is None and len(inside):
        fpr = float((inside >= threshold).mean())
    return Section(
        "ood",
        "Unfamiliar inputs",
        _ood_takeaway(ood, test, fpr, outside),
        figures=[_ood_figure(inside, outside, threshold)],
        tables=_ood_tables(ood, test, fpr),
    )


def _conformal_figure(ev: Evidence, alpha: float) -> Html:
    conformal = _test(ev).conformal
    fig, axes = new_figure(7.2, 3.2, ncols=2)
    methods = list(conformal)
    cover = [float(np.nan if c.coverage is None else c.coverage) for c in conformal.values()]
    axes[0].bar(
        [m.upper() for m in methods], cover, color=[GOOD if c >= 1 - alpha else MID for c in cover]
    )
    for i, c in enumerate(cover):
        axes[0].text(i, c, f"{c:.3f}", ha="center", va="bottom", fontsize=8)
    axes[0].axhline(1 - alpha, color="black", linestyle="--", label=f"target {1 - alpha:.2f}")
    axes[0].set_ylim(0, 1.05)
    axes[0].set_ylabel("coverage on the locked test")
    axes[0].set_title("Conformal coverage")
    axes[0].legend(fontsize=8, loc="lower right")
    sizes = np.asarray(ev.arrays.get("test_sets", np.array([], dtype=np.int64)), dtype=np.int64)
    draw_set_sizes(axes[1], sizes)
    alt = (
        "Bar charts of conformal coverage ("
        + ", ".join(f"{m.upper()} {c:.3f}" for m, c in zip(methods, cover, strict=True))
        + f" against the target {1 - alpha:.2f}) and of prediction set sizes"
    )
    return figure_html(fig, alt)


def draw_set_sizes(ax: Any, sizes: np.ndarray[Any, Any]) -> None:
    """Draw how many locked-test rows have each prediction set size, on whole-number ticks.

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> draw_set_sizes(ax, np.arange(31))
    >>> len(ax.get_xticks()) <= 10
    True
    """
    if len(sizes):
        counts = np.bincount(sizes)
        ax.bar(np.arange(len(counts)), counts, color=NEUTRAL)
    count_ticks(ax, "x")
    count_ticks(ax, "y")
    ax.set_xlabel("prediction set size (0 = empty set)")
    ax.set_ylabel("locked-test rows")
    ax.set_title("Set sizes of the shipped sets")


def _test(ev: Evidence) -> LockedTest:
    return ev.fit.trust.test or LockedTest()


def _kept(value: bool | None) -> str:
    return "for information" if value is None else ("kept ✓" if value else "missed ✗")


def _promises_takeaway(ev: Evidence, promises: list[Promise], alpha: float) -> str:
    checked = [p for p in promises if p.kept is not None]
    missed = [p.name for p in checked if p.kept is False]
    splits = ev.fit.splits
    n = (splits.test_rows if splits else 0) or len(ev.arrays.get("y_test", []))
    line = (
        f"{len(checked) - len(missed)} of {len(checked)} promises kept on the {n}-row locked test"
    )
    if missed:
        line += f" (missed: {', '.join(missed)})"
    lac = _test(ev).conformal.get("lac")
    if lac:
        line += (
            f"; LAC prediction sets cover {pct(lac.coverage)} (target "
            f"{pct(1 - alpha)}) with mean size {fmt(lac.mean_size, 2)}"
        )
    return line + "."


def _promises_tables(ev: Evidence) -> list[Html]:
    test = _test(ev)
    rows = [
        [m.upper(), fmt(v.coverage), fmt(v.mean_size, 2), pct(v.empty_share)]
        for m, v in test.conformal.items()
    ]
    return [
        table(
            ["method", "coverage", "mean set size", "empty sets"],
            rows,
            "Conformal prediction sets on the locked test",
        ),
        table(["decision", "rows"], list(test.decisions.items()), "Decisions on the locked test"),
    ]


def promises_section(ev: Evidence) -> Section:
    """The promised / measured table on the locked test; conformal coverage and set sizes."""
    promises = need(ev.fit.trust.promises, "trust.promises")
    conformal = ev.fit.trust.conformal
    alpha = float(conformal.alpha if conformal else ev.find("spec.alpha", 0.1))
    body = table(
        ["promise", "promised", "measured", "verdict"],
        [[p.name, p.promised, p.measured, _kept(p.kept)] for p in promises],
        "Promised on validation, measured on the locked test",
    )
    missed = [p.name for p in promises if p.kept is False]
    figures = [_conformal_figure(ev, alpha)] if _test(ev).conformal else []
    return Section(
        "promises",
        "Promises",
        _promises_takeaway(ev, promises, alpha),
        figures=figures,
        tables=_promises_tables(ev),
        body=[body],
        banners=[f"Promise missed on the locked test: {m}." for m in missed],
    )
