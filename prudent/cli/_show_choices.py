"""``prudent show``'s ensemble and calibration choices: every option with the figure it was
judged on, against its own baseline, and the rule that picked the winner."""

from __future__ import annotations

from rich.console import Console

from prudent.bundle._evidence import Calibration, Choice, LockedTest
from prudent.cli._show_format import fixed, p_text, signed
from prudent.cli._show_layout import Col, draw, say
from prudent.report._calibrators import calibrator_verdicts
from prudent.report._option_gains import STACKING_BASELINE, ensemble_options

__all__ = ["show_calibration", "show_ensemble"]

_SINGLE = "best single"
_RECAL = "recalibrated"


def _option_rows(e: Choice) -> list[list[str]]:
    """Each option's validation log loss, and each ensemble's gain over its own baseline
    (:func:`~prudent.report._option_gains.ensemble_options`, as the report shows them):
    greedy selection against the best single model, stacking (which recalibrates as it
    combines) against the best single model recalibrated the same way."""
    options = {o.key: o for o in ensemble_options(e)}
    rows = []
    for key, name in (
        ("single", f"{_SINGLE}: {e.best_single}"),
        ("greedy", "greedy selection"),
        (STACKING_BASELINE, f"{_SINGLE}, {_RECAL}"),
        ("stacking", "stacking"),
    ):
        o = options.get(key)
        if o is None or o.log_loss is None:
            continue
        gain = "" if o.gain is None else signed(o.gain, 4)
        against = {"greedy": _SINGLE, "stacking": _RECAL}.get(key, "")
        rows.append([name, fixed(o.log_loss, 4), gain, against, _outcome(e, key)])
    return rows


def _outcome(e: Choice, option: str) -> str:
    """Whether ``option`` ships, won but gave way to the baseline, or neither."""
    considered = e.extra.get("considered", e.kind)
    shipped = e.kind if e.kind != "single" else ("single" if e.primary == e.best_single else "")
    if option == shipped:
        return "shipped"
    if option == considered:
        return "best; not shipped"
    return ""


def show_ensemble(console: Console, e: Choice) -> None:
    """The shipped combination, every option's log loss and gain, and the McNemar test of
    the shipped model against the best single model (on accuracy)."""
    if e.kind == "single":
        head = f"none; {e.primary} is used alone"
    else:
        weights = ", ".join(f"{k} {v:.2f}" for k, v in e.members.items())
        head = f"{e.kind}, {len(e.members)} members ({weights})"
    say(console, "Ensemble:", head)
    if e.options_log_loss:
        cols = (
            Col("option"),
            Col("log loss", justify="right"),
            Col("gain", justify="right"),
            Col("over", drop=1),
            Col("", drop=2),
        )
        title = (
            "Ensemble options (validation log loss, lower is better); each ensemble's gain "
            "over its own baseline: greedy over the best single model, stacking (which "
            "recalibrates) over the best single model recalibrated"
        )
        draw(console, title, cols, _option_rows(e))
    vs = e.vs_best_single
    if vs is not None and e.best_single and e.primary != e.best_single:
        say(
            console,
            "",
            f"{e.primary} against the best single model {e.best_single}, on out-of-fold "
            f"accuracy: {vs.test}, {p_text(vs.p_value)}.",
        )


def _rule(consistent: bool, threshold: float) -> str:
    if consistent:
        return (
            "the lowest held-out log loss among the maps whose held-out top-label ECE passes "
            f"the consistency test (p ≥ {threshold:g}) and is no worse than the identity's"
        )
    return (
        f"no map's held-out top-label ECE passes the consistency test (p ≥ {threshold:g}): the "
        "lowest held-out log loss among the maps whose ECE is no worse than the identity's"
    )


def show_calibration(console: Console, c: Calibration, test: LockedTest) -> None:
    """The calibration map, the rule that chose it and every map's held-out figures."""
    from prudent.models._calibration_choice import CONSISTENT_P  # the rule's threshold

    ece, p = c.extra.get("cv_ece") or {}, c.extra.get("cv_ece_p") or {}
    after = (
        f"ECE on held-out rows {fixed(c.ece_before_holdout)} → {fixed(c.ece_after_holdout)}, "
        f"on the locked test {fixed(test.ece_raw)} → {fixed(test.ece_calibrated)}"
    )
    if not ece:  # a bundle saved before the ECE test was recorded
        scores = ", ".join(f"{k} {fixed(v, 4)}" for k, v in c.cv_log_loss.items())
        say(console, "Calibration:", f"{c.method} (held-out log loss: {scores}); {after}.")
        return
    consistent = any(v is not None and v >= CONSISTENT_P for v in p.values())
    verdicts = calibrator_verdicts(c)  # the rule's verdict per map, as the report words it
    say(console, "Calibration:", f"{c.method}, {_rule(consistent, CONSISTENT_P)}; {after}.")
    rows = [
        [
            m,
            fixed(loss, 4),
            fixed(ece.get(m)),
            p_text(p[m]).removeprefix("p=") if m in p else "—",
            "chosen" if m == c.method else verdicts.get(m, ""),
        ]
        for m, loss in c.cv_log_loss.items()
    ]
    cols = (
        Col("map"),
        Col("log loss", justify="right"),
        Col("ECE", justify="right"),
        Col("ECE p", justify="right"),
        Col("", drop=1),
    )
    draw(console, "Calibration maps (held-out, cross-fitted)", cols, rows)
