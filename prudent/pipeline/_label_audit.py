"""The label audit of a fit: the training rows whose label the out-of-fold baseline
contradicts, the most suspect listed with their inputs, and the notice that says how
worrying they are."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from prudent._typing import EncodedLabels, IntArray, ProbaMatrix
from prudent.data import Splits, Target
from prudent.metrics import find_label_issues
from prudent.models._calibration_maps import EPS_IN, apply_map, clip_normalise, fit_map

__all__ = [
    "CONTRADICTED",
    "LISTED_CELLS",
    "LISTED_ROWS",
    "MANY_SUSPECT",
    "LabelIssues",
    "audit_labels",
    "audit_notice",
    "tempered",
    "unweighted",
]

LISTED_ROWS = 1000
"""The bundle's label_issues.csv lists at most this many flagged rows, the most suspect first.

A person reviews a few hundred rows, not tens of thousands: on a 200,000-row, 40-class
table of hard but correctly labelled rows (25 inputs) the audit flagged 87,181, and listing
them all with their inputs wrote a 40 MB file in 2.2 s; the thousand most suspect take
0.45 MB and 0.03 s. The notice and the manifest give the count flagged in all, and
``drop_suspect_labels`` still drops every flagged row."""


LISTED_CELLS = 200_000
"""At most this many input values are listed (rows x columns), so that a wide table lists
fewer rows: 1,000 rows of 400 numeric inputs had taken 4.4 MB; 500 are listed there."""
MIN_LISTED = 100
"""Rows listed however wide the table."""


@dataclass(frozen=True)
class LabelIssues:
    """What the label audit found in a fit's training rows."""

    listed: pd.DataFrame
    """The :data:`LISTED_ROWS` most suspect flagged rows, most suspect first: table row,
    given and likely label, score, then the inputs (the bundle's label_issues.csv)."""
    rows: IntArray
    """The table row of every flagged row, most suspect first."""
    contradicted: int
    """How many flagged rows the model confidently gives another class: at least
    ``1 - CONTRADICTED`` probability."""

    @property
    def flagged(self) -> int:
        """How many training rows the audit flagged in all."""
        return len(self.rows)


def unweighted(P: ProbaMatrix, y: EncodedLabels, balanced: bool) -> ProbaMatrix:
    """A class-weighted fit's probabilities as an unweighted fit's: what the label audit
    reads.

    Weighting each class inversely to its frequency (``balanced``) makes the fit act as if
    the classes were equally common, so its probabilities overstate the small classes;
    multiplied by the class shares of ``y`` and renormalised, they are the probabilities
    under the classes' real frequencies (the prior-shift correction, Saerens et al. 2002).
    Read as they were, 54 frauds in 20,000 rows had the audit flag 4,168 of 16,000
    training rows, most of them 'ok' rows said likely 'fraud' at 0.93.

    Examples
    --------
    >>> P = np.array([[0.5, 0.5], [0.9, 0.1]])
    >>> unweighted(P, np.array([0, 0, 0, 1]), balanced=True).round(2)
    array([[0.75, 0.25],
           [0.96, 0.04]])
    """
    if not balanced:
        return P
    shares = np.bincount(y, minlength=P.shape[1]) / max(len(y), 1)
    Q = P * shares
    total = Q.sum(axis=1, keepdims=True)
    out: ProbaMatrix = np.divide(Q, total, out=np.full_like(Q, 1.0 / Q.shape[1]), where=total > 0)
    return out


def tempered(P: ProbaMatrix, y: EncodedLabels) -> ProbaMatrix:
    """``P`` at the temperature of lowest log loss on these rows: what the label audit reads.

    A confident contradiction is a claim of the baseline's probabilities, so they are read
    calibrated. One temperature fitted on thousands of out-of-fold rows hardly overfits, and
    it keeps each row's order of classes. Read as they were, the out-of-fold probabilities
    of a logistic regression overfitting 1,500 columns (held-out ECE 0.15, log loss 1.09)
    had 21% of a real grant table's correct labels "confidently contradicted", a warning to
    check the target column that the table did not deserve.

    Examples
    --------
    >>> P = np.array([[0.99, 0.01], [0.01, 0.99], [0.99, 0.01], [0.01, 0.99]])
    >>> tempered(P, np.array([0, 1, 1, 0])).round(2)  # right half the time: 50/50
    array([[0.5, 0.5],
           [0.5, 0.5],
           [0.5, 0.5],
           [0.5, 0.5]])
    """
    Q = clip_normalise(P, EPS_IN)  # as the calibrators clip before taking logs
    out: ProbaMatrix = apply_map("temperature", fit_map("temperature", Q, y), Q)
    return out


