"""The ensemble options and the baseline each had to beat, with no plotting: the report's
section 3 and ``prudent show`` read them alike.

Greedy selection is compared with the best single model; stacking recalibrates as it
combines, so it is compared with the best member recalibrated by a one-member meta-model
(``single_stacked`` in the evidence). That baseline is not an option that could ship, and
a reader who sees it as one would find an unchosen option better than the chosen one.
"""

from __future__ import annotations

from dataclasses import dataclass

from prudent.bundle._evidence import Choice

__all__ = ["STACKING_BASELINE", "EnsembleOption", "ensemble_options", "gains_line"]

STACKING_BASELINE = "single_stacked"
_BASELINE_OF = {"greedy": "single", "stacking": STACKING_BASELINE}
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
