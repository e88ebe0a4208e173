"""The label audit of a fit: the training rows whose label the out-of-fold baseline
contradicts, listed with their inputs, and the notice that says how worrying they are."""

from __future__ import annotations

import pandas as pd

from prudent.data import Splits, Target
from prudent.metrics import find_label_issues
from prudent.pipeline._engine import CandidateRun

__all__ = ["CONTRADICTED", "MANY_SUSPECT", "audit_labels", "audit_notice"]


def audit_labels(
    target: Target, splits: Splits, run: CandidateRun, X: pd.DataFrame
) -> pd.DataFrame:
    """The flagged training rows: table row, given and likely label, score, then the inputs."""
    y_train = target.y[splits.train]
    issues = find_label_issues(y_train, run.oof_proba)
    positions = splits.train[issues["row"].to_numpy()]
    audit = pd.DataFrame(
        {
            "row": target.original_rows[positions],
            "given": target.classes[issues["given"].to_numpy()],
            "likely": target.classes[issues["likely"].to_numpy()],
            "score": issues["score"].to_numpy(),
        }
    )
    inputs = X.iloc[positions].reset_index(drop=True)
    inputs.columns = [f"input:{c}" if c in audit.columns else c for c in inputs.columns]
    out: pd.DataFrame = pd.concat([audit, inputs], axis=1)
    return out


MANY_SUSPECT = 0.1
"""A label audit is a warning when this share of the training rows or more is flagged with
a label the out-of-fold model gives at most :data:`CONTRADICTED` probability: mislabelled
rows, not merely hard ones (on hard data the audit flags many rows, but not confidently)."""

CONTRADICTED = 0.3


def audit_notice(issues: pd.DataFrame, n_rows: int, error_rate: float) -> str:
    """The label audit's notice; a warning when many labels are confidently contradicted,
    and a caution when the flagged share is more than label noise plausibly is.

    Examples
    --------
    >>> audit_notice(pd.DataFrame({"score": [0.9, 0.6, 0.6]}), 100, 0.05)[:60]
    'Label audit: 3 training row(s) are hard or possibly mislabel'
    >>> audit_notice(pd.DataFrame({"score": [0.9] * 12}), 100, 0.12)[:64]
    'WARNING Label audit: 12 of 100 training rows (12%) have a label '
    """
    confident = int((issues["score"] >= 1.0 - CONTRADICTED).sum())
    if confident >= MANY_SUSPECT * n_rows:
        return (
            f"WARNING Label audit: {confident} of {n_rows} training rows ({confident / n_rows:.0%})"
            f" have a label the model gives at most {CONTRADICTED:.0%} probability, and "
            f"{len(issues)} are hard or possibly mislabelled in all: check the target column "
            "(listed with their inputs in the bundle's label_issues.csv)."
        )
    text = (
        f"Label audit: {len(issues)} training row(s) are hard or possibly mislabelled (listed "
        "with their inputs in the bundle's label_issues.csv)."
    )
    share = len(issues) / max(n_rows, 1)
    if share >= MANY_SUSPECT:
        text += (
            f" {share:.0%} of the rows is implausibly many for label noise, beside the "
            f"baseline's out-of-fold error rate of {error_rate:.0%}: most are likely hard rows "
            "rather than wrong labels; check a sample before dropping any."
        )
    return text