def audit_labels(
    target: Target, splits: Splits, oof_proba: ProbaMatrix, X: pd.DataFrame
) -> LabelIssues:
    """The flagged training rows, from out-of-fold probabilities of the training rows (in
    ``splits.train`` order), read at their best temperature (:func:`tempered`); the most
    suspect listed with their inputs."""
    y = target.y[splits.train]
    oof_proba = tempered(oof_proba, y)
    issues = find_label_issues(y, oof_proba)
    # a flagged row's likely class is never its given one: it is the most probable other
    other = oof_proba[issues["row"].to_numpy(), issues["likely"].to_numpy()]
    positions = splits.train[issues["row"].to_numpy()]
    most = min(LISTED_ROWS, max(MIN_LISTED, LISTED_CELLS // max(X.shape[1], 1)))
    top, shown = issues.head(most), positions[:most]
    audit = pd.DataFrame(
        {
            "row": target.original_rows[shown],
            "given": target.classes[top["given"].to_numpy()],
            "likely": target.classes[top["likely"].to_numpy()],
            "score": top["score"].to_numpy(),
        }
    )
    inputs = X.iloc[shown].reset_index(drop=True)
    inputs.columns = [f"input:{c}" if c in audit.columns else c for c in inputs.columns]
    return LabelIssues(
        listed=pd.concat([audit, inputs], axis=1),
        rows=target.original_rows[positions],
        contradicted=int((other >= 1.0 - CONTRADICTED).sum()),
    )


MANY_SUSPECT = 0.1
"""A label audit is a warning when this share of the training rows or more is flagged with
a label the out-of-fold model confidently contradicts (another class at least
``1 - CONTRADICTED`` probable): mislabelled rows, not merely hard ones (on hard data the
audit flags many rows, but not confidently)."""

CONTRADICTED = 0.3
"""A flagged label is confidently contradicted when the out-of-fold model gives another
class at least ``1 - CONTRADICTED`` probability. On two classes this is the given label at
most ``CONTRADICTED`` probable; on many, a given label of low probability is no
contradiction when no other class is likely either (40 hard classes: every label is
unlikely)."""


def _where(issues: LabelIssues) -> str:
    """Where the flagged rows are listed: all of them, or the most suspect."""
    if issues.flagged > len(issues.listed):
        return (
            f"the {len(issues.listed)} most suspect are listed with their inputs in the "
            "bundle's label_issues.csv"
        )
    return "listed with their inputs in the bundle's label_issues.csv"


def audit_notice(issues: LabelIssues, n_rows: int, error_rate: float) -> str:
    """The label audit's notice; a warning when many labels are confidently contradicted,
    and a caution when the flagged share is more than label noise plausibly is.

    Examples
    --------
    >>> import numpy as np
    >>> few = LabelIssues(pd.DataFrame(index=range(3)), np.arange(3), contradicted=1)
    >>> audit_notice(few, 100, 0.05)[:60]
    'Label audit: 3 training row(s) are hard or possibly mislabel'
    >>> many = LabelIssues(pd.DataFrame(index=range(12)), np.arange(12), contradicted=12)
    >>> audit_notice(many, 100, 0.12)[:64]
    'WARNING Label audit: 12 of 100 training rows (12%) have a label '
    """
    confident = issues.contradicted
    if confident >= MANY_SUSPECT * n_rows:
        return (
            f"WARNING Label audit: {confident} of {n_rows} training rows ({confident / n_rows:.0%})"
            " have a label the model confidently contradicts (it gives another class at least "
            f"{1 - CONTRADICTED:.0%} probability), and {issues.flagged} are hard or possibly "
            f"mislabelled in all: check the target column ({_where(issues)})."
        )
    text = (
        f"Label audit: {issues.flagged} training row(s) are hard or possibly mislabelled "
        f"({_where(issues)})."
    )
    share = issues.flagged / max(n_rows, 1)
    if share >= MANY_SUSPECT:
        text += (
            f" {share:.0%} of the rows is implausibly many for label noise, beside the "
            f"baseline's out-of-fold error rate of {error_rate:.0%}: most are likely hard rows "
            "rather than wrong labels; check a sample before dropping any."
        )
    return text
