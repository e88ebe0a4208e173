"""Pairwise diversity of classifiers, from their oracle outputs (right or wrong on each row).

All four measures follow Kuncheva & Whitaker (2003), "Measures of diversity in classifier
ensembles", and use only whether each model's top class is right. For models i (row) and j
(column): ``n11`` both right, ``n00`` both wrong, ``n10`` i right and j wrong, ``n01`` i wrong
and j right. Every matrix is a ``pandas.DataFrame`` indexed and labelled by model name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from prudent._typing import FloatArray
from prudent.errors import DataError
from prudent.metrics._validation import check_labels_proba

__all__ = [
    "Diversity",
    "disagreement",
    "diversity_report",
    "double_fault",
    "error_correlation",
    "yules_q",
]


@dataclass(frozen=True)
class _Counts:
    """The 2x2 contingency counts of every pair of models, each an ``(m, m)`` matrix."""

    names: list[str]
    correct: FloatArray
    n11: FloatArray
    n10: FloatArray
    n01: FloatArray
    n00: FloatArray

    @classmethod
    def of(cls, y: npt.ArrayLike, probas: Mapping[str, npt.ArrayLike]) -> _Counts:
        if not probas:
            raise DataError("probas is empty; pass at least one model's probabilities by name.")
        rows = []
        for proba in probas.values():
            labels, p = check_labels_proba(y, proba)
            rows.append(p.argmax(axis=1) == labels)
        right = np.vstack(rows).astype(np.float64)
        wrong = 1.0 - right
        return cls(
            names=list(probas),
            correct=right,
            n11=right @ right.T,
            n10=right @ wrong.T,
            n01=wrong @ right.T,
            n00=wrong @ wrong.T,
        )

    @property
    def n(self) -> int:
        return int(self.correct.shape[1])

    def frame(self, values: FloatArray) -> pd.DataFrame:
        return pd.DataFrame(values, index=pd.Index(self.names), columns=pd.Index(self.names))


def _ratio_unit_diagonal(num: FloatArray, den: FloatArray) -> FloatArray:
    """Return ``num / den`` with 0 where ``den`` is 0 and ones on the diagonal."""
    out = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    np.fill_diagonal(out, 1.0)
    clipped: FloatArray = np.clip(out, -1.0, 1.0)
    return clipped


def _error_correlation(c: _Counts) -> FloatArray:
    err_rate = 1.0 - c.correct.mean(axis=1)
    cov = c.n00 / c.n - np.outer(err_rate, err_rate)
    var = err_rate * (1.0 - err_rate)
    return _ratio_unit_diagonal(cov, np.sqrt(np.outer(var, var)))


def _yules_q(c: _Counts) -> FloatArray:
    agree, differ = c.n11 * c.n00, c.n01 * c.n10
    return _ratio_unit_diagonal(agree - differ, agree + differ)


def error_correlation(y: npt.ArrayLike, probas: Mapping[str, npt.ArrayLike]) -> pd.DataFrame:
    """Return the Pearson correlation of the models' 0/1 error indicators.

    A model that makes no error (or errs on every row) has a constant indicator; its
    correlation with any other model is defined as 0. The diagonal is 1.

    Parameters
    ----------
    y
        Class indices, shape ``(n,)``.
    probas
        Model name → probabilities on the same rows, shape ``(n, k)``.

    Returns
    -------
    pandas.DataFrame
        An ``(m, m)`` symmetric matrix in ``[-1, 1]``; lower means more diverse.

    Raises
    ------
    DataError
        When ``probas`` is empty or a matrix does not match ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1])
    >>> a = np.eye(2)[[0, 0, 1, 0]]  # wrong on row 3
    >>> b = np.eye(2)[[1, 0, 1, 1]]  # wrong on row 0
    >>> error_correlation(y, {"a": a, "b": b}).loc["a", "b"].round(4)
    np.float64(-0.3333)
    """
    return (c := _Counts.of(y, probas)).frame(_error_correlation(c))


def disagreement(y: npt.ArrayLike, probas: Mapping[str, npt.ArrayLike]) -> pd.DataFrame:
    """Return the share of rows on which exactly one model of each pair is right.

    Parameters
    ----------
    y
        Class indices, shape ``(n,)``.
    probas
        Model name → probabilities on the same rows, shape ``(n, k)``.

    Returns
    -------
    pandas.DataFrame
        An ``(m, m)`` symmetric matrix in ``[0, 1]``, zero on the diagonal; higher means more
        diverse.

    Raises
    ------
    DataError
        When ``probas`` is empty or a matrix does not match ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1])
    >>> disagreement(y, {"a": np.eye(2)[[0, 0, 1, 0]], "b": np.eye(2)[[1, 0, 1, 1]]}).iloc[0, 1]
    np.float64(0.5)
    """
    return (c := _Counts.of(y, probas)).frame((c.n01 + c.n10) / c.n)


def double_fault(y: npt.ArrayLike, probas: Mapping[str, npt.ArrayLike]) -> pd.DataFrame:
    """Return the share of rows on which both models of each pair are wrong.

    Parameters
    ----------
    y
        Class indices, shape ``(n,)``.
    probas
        Model name → probabilities on the same rows, shape ``(n, k)``.

    Returns
    -------
    pandas.DataFrame
        An ``(m, m)`` symmetric matrix in ``[0, 1]`` whose diagonal is each model's error
        rate; lower means more diverse.

    Raises
    ------
    DataError
        When ``probas`` is empty or a matrix does not match ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1])
    >>> double_fault(y, {"a": np.eye(2)[[1, 0, 1, 0]], "b": np.eye(2)[[1, 0, 1, 1]]}).iloc[0, 1]
    np.float64(0.25)
    """
    return (c := _Counts.of(y, probas)).frame(c.n00 / c.n)


def yules_q(y: npt.ArrayLike, probas: Mapping[str, npt.ArrayLike]) -> pd.DataFrame:
    """Return Yule's Q statistic ``(n11 n00 - n01 n10) / (n11 n00 + n01 n10)`` of each pair.

    Where the denominator is 0 (for example a model with no error) Q is defined as 0.
    The diagonal is 1.

    Parameters
    ----------
    y
        Class indices, shape ``(n,)``.
    probas
        Model name → probabilities on the same rows, shape ``(n, k)``.

    Returns
    -------
    pandas.DataFrame
        An ``(m, m)`` symmetric matrix in ``[-1, 1]``; lower means more diverse.

    Raises
    ------
    DataError
        When ``probas`` is empty or a matrix does not match ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1])
    >>> yules_q(y, {"a": np.eye(2)[[1, 0, 1, 0]], "b": np.eye(2)[[1, 0, 1, 1]]}).iloc[0, 1]
    np.float64(1.0)
    """
    return (c := _Counts.of(y, probas)).frame(_yules_q(c))


@dataclass(frozen=True)
class Diversity:
    """Every diversity measure of a set of models, on the same rows.

    Parameters
    ----------
    error_correlation
        See :func:`error_correlation`.
    disagreement
        See :func:`disagreement`.
    double_fault
        See :func:`double_fault`.
    yules_q
        See :func:`yules_q`.
    unique_signal
        Indexed by model (index name ``model``), columns ``rows`` (how many rows the model
        gets right and every other model gets wrong) and ``share`` (that count over all rows).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1])
    >>> d = diversity_report(y, {"a": np.eye(2)[[0, 0, 1, 0]], "b": np.eye(2)[[1, 0, 1, 1]]})
    >>> d.unique_signal["rows"].tolist()
    [1, 1]
    """

    error_correlation: pd.DataFrame
    disagreement: pd.DataFrame
    double_fault: pd.DataFrame
    yules_q: pd.DataFrame
    unique_signal: pd.DataFrame


def diversity_report(y: npt.ArrayLike, probas: Mapping[str, npt.ArrayLike]) -> Diversity:
    """Return all pairwise diversity measures and each model's unique signal.

    With a single model, "every other model" is nobody, so its unique rows are all the
    rows it gets right.

    Parameters
    ----------
    y
        Class indices, shape ``(n,)``.
    probas
        Model name → probabilities on the same rows, shape ``(n, k)``.

    Returns
    -------
    Diversity
        The four matrices and the unique-signal table.

    Raises
    ------
    DataError
        When ``probas`` is empty or a matrix does not match ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 1, 1])
    >>> d = diversity_report(y, {"a": np.eye(2)[[0, 1, 0]], "b": np.eye(2)[[0, 0, 1]]})
    >>> d.double_fault.loc["a", "b"], d.unique_signal.loc["a", "share"].round(3)
    (np.float64(0.0), np.float64(0.333))
    """
    c = _Counts.of(y, probas)
    others_right = c.correct.sum(axis=0) - c.correct
    unique = ((c.correct == 1.0) & (others_right == 0.0)).sum(axis=1)
    signal = pd.DataFrame(
        {"rows": unique.astype(np.int64), "share": unique / c.n},
        index=pd.Index(c.names, name="model"),
    )
    return Diversity(
        error_correlation=c.frame(_error_correlation(c)),
        disagreement=c.frame((c.n01 + c.n10) / c.n),
        double_fault=c.frame(c.n00 / c.n),
        yules_q=c.frame(_yules_q(c)),
        unique_signal=signal,
    )
