"""Paired significance tests: McNemar per candidate, Holm across candidates, a verdict each.

Two models scored on the same rows differ only where one is right and the other wrong. McNemar's
test looks at those discordant rows alone: under "no difference", each discordant row is a fair
coin. Comparing several candidates to one baseline is a family of tests, so the p-values are
adjusted with Holm's step-down method, which controls the family-wise error rate.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from prudent._typing import FloatArray
from prudent.errors import ConfigError, DataError
from prudent.metrics._classification import accuracy, balanced_accuracy
from prudent.metrics._results import TestResult
from prudent.metrics._validation import check_labels_proba

__all__ = [
    "Comparison",
    "Verdict",
    "balanced_accuracy_diff_se",
    "compare_to_baseline",
    "holm",
    "mcnemar",
    "mean_se",
]

EXACT_BELOW = 25
"""McNemar uses the exact binomial test when there are fewer discordant rows than this."""


def mcnemar(correct_a: npt.ArrayLike, correct_b: npt.ArrayLike) -> TestResult:
    """Test whether two models scored on the same rows have the same accuracy.

    With fewer than 25 discordant rows the test is the exact two-sided binomial test of
    ``min(n01, n10)`` out of ``n01 + n10`` with p = 1/2; otherwise the chi-squared test with
    Edwards' continuity correction, ``(|n01 - n10| - 1)^2 / (n01 + n10)`` on one degree of freedom.

    Parameters
    ----------
    correct_a
        Whether model A is right on each row (booleans or 0/1).
    correct_b
        Whether model B is right on each row, the same rows in the same order.

    Returns
    -------
    TestResult
        ``n01`` counts rows A gets wrong and B right, ``n10`` rows A gets right and B wrong.
        With no discordant row the p-value is 1.

    Raises
    ------
    DataError
        When the arrays are empty, of different lengths, or not boolean.

    Examples
    --------
    >>> a = [1] * 10 + [0] * 2
    >>> b = [0] * 10 + [1] * 2
    >>> r = mcnemar(a, b)
    >>> r.name, r.n01, r.n10, round(r.p_value, 4)
    ('McNemar (exact binomial)', 2, 10, 0.0386)
    """
    a, b = _check_paired(correct_a, correct_b)
    n01 = int(np.count_nonzero(~a & b))
    n10 = int(np.count_nonzero(a & ~b))
    discordant = n01 + n10
    if discordant < EXACT_BELOW:
        low = min(n01, n10)
        p = 1.0 if discordant == 0 else min(1.0, 2.0 * float(stats.binom.cdf(low, discordant, 0.5)))
        return TestResult("McNemar (exact binomial)", float(low), p, n01, n10)
    statistic = (abs(n01 - n10) - 1.0) ** 2 / discordant
    p = float(stats.chi2.sf(statistic, df=1))
    return TestResult("McNemar (chi-squared, continuity-corrected)", statistic, p, n01, n10)


def _check_paired(
    correct_a: npt.ArrayLike, correct_b: npt.ArrayLike
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Return both correctness vectors as booleans, or raise a ``DataError``."""
    a, b = np.asarray(correct_a), np.asarray(correct_b)
    if a.ndim != 1 or a.shape[0] == 0 or a.shape != b.shape:
        raise DataError(
            f"correct_a and correct_b must be non-empty 1-D arrays of the same length, but have "
            f"shapes {a.shape} and {b.shape}; pass both models' correctness on the same rows."
        )
    for name, arr in (("correct_a", a), ("correct_b", b)):
        if arr.dtype != np.bool_ and not np.isin(arr, (0, 1)).all():
            raise DataError(
                f"{name} must hold booleans or 0/1, but has dtype {arr.dtype} with other "
                "values; pass (prediction == label)."
            )
    return a.astype(np.bool_), b.astype(np.bool_)


