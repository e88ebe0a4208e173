"""The promotion gate: a challenger replaces the champion only when it is worse on nothing
and better on something, measured on rows neither was fitted on.

Up to three sets of rows, each answered by both models: the champion's locked test set (the
up to 2,000 rows its bundle keeps; the challenger's retrain leaves every row with the same
inputs out of its training table); the recent labelled feedback the challenger kept for the
gate (none the champion was fitted or calibrated on); and, once labelled, the live requests
both answered while the challenger ran as the service's shadow (``serve --shadow``). On each:
balanced accuracy of the label given (paired bootstrap; McNemar on plain accuracy beside it),
log loss (paired bootstrap, non-inferiority), calibration (ECE consistency test) and the
challenger's accepted accuracy against its promise; on known OOD rows, when given, the OOD
AUROC; and the time per row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prudent.bundle import LABEL_COLUMN, Bundle, read_test_rows
from prudent.data import validate_frame
from prudent.errors import RegistryError
from prudent.retrain._feedback import FeedbackIds, labelled_feedback
from prudent.retrain._gate_checks import (
    BETTER,
    NOT_MEASURED,
    PROMISE_CHECK,
    WORSE,
    Check,
    GateOptions,
    Scored,
    latency_check,
    ood_check,
    paired_checks,
    promised_accuracy,
)
from prudent.retrain._interface import interface_change
from prudent.retrain._shadow import LIVE, shadow_scored
from prudent.store import ShadowLog

__all__ = ["GateResult", "run_gate"]

MIN_ROWS = 30
"""The fewest rows a set must have to be compared on."""

TEST, FEEDBACK = "locked test set", "recent feedback"


@dataclass
class GateResult:
    """The gate's verdict and every comparison behind it."""

    champion: str
    challenger: str
    checks: list[Check]
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Worse on none and better on at least one."""
        verdicts = [c.verdict for c in self.checks]
        return WORSE not in verdicts and BETTER in verdicts

    def reason(self) -> str:
        """One line: why the challenger passes or not, naming each failing check: worse
        than the champion, or below its own promise (a check of the challenger alone)."""
        failing = [c for c in self.checks if c.verdict == WORSE]
        better = [f"{c.name} on the {c.rows}" for c in self.checks if c.verdict == BETTER]
        if failing:
            return "; ".join(self._failure(c) for c in failing)
        if not better:
            return f"{self.challenger} is not better than {self.champion} on any check"
        return f"{self.challenger} is better than {self.champion} on " + ", ".join(better)

    def _failure(self, check: Check) -> str:
        where = f"on the {check.rows} ({check.detail})"
        if check.name == PROMISE_CHECK:
            return f"{self.challenger} is below its own promise ({check.name}) {where}"
        return f"{self.challenger} is worse than {self.champion} on {check.name} {where}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "champion": self.champion, "challenger": self.challenger, "passed": self.passed,
            "reason": self.reason(), "checks": [c.to_dict() for c in self.checks],
            "notes": self.notes,
        }  # fmt: skip


def _test_rows(champion: Bundle) -> tuple[pd.DataFrame, np.ndarray[Any, Any]] | None:
    rows = read_test_rows(champion.extras)
    if rows is None:
        return None
    labels = np.asarray(champion.model.classes)[rows[LABEL_COLUMN].to_numpy(dtype=np.int64)]
    return rows[champion.schema.feature_names], labels


def _feedback_rows(
    champion: Bundle, challenger: Bundle, log_url: str
) -> tuple[pd.DataFrame, np.ndarray[Any, Any]] | str:
    kept = FeedbackIds.of(challenger.manifest).gate
    if kept is None:
        return "the challenger was not made by prudent retrain: its fitted feedback is unknown"
    rows = labelled_feedback(log_url, champion.schema, champion.classes)
    ids = rows.index.astype(str)
    rows = rows[ids.isin(kept) & ~ids.isin(FeedbackIds.of(champion.manifest).used)]
    return rows[champion.schema.feature_names], rows[champion.schema.target].to_numpy()


def _compare(
    name: str, X: pd.DataFrame, labels: np.ndarray[Any, Any], pair: tuple[Bundle, Bundle],
    opts: GateOptions,
) -> list[Check]:  # fmt: skip
    a, b = (Scored.of(bundle.predictions(X)) for bundle in pair)
    return paired_checks(name, a, b, list(labels), promised_accuracy(pair[1].manifest), opts)


def _live(
    champion: Bundle, challenger: Bundle, log_url: str, opts: GateOptions, notes: list[str]
) -> list[Check]:
    """The pairs ``serve --shadow`` logged with the challenger as shadow, once labelled."""
    with ShadowLog.open(log_url) as store:
        pairs = store.labelled_pairs(
            shadow_version=challenger.version, champion_version=champion.version
        )
    if len(pairs) < MIN_ROWS:
        notes.append(
            f"Not compared on {LIVE}: {len(pairs)} labelled rows scored by both (prudent serve "
            f"--shadow), fewer than {MIN_ROWS}."
        )
        return []
    a, b, labels = shadow_scored(pairs)
    return paired_checks(LIVE, a, b, labels, promised_accuracy(challenger.manifest), opts)


def _latency(X: pd.DataFrame, pair: tuple[Bundle, Bundle], opts: GateOptions) -> Check:
    rows = X.iloc[:500]
    best = [np.inf, np.inf]
    for _ in range(3):
        for i, bundle in enumerate(pair):
            start = time.perf_counter()
            bundle.predictions(rows)
            best[i] = min(best[i], (time.perf_counter() - start) * 1000 / len(rows))
    return latency_check(best[0], best[1], len(rows), opts)


def _ood(
    X_test: pd.DataFrame, ood: pd.DataFrame, pair: tuple[Bundle, Bundle], opts: GateOptions
) -> Check:
    scores = []
    for bundle in pair:
        X_in, _ = validate_frame(X_test, bundle.schema)
        X_out, _ = validate_frame(ood, bundle.schema)
        scores.append(tuple(bundle.model.predictions(X).ood_score for X in (X_in, X_out)))
    return ood_check(scores[0], scores[1], opts)  # type: ignore[arg-type]


def run_gate(
    champion: Bundle,
    challenger: Bundle,
    *,
    names: tuple[str, str],
    log_url: str | None = None,
    ood: pd.DataFrame | None = None,
    options: GateOptions | None = None,
) -> GateResult:
    """Compare ``challenger`` with ``champion`` on the rows neither was fitted on.

    Parameters
    ----------
    champion, challenger
        The two bundles (same target, classes and inputs).
    names
        Their registry names, for the messages.
    log_url
        The prediction log holding the recent labels (none: the test set only).
    ood
        Known out-of-distribution rows, for the OOD AUROC.
    options
        The gate's thresholds.

    Returns
    -------
    GateResult

    Raises
    ------
    RegistryError
        The two bundles differ in their target, classes or input columns.
    """
    change = interface_change(champion.manifest, challenger.manifest)
    if change is not None:
        raise RegistryError(
            f"The gate compares models with the same target, classes and inputs: {names[1]} "
            f"has other {change.part} than {names[0]} ({change.detail()})."
        )
    opts = options or GateOptions()
    pair, result = (champion, challenger), GateResult(names[0], names[1], [])
    test = _test_rows(champion)
    if test is None:
        result.notes.append(f"{names[0]} keeps no locked test rows; not compared on them.")
    else:
        result.checks += [*_compare(TEST, *test, pair, opts), _latency(test[0], pair, opts)]
    feedback = _feedback_rows(champion, challenger, log_url) if log_url else "no log given"
    if isinstance(feedback, str):
        result.notes.append(f"Not compared on recent feedback: {feedback}.")
    elif len(feedback[1]) < MIN_ROWS:
        n = len(feedback[1])
        result.notes.append(f"Not compared on recent feedback: {n} rows, fewer than {MIN_ROWS}.")
    else:
        result.checks += _compare(FEEDBACK, *feedback, pair, opts)
    if log_url:
        result.checks += _live(champion, challenger, log_url, opts, result.notes)
    if ood is not None and test is not None:
        result.checks.append(_ood(test[0], ood, pair, opts))
    else:
        result.checks.append(Check("OOD AUROC", "-", NOT_MEASURED, None, None, "no OOD rows"))
    return result
