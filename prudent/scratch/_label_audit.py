"""Confident learning (Northcutt et al. 2021), from scratch, for learning.

The production version is :func:`prudent.metrics.find_label_issues`; a test checks that this
one flags the same rows. It uses plain Python loops so that every step can be read.

Given out-of-fold probabilities (each row scored by a model that never saw its label):

1. per-class threshold ``t[j]``: the average probability of class j among rows labelled j;
2. confident joint: a row labelled ``i`` whose probability of some class j reaches ``t[j]``
   is counted in cell (i, j) (the most probable such j);
3. calibrate the joint so that row i sums to the number of rows labelled i and the whole
   table to n; cell (i, j) then estimates how many rows labelled i are really j;
4. flag that many rows labelled i, those where class j beats class i by the widest margin;
5. keep only flagged rows whose most probable class is not the given one, and rank them
   by ``1 - p(given label)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["LabelIssue", "find_label_issues"]


class LabelIssue(NamedTuple):
    """One suspicious row: its position, given class, likely class and suspicion score."""

    row: int
    given: int
    likely: int
    score: float


def _thresholds(y: Sequence[int], proba: Sequence[Sequence[float]], k: int) -> list[float]:
    sums, counts = [0.0] * k, [0] * k
    for label, row in zip(y, proba, strict=True):
        sums[label] += row[label]
        counts[label] += 1
    return [sums[j] / counts[j] if counts[j] else math.inf for j in range(k)]


def _confident_joint(y: Sequence[int], proba: Sequence[Sequence[float]], k: int) -> list[list[int]]:
    t = _thresholds(y, proba, k)
    joint = [[0] * k for _ in range(k)]
    for label, row in zip(y, proba, strict=True):
        above = [j for j in range(k) if row[j] >= t[j] - 1e-9]  # tolerance for rounding
        if above:
            joint[label][max(above, key=lambda j: row[j])] += 1
    return joint


def _rows_to_flag(y: Sequence[int], joint: list[list[int]], k: int) -> list[list[int]]:
    n_given = [sum(1 for label in y if label == i) for i in range(k)]
    calibrated = [
        [joint[i][j] * n_given[i] / sum(joint[i]) if sum(joint[i]) else 0.0 for j in range(k)]
        for i in range(k)
    ]
    scale = len(y) / sum(map(sum, calibrated))
    # round half up (with slack for float noise): how many rows to flag in each cell
    return [
        [math.floor(c * scale + 0.5 + 1e-9) if i != j else 0 for j, c in enumerate(r)]
        for i, r in enumerate(calibrated)
    ]


def find_label_issues(y: Sequence[int], proba: Sequence[Sequence[float]]) -> list[LabelIssue]:
    """Return the suspicious rows, most suspicious first.

    Examples
    --------
    >>> y = [0] * 10 + [1] * 10
    >>> y[3] = 1
    >>> proba = [[0.9, 0.1]] * 10 + [[0.1, 0.9]] * 10
    >>> find_label_issues(y, proba)
    [LabelIssue(row=3, given=1, likely=0, score=0.9)]
    """
    k = len(proba[0])
    to_flag = _rows_to_flag(y, _confident_joint(y, proba, k), k)
    flagged = set()
    for given in range(k):
        rows = [i for i, label in enumerate(y) if label == given]
        for likely in range(k):
            by_margin = sorted(rows, key=lambda i: -(proba[i][likely] - proba[i][given]))
            flagged.update(by_margin[: to_flag[given][likely]])
    issues = []
    for i in sorted(flagged):
        likely = max(range(k), key=lambda j: proba[i][j])
        if likely != y[i]:
            issues.append(LabelIssue(i, y[i], likely, 1.0 - proba[i][y[i]]))
    return sorted(issues, key=lambda issue: (-issue.score, issue.row))
