"""The ensemble options of section 3 drawn: a table and bars, each option beside the
baseline it had to beat (:mod:`prudent.report._option_gains`).

Greedy selection is compared with the best single model; stacking recalibrates as it
combines, so it is compared with the best member recalibrated by a one-member meta-model
(``single_stacked`` in the evidence). That baseline is not an option that could ship, and
a reader who sees it as one would find an unchosen option better than the chosen one.
"""

from __future__ import annotations

from typing import Any

from prudent.bundle._evidence import Choice
from prudent.report._html import Html, fmt, table
from prudent.report._option_gains import EnsembleOption
from prudent.report._plots import GOOD, GREY, NEUTRAL, figure_html, hbars, new_figure

__all__ = ["ensemble_figure", "ensemble_table"]

_BAR_BASELINE = {"greedy": "single", "stacking": "its baseline"}


def ensemble_table(ens: Choice, options: list[EnsembleOption]) -> Html:
    """The options' table: log loss, the baseline each had to beat and the gain over it."""
    rows = [
        [
            o.label,
            fmt(o.log_loss, 4),
            o.baseline or "—",
            "—" if o.gain is None else f"{o.gain:+.4f}",
            "shipped" if o.key == ens.kind else ("option" if o.is_option else "baseline only"),
        ]
        for o in options
    ]
    return table(
        ["option", "validation log loss", "compared with", "gain over it", "role"],
        rows,
        "Ensemble options (an ensemble ships only when it beats its own baseline)",
    )


def _annotate(ax: Any, options: list[EnsembleOption], values: list[float]) -> None:
    for i, (o, v) in enumerate(zip(options, values, strict=True)):
        position = len(options) - 1 - i
        if not o.is_option:
            ax.patches[i].set_hatch("///")
            ax.patches[i].set_alpha(0.5)
        if o.gain is not None:
            ax.text(
                v, position, f" {o.gain:+.4f} vs {_BAR_BASELINE[o.key]}", va="center", fontsize=7
            )


def ensemble_figure(ens: Choice, options: list[EnsembleOption]) -> Html:
    """Validation log loss per option (hatched: stacking's baseline) and member weights."""
    shown = [o for o in options if o.log_loss is not None]
    values = [float(o.log_loss or 0.0) for o in shown]
    members = ens.members
    fig, axes = new_figure(7.6, 1.4 + 0.3 * max(len(shown), len(members), 2), ncols=2)
    colors = [GOOD if o.key == ens.kind else GREY for o in shown]
    labels = [o.label if o.is_option else "stacking's baseline" for o in shown]
    hbars(axes[0], labels, values, colors, limit=30)
    _annotate(axes[0], shown, values)
    low, high = min(values, default=0.0), max(values, default=1.0)
    axes[0].set_xlim(low * 0.9, high * 1.12 + 1e-9)
    axes[0].set_xlabel("validation log loss (lower is better)")
    axes[0].set_title(f"Options (green: shipped, {ens.kind})")
    hbars(axes[1], list(members), list(members.values()), NEUTRAL)
    axes[1].set_xlim(0, 1)
    axes[1].set_xlabel("weight")
    axes[1].set_title("Members of the shipped model")
    alt = (
        "Bar charts of validation log loss per ensemble option ("
        + ", ".join(f"{o.label} {v:.4f}" for o, v in zip(shown, values, strict=True))
        + ") and member weights ("
        + ", ".join(f"{k} {v:.2f}" for k, v in members.items())
        + ")"
    )
    caption = (
        "Hatched: stacking's baseline, the best member recalibrated by a one-member "
        "meta-model (single_stacked), not an option. Beside each ensemble: its gain in log "
        "loss over its own baseline (greedy: the single model; stacking: its baseline)."
    )
    return figure_html(fig, alt, caption)
