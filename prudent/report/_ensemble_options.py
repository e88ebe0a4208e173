"""The ensemble options of section 3, each beside the baseline it had to beat.

Greedy selection is compared with the best single model; stacking recalibrates as it
combines, so it is compared with the best member recalibrated by a one-member meta-model
(``single_stacked`` in the evidence). That baseline is not an option that could ship, and
a reader who sees it as one would find an unchosen option better than the chosen one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prudent.bundle._evidence import Choice
from prudent.report._html import Html, fmt, table
from prudent.report._plots import GOOD, GREY, NEUTRAL, figure_html, hbars, new_figure

__all__ = ["EnsembleOption", "ensemble_figure", "ensemble_options", "ensemble_table", "gains_line"]

STACKING_BASELINE = "single_stacked"
_BASELINE_OF = {"greedy": "single", "stacking": STACKING_BASELINE}
_BAR_BASELINE = {"greedy": "single", "stacking": "its baseline"}
_STACKING_BASELINE_LABEL = "baseline of stacking (best member recalibrated)"


@dataclass(frozen=True)
class EnsembleOption:
    """One bar and one row: an option, or the baseline an option is compared with.

    Parameters
    ----------
    key
        Its name in the evidence (``single``, ``greedy``, ``stacking``, ``single_stacked``).
    label
        What the reader sees.
    log_loss
        Its validation log loss (``None`` when not measured).
    baseline
        The label of the baseline it had to beat, for an ensemble.
    gain
        How much lower its log loss is than its baseline's (negative: higher).
    """

    key: str
    label: str
    log_loss: float | None
    baseline: str | None = None
    gain: float | None = None

    @property
    def is_option(self) -> bool:
        """Whether it could ship (stacking's baseline could not)."""
        return self.key != STACKING_BASELINE


def _label(key: str, best: str | None) -> str:
    if key == "single":
        return f"single ({best})" if best else "single"
    return _STACKING_BASELINE_LABEL if key == STACKING_BASELINE else key


def ensemble_options(ens: Choice) -> list[EnsembleOption]:
    """Return the options with each ensemble's gain over its baseline, the baselines last.

    Examples
    --------
    >>> ens = Choice("single", "m", "none won", options_log_loss={"single": 0.30,
    ...     "single_stacked": 0.28, "greedy": 0.31, "stacking": 0.29}, best_single="m")
    >>> [(o.key, o.gain and round(o.gain, 2)) for o in ensemble_options(ens)]
    [('single', None), ('greedy', -0.01), ('stacking', -0.01), ('single_stacked', None)]
    >>> ensemble_options(ens)[2].baseline
    'baseline of stacking (best member recalibrated)'
    """
    loss = {k: None if v is None else float(v) for k, v in ens.options_log_loss.items()}
    out = []
    for key, value in loss.items():
        base = _BASELINE_OF.get(key)
        base_loss = loss.get(base) if base else None
        gain = None if value is None or base_loss is None else base_loss - value
        label = _label(base, ens.best_single) if base and base in loss else None
        out.append(EnsembleOption(key, _label(key, ens.best_single), value, label, gain))
    return sorted(out, key=lambda o: not o.is_option)


def gains_line(options: list[EnsembleOption]) -> str:
    """Each ensemble's gain in validation log loss over its baseline, in words.

    Examples
    --------
    >>> gains_line([EnsembleOption("greedy", "greedy", 0.31, "single (m)", -0.01)])
    "each ensemble's gain in validation log loss over its own baseline: greedy -0.0100 vs \
single (m)"
    """
    parts = [f"{o.label} {o.gain:+.4f} vs {o.baseline}" for o in options if o.gain is not None]
    head = "each ensemble's gain in validation log loss over its own baseline: "
    return head + ", ".join(parts) if parts else ""


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
