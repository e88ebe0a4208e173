"""Why section 4's calibration map was chosen: each candidate map's scores and verdict.

The rule (:func:`prudent.models.calibrate_cross_fitted`): of the maps whose held-out
top-label ECE is no worse than the identity's, the lowest held-out log loss among those
whose ECE passes the consistency test (p ≥ 0.1), else among them all. A map of lower log
loss than the chosen one is then left out for its ECE, and the report says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prudent.bundle._evidence import Calibration
from prudent.models._calibration_choice import CONSISTENT_P
from prudent.report._html import Html, fmt, p_text, table

__all__ = ["calibrator_table", "calibrator_verdicts", "passed_over"]


def _numbers(c: Calibration, key: str) -> dict[str, float]:
    found: Any = c.extra.get(key)
    if not isinstance(found, Mapping):
        return {}
    return {str(k): float(v) for k, v in found.items() if v is not None}


def _verdict(name: str, c: Calibration, ece: dict[str, float], p: dict[str, float]) -> str:
    identity = ece.get("identity")
    if name in ece and identity is not None and ece[name] > identity:
        return f"worsens held-out ECE ({ece[name]:.3f} > the identity's {identity:.3f})"
    fails = name in p and p[name] < CONSISTENT_P
    if name == c.method:
        if fails:
            return "no map passes the ECE test: lowest log loss of those no worse"
        return "passes; lowest log loss of those that pass"
    if fails:
        return f"ECE test {p_text(p[name])}, fails (needs p ≥ {CONSISTENT_P:g})"
    return "passes; higher log loss" if name in p else ""


def calibrator_verdicts(c: Calibration) -> dict[str, str]:
    """Each candidate map's verdict under the rule, by name (empty without the ECE evidence).

    Examples
    --------
    >>> c = Calibration("sigmoid", {"identity": 0.37, "sigmoid": 0.38},
    ...     extra={"cv_ece": {"identity": 0.18, "sigmoid": 0.09},
    ...            "cv_ece_p": {"identity": 0.06, "sigmoid": 0.58}})
    >>> calibrator_verdicts(c)["identity"]
    'ECE test p=0.06, fails (needs p ≥ 0.1)'
    """
    ece, p = _numbers(c, "cv_ece"), _numbers(c, "cv_ece_p")
    if not ece:
        return {}
    return {name: _verdict(name, c, ece, p) for name in c.cv_log_loss}


def passed_over(c: Calibration) -> str:
    """Why maps of lower log loss than the chosen one were not shipped, in words.

    Examples
    --------
    >>> c = Calibration("sigmoid", {"identity": 0.37, "sigmoid": 0.38},
    ...     extra={"cv_ece": {"identity": 0.18, "sigmoid": 0.09},
    ...            "cv_ece_p": {"identity": 0.06, "sigmoid": 0.58}})
    >>> passed_over(c)
    "sigmoid was chosen over identity despite identity's lower log loss (0.3700 vs 0.3800), \
identity: ECE test p=0.06, fails (needs p ≥ 0.1)"
    """
    loss = {k: float(v) for k, v in c.cv_log_loss.items() if v is not None}
    chosen = loss.get(c.method)
    verdicts = calibrator_verdicts(c)
    lower = [m for m in loss if chosen is not None and loss[m] < chosen and verdicts.get(m)]
    return "; ".join(
        f"{c.method} was chosen over {m} despite {m}'s lower log loss ({loss[m]:.4f} vs "
        f"{chosen:.4f}), {m}: {verdicts[m]}"
        for m in lower
    )


def calibrator_table(c: Calibration) -> Html:
    """The candidate maps: held-out log loss, ECE, the ECE test's p-value and the verdict."""
    ece, p = _numbers(c, "cv_ece"), _numbers(c, "cv_ece_p")
    verdicts = calibrator_verdicts(c)
    rows = [
        [
            name + (" (shipped)" if name == c.method else ""),
            fmt(loss, 4),
            fmt(ece.get(name)),
            p_text(p[name]) if name in p else "not tested",
            verdicts.get(name, ""),
        ]
        for name, loss in c.cv_log_loss.items()
    ]
    return table(
        ["calibrator", "held-out log loss", "held-out ECE", "ECE test p", "verdict"],
        rows,
        "Calibrator choice: lowest log loss among maps whose ECE is no worse than the "
        f"identity's and passes the consistency test (p ≥ {CONSISTENT_P:g}); when none "
        "passes, among those no worse",
    )