def holm(p_values: npt.ArrayLike) -> FloatArray:
    """Return Holm step-down adjusted p-values, in the input order.

    The i-th smallest of m p-values is multiplied by ``m - i + 1``, the running maximum is
    taken so that adjusted values keep the order of the raw ones, and the result is capped
    at 1. Rejecting the adjusted p-values below alpha is Holm's procedure at level alpha.

    Parameters
    ----------
    p_values
        Raw p-values in ``[0, 1]``, shape ``(m,)``.

    Returns
    -------
    ndarray
        Adjusted p-values, shape ``(m,)``.

    Raises
    ------
    DataError
        When a p-value is NaN or outside ``[0, 1]``.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03, 0.005]).round(4).tolist()
    [0.03, 0.06, 0.06, 0.02]
    """
    p = np.asarray(p_values, dtype=np.float64).reshape(-1)
    if not np.all((p >= 0.0) & (p <= 1.0)):
        raise DataError(
            f"p_values must lie in [0, 1], but include {float(p[~((p >= 0) & (p <= 1))][0])!r}; "
            "pass the raw p-values of the tests."
        )
    m = p.shape[0]
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


class Verdict(enum.StrEnum):
    """How a candidate compares with the baseline, after Holm's adjustment.

    Examples
    --------
    >>> Verdict("worse") is Verdict.WORSE
    True
    """

    BETTER = "better"
    """Significantly more accurate than the baseline."""
    NOT_BETTER = "not_better"
    """Not significantly different from the baseline."""
    WORSE = "worse"
    """Significantly less accurate than the baseline: expected of a weak family, a warning
    sign for one that ought to win (see ``prudent.models.ought_to_beat_baseline``)."""


@dataclass(frozen=True)
class Comparison:
    """One candidate against the baseline.

    Parameters
    ----------
    test
        McNemar's test with the baseline as model A and the candidate as model B, so ``n01``
        counts rows only the candidate gets right.
    p_value
        The raw p-value of the test.
    p_adjusted
        The Holm-adjusted p-value across all candidates.
    accuracy_diff
        Candidate accuracy minus baseline accuracy.
    balanced_accuracy_diff
        Candidate balanced accuracy minus baseline balanced accuracy.
    verdict
        :class:`Verdict` at the chosen alpha.
    balanced_accuracy_se
        The standard error of ``balanced_accuracy_diff``, paired on the rows
        (:func:`balanced_accuracy_diff_se`); ``nan`` when not measured.

    Examples
    --------
    >>> c = Comparison(TestResult("t", 0.0, 1.0, 0, 0), 1.0, 1.0, 0.0, 0.0, Verdict.NOT_BETTER)
    >>> str(c.verdict)
    'not_better'
    """

    test: TestResult
    p_value: float
    p_adjusted: float
    accuracy_diff: float
    balanced_accuracy_diff: float
    verdict: Verdict
    balanced_accuracy_se: float = math.nan

    @property
    def balanced_accuracy_lower(self) -> bool:
        """Whether the balanced accuracy is lower by more than two paired standard errors
        (lower at all when the error was not measured)."""
        if math.isnan(self.balanced_accuracy_se):
            return self.balanced_accuracy_diff < 0
        return self.balanced_accuracy_diff < -2.0 * self.balanced_accuracy_se


def mean_se(d: npt.ArrayLike, groups: Any = None) -> float:
    """The standard error of the mean of ``d``; with ``groups``, clustered by group (the
    rows of a group are not independent draws: the sum of each group's deviations counts
    once, with the small-sample factor ``g / (g - 1)``). 0 for fewer than two values.

    Examples
    --------
    >>> d = np.array([1.0, 1.0, -1.0, -1.0])
    >>> round(mean_se(d), 3), round(mean_se(d, [0, 0, 1, 1]), 3)
    (0.577, 1.0)
    """
    values = np.asarray(d, dtype=float)
    n = values.size
    if n < 2:
        return 0.0
    if groups is None:
        return float(values.std(ddof=1)) / math.sqrt(n)
    codes = np.unique(np.asarray(groups), return_inverse=True)[1].ravel()
    sums = np.bincount(codes, weights=values - values.mean())
    g = sums.size
    return math.sqrt(g / max(g - 1, 1) * float(np.sum(sums**2))) / n


