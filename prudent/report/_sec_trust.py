"""Sections 3 and 4: diversity and the ensemble, then confidence and calibration."""

from __future__ import annotations

from typing import Any

import numpy as np

from prudent.bundle._evidence import Choice, Diversity
from prudent.metrics import ece_from_confidence
from prudent.report._calibrators import calibrator_table, passed_over
from prudent.report._ensemble_options import ensemble_figure, ensemble_table
from prudent.report._evidence import Evidence, MissingEvidence, need
from prudent.report._html import Html, Section, fmt, p_text, table
from prudent.report._option_gains import EnsembleOption, ensemble_options, gains_line
from prudent.report._plots import (
    BAD,
    GOOD,
    GREY,
    NEUTRAL,
    count_ticks,
    figure_html,
    heatmap,
    new_figure,
)

__all__ = ["confidence_section", "diversity_section", "draw_confidence"]

_BINS = 10
_MATRIX_NAMES = {"yules_q": "Yule's Q"}


def _diversity_figure(div: Diversity) -> Html:
    models = div.models
    matrix = np.asarray(div.error_correlation, dtype=float)
    side = min(9.0, 2.8 + 0.4 * len(models))
    fig, ax = new_figure(side + 1.2, side)
    heatmap(ax, matrix, (models, models), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_title("Error correlation on out-of-fold predictions (low = diverse)")
    pairs = _pairs(models, matrix)
    alt = f"Heatmap of error correlation between {len(models)} models; " + (
        f"most diverse pair {pairs[0][0]} and {pairs[0][1]} at {pairs[0][2]:.2f}" if pairs else ""
    )
    return figure_html(fig, alt, wide=len(models) > 12)


def _pairs(models: list[str], matrix: np.ndarray[Any, Any]) -> list[tuple[str, str, float]]:
    out = [
        (models[i], models[j], float(matrix[i, j]))
        for i in range(len(models))
        for j in range(i + 1, len(models))
    ]
    return sorted(out, key=lambda p: p[2])


def _diversity_takeaway(ens: Choice, options: list[EnsembleOption], div: Diversity | None) -> str:
    members = ens.members
    shipped = next((o for o in options if o.key == ens.kind), None)
    if ens.kind != "single" and len(members) > 1:
        p_value = ens.vs_best_single.p_value if ens.vs_best_single else None
        baseline = shipped.baseline if shipped and shipped.baseline else "its baseline"
        head = (
            f"The {ens.kind} ensemble of {len(members)} models lowers validation log loss "
            f"by {fmt(ens.gain_log_loss, 4)} vs {baseline} (McNemar {p_text(p_value)} vs the "
            f"best single model {ens.best_single})"
        )
    else:
        gains = gains_line(options)
        head = f"One model is shipped ({ens.primary}): {ens.reason.rstrip('.')}"
        head += f"; {gains}" if gains else ""
    if div is not None:
        pairs = _pairs(div.models, np.asarray(div.error_correlation, dtype=float))
        if pairs:
            a, b, value = pairs[0]
            head += f"; most diverse pair {a}/{b} (error correlation {value:.2f})"
    return head.rstrip(".") + "."


def _diversity_tables(
    ens: Choice, options: list[EnsembleOption], div: Diversity | None
) -> list[Html]:
    tables = []
    if div is not None:
        models = div.models
        for key, values in div.matrices().items():
            m = np.asarray(values, dtype=float)
            tables.append(
                table(
                    ["", *models],
                    [[models[i], *(fmt(v) for v in m[i])] for i in range(len(models))],
                    _MATRIX_NAMES.get(key, key.replace("_", " ").capitalize()),
                )
            )
        tables.append(
            table(
                ["model", "rows only it gets right", "share"],
                [[u.model, u.rows, fmt(u.share)] for u in div.unique_signal],
                "Unique signal",
            )
        )
    tables.append(ensemble_table(ens, options))
    single_p = ens.vs_best_single.p_value if ens.vs_best_single else None
    facts: list[list[object]] = [
        ["kind", ens.kind],
        ["best single model", ens.best_single],
        ["gain in log loss over its baseline", fmt(ens.gain_log_loss, 4)],
        ["vs best single (McNemar)", p_text(single_p)],
        ["vs baseline", ens.vs_baseline.verdict.replace("_", " ") if ens.vs_baseline else "—"],
        ["reason", ens.reason],
    ]
    facts += [[f"weight of {k}", fmt(v)] for k, v in ens.members.items()]
    tables.append(table(["what", "value"], facts, "The choice"))
    return tables


def diversity_section(ev: Evidence) -> Section:
    """The error-correlation heatmap, the ensemble's members and weights, and its gain."""
    ens = need(ev.fit.trust.ensemble or ev.fit.chosen, "chosen")
    div = ev.fit.trust.diversity
    if div is not None and not div.models:
        div = None
    options = ensemble_options(ens)
    figures = [ensemble_figure(ens, options)]
    if div is not None and div.error_correlation:
        figures.insert(0, _diversity_figure(div))
    takeaway = _diversity_takeaway(ens, options, div)
    if div is None:
        takeaway += " Fewer than two non-trivial models finished, so diversity is not measured."
    return Section(
        "diversity",
        "Diversity",
        takeaway,
        figures=figures,
        tables=_diversity_tables(ens, options, div),
        banners=[ens.flag] if ens.flag else [],
    )


def _top_label(y: np.ndarray[Any, Any], proba: np.ndarray[Any, Any]) -> tuple[Any, Any]:
    return proba.max(axis=1), proba.argmax(axis=1) == y


def _reliability(ax: Any, conf: Any, ok: Any, title: str) -> list[list[str]]:
    edges = np.linspace(0, 1, _BINS + 1)
    bins = np.clip(np.ceil(conf * _BINS).astype(int) - 1, 0, _BINS - 1)
    rows, centers, accs, counts = [], [], [], []
    for b in range(_BINS):
        mask = bins == b
        if mask.any():
            centers.append(float(conf[mask].mean()))
            accs.append(float(ok[mask].mean()))
            counts.append(int(mask.sum()))
            rows.append(
                [
                    f"{edges[b]:.1f}–{edges[b + 1]:.1f}",
                    str(counts[-1]),
                    fmt(centers[-1]),
                    fmt(accs[-1]),
                ]
            )
    ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", linewidth=1, label="perfect")
    ax.plot(centers, accs, marker="o", color=NEUTRAL, label="observed")
    sizes = np.asarray(counts, dtype=float)
    ax.scatter(
        centers, accs, s=20 + 200 * sizes / max(sizes.max(initial=1), 1), color=NEUTRAL, alpha=0.3
    )
    low = max(0.0, min(float(conf.min(initial=1.0)), 0.5) - 0.02)  # top-label confidence ≥ 1/k
    ax.set_xlim(low, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("confidence (top class)")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left")
    return rows


def _reliability_figure(ev: Evidence) -> tuple[Html, list[Html], tuple[float, float]]:
    rows = np.asarray(ev.array("holdout_rows"), dtype=np.int64)
    y = np.asarray(ev.array("y_train"), dtype=np.int64)[rows]
    raw = _top_label(y, np.asarray(ev.array("oof_primary_raw"))[rows])
    cal = _top_label(y, np.asarray(ev.array("oof_primary_calibrated"))[rows])
    c = ev.fit.trust.calibration
    ece = (
        (c and c.ece_before_holdout) or ece_from_confidence(*raw),
        (c and c.ece_after_holdout) or ece_from_confidence(*cal),
    )
    fig, axes = new_figure(7.2, 3.6, ncols=2)
    before = _reliability(axes[0], *raw, f"Before calibration: ECE {ece[0]:.3f}")
    after = _reliability(axes[1], *cal, f"After ({_method(ev)}): ECE {ece[1]:.3f}")
    alt = (
        f"Reliability diagrams on {len(rows)} held-out training rows, before (ECE {ece[0]:.3f}) "
        f"and after calibration (ECE {ece[1]:.3f}); points on the diagonal are calibrated"
    )
    headers = ["confidence bin", "rows", "mean confidence", "accuracy"]
    tables = [
        table(headers, before, "Reliability before calibration (held-out rows)"),
        table(headers, after, "Reliability after calibration (held-out rows)"),
    ]
    return figure_html(fig, alt), tables, (float(ece[0]), float(ece[1]))


def draw_confidence(ax: Any, conf: np.ndarray[Any, Any], ok: np.ndarray[Any, Any]) -> None:
    """Draw histograms of the confidence of right and wrong labels; counts on whole numbers
    (a log scale when right labels outnumber wrong ones 20 to 1).

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> draw_confidence(ax, np.linspace(0.5, 1, 9), np.arange(9) > 2)
    >>> all(float(t).is_integer() for t in ax.get_yticks())
    True
    """
    edges = np.linspace(max(0.0, float(conf.min()) - 1e-9), 1.0, 21)
    ax.hist(conf[ok], bins=edges, color=GOOD, alpha=0.6, label=f"right ({int(ok.sum())})")
    ax.hist(conf[~ok], bins=edges, color=BAD, alpha=0.8, label=f"wrong ({int((~ok).sum())})")
    if ok.sum() > 20 * max((~ok).sum(), 1):
        ax.set_yscale("log")
    else:
        count_ticks(ax)
    ax.set_xlabel("calibrated confidence of the label given")
    ax.set_ylabel("locked-test rows")
    ax.set_title("Confidence of right and wrong predictions (locked test)")
    # a fixed place (the search for the "best" one can take over a second, and warns):
    # confident labels pile up on the right
    ax.legend(fontsize=8, loc="upper left")


def _confidence_histogram(ev: Evidence) -> tuple[Html, Html, str]:
    shipped = ev.shipped_labels()
    y, conf, ok = shipped.y, shipped.confidence, shipped.ok
    fig, ax = new_figure(6.4, 3.4)
    draw_confidence(ax, conf, ok)
    med = (
        float(np.median(conf[ok])) if ok.any() else float("nan"),
        float(np.median(conf[~ok])) if (~ok).any() else float("nan"),
    )
    alt = (
        f"Histogram of confidence on the locked test: {int(ok.sum())} right predictions "
        f"(median {fmt(med[0], 2)}), {int((~ok).sum())} wrong (median {fmt(med[1], 2)})"
    )
    line = (
        f"on the locked test, wrong predictions had median confidence {fmt(med[1], 2)} vs "
        f"{fmt(med[0], 2)} for right ones ({int((~ok).sum())} wrong of {len(y)})"
        if (~ok).any()
        else f"no prediction on the {len(y)}-row locked test is wrong (median confidence "
        f"{fmt(med[0], 2)})"
    )
    return figure_html(fig, alt), _confidence_table(conf, ok), line


def _method(ev: Evidence) -> str:
    c = ev.fit.trust.calibration
    return c.method if c else "?"


def _confidence_table(conf: Any, ok: Any) -> Html:
    rows = []
    for name, m in (("right", ok), ("wrong", ~ok)):
        values = conf[m]
        stats = (np.median(values), values.min(), values.max()) if m.any() else (None,) * 3
        rows.append([name, int(m.sum()), *(fmt(v) for v in stats)])
    headers = ["", "rows", "median confidence", "min", "max"]
    return table(headers, rows, "Confidence on the locked test")


def confidence_section(ev: Evidence) -> Section:
    """Reliability before and after calibration, and confidence of right vs wrong."""
    figures: list[Html] = []
    tables: list[Html] = []
    parts: list[str] = []
    try:
        reliability, numbers, (before, after) = _reliability_figure(ev)
        figures.append(reliability)
        tables.extend(numbers)
        parts.append(
            f"Calibration ({_method(ev)}) took held-out ECE from {before:.3f} to {after:.3f}"
        )
    except MissingEvidence:
        parts.append("The held-out calibration arrays are missing, so no reliability diagram")
    histogram, counts, line = _confidence_histogram(ev)
    figures.append(histogram)
    tables.append(counts)
    c = ev.fit.trust.calibration
    if c and c.cv_log_loss:
        tables.append(calibrator_table(c))
        parts.append(passed_over(c))
    return Section(
        "confidence",
        "Confidence",
        "; ".join([p for p in parts if p] + [line]) + ".",
        figures=figures,
        tables=tables,
    )