def balanced_accuracy_diff_se(
    y: npt.ArrayLike, base_ok: npt.ArrayLike, cand_ok: npt.ArrayLike, groups: Any = None
) -> float:
    """The standard error of one model's balanced accuracy minus another's on the same rows.

    Balanced accuracy is the mean over the ``k`` classes of each class's recall, so the
    difference is the mean of per-class mean differences of the rows' paired outcomes
    (``cand_ok - base_ok``, in ``{-1, 0, 1}``); classes are independent strata, so its variance
    is ``sum_c var_c / n_c / k**2``. With ``groups`` (rows that come in groups, ``--group``)
    each class's variance is clustered by group: a group's rows are not independent draws.

    Examples
    --------
    >>> y = np.array([0, 0, 0, 0, 1, 1])
    >>> round(balanced_accuracy_diff_se(y, [1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]), 3)
    0.0
    >>> round(balanced_accuracy_diff_se(y, [1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1]), 3)
    0.577
    >>> round(balanced_accuracy_diff_se(y, [1, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 1],
    ...                                 groups=[0, 0, 1, 1, 2, 3]), 3)
    0.707
    """
    labels = np.asarray(y)
    d = np.asarray(cand_ok, dtype=float) - np.asarray(base_ok, dtype=float)
    classes = np.unique(labels)
    codes = None if groups is None else np.asarray(groups)
    var = 0.0
    for c in classes:
        rows = np.flatnonzero(labels == c)
        if rows.size > 1:
            var += mean_se(d[rows], None if codes is None else codes[rows]) ** 2
    return math.sqrt(var) / max(len(classes), 1)


def compare_to_baseline(
    y: npt.ArrayLike,
    baseline_proba: npt.ArrayLike,
    candidates: Mapping[str, npt.ArrayLike],
    alpha: float = 0.05,
) -> dict[str, Comparison]:
    """Compare each candidate with the baseline by McNemar's test, Holm-adjusted.

    Parameters
    ----------
    y
        Class indices, shape ``(n,)``.
    baseline_proba
        The baseline's probabilities on those rows, shape ``(n, k)``.
    candidates
        Candidate name → its probabilities on the same rows, shape ``(n, k)``.
    alpha
        The family-wise significance level, in ``(0, 1)``.

    Returns
    -------
    dict
        Candidate name → :class:`Comparison`, in the order of ``candidates``. A candidate is
        ``better`` or ``worse`` when its adjusted p-value is below ``alpha``, by the sign of
        ``n01 - n10``, and ``not_better`` otherwise.

    Raises
    ------
    DataError
        When a probability matrix does not match ``y``.
    ConfigError
        When ``alpha`` is not in ``(0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.arange(100) % 2
    >>> base = np.full((100, 2), 0.5)
    >>> good = np.eye(2)[y] * 0.8 + 0.1
    >>> compare_to_baseline(y, base, {"good": good})["good"].verdict
    <Verdict.BETTER: 'better'>
    """
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha must lie strictly between 0 and 1, but is {alpha!r}; pass 0.05.")
    labels, base = check_labels_proba(y, baseline_proba)
    base_ok = base.argmax(axis=1) == labels
    tests, diffs, ses = {}, {}, {}
    for name, proba in candidates.items():
        _, cand = check_labels_proba(labels, proba)
        if cand.shape != base.shape:
            raise DataError(
                f"Candidate {name!r} has probabilities of shape {cand.shape}, but the baseline's "
                f"are {base.shape}; score every model on the same rows and classes."
            )
        cand_ok = cand.argmax(axis=1) == labels
        tests[name] = mcnemar(base_ok, cand_ok)
        diffs[name] = (
            accuracy(labels, cand) - accuracy(labels, base),
            balanced_accuracy(labels, cand) - balanced_accuracy(labels, base),
        )
        ses[name] = balanced_accuracy_diff_se(labels, base_ok, cand_ok)
    adjusted = holm([t.p_value for t in tests.values()]) if tests else np.empty(0)
    return {
        name: Comparison(
            test,
            test.p_value,
            float(p_adj),
            *diffs[name],
            _verdict(test, p_adj, alpha),
            balanced_accuracy_se=ses[name],
        )
        for (name, test), p_adj in zip(tests.items(), adjusted, strict=True)
    }


def _verdict(test: TestResult, p_adjusted: float, alpha: float) -> Verdict:
    """Return the verdict of one candidate (model B) against the baseline (model A)."""
    if p_adjusted >= alpha:
        return Verdict.NOT_BETTER
    return Verdict.BETTER if (test.n01 or 0) > (test.n10 or 0) else Verdict.WORSE
