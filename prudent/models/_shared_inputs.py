"""Ensemble members fitted with the same preprocessing transform each batch of rows once.

The members of an ensemble are pipelines (preprocessing steps, then a classifier), and several
are often built with the same preprocessing and fitted on the same rows (extra trees, k-NN and
the MLP all take dense standardised features): their fitted preprocessing is then equal, and
so are its outputs. Two members' preprocessing counts as equal when the pickled bytes of
their fitted steps are (equal state gives equal transforms; a difference in pickling only
costs the sharing, never the result). The outputs are exactly those of each member's own
``predict_proba``: a scikit-learn ``Pipeline`` predicts by transforming with each step and
calling its last step, which is what is done here once per group.
"""

from __future__ import annotations

import hashlib
import pickle
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from prudent._typing import FloatArray, IntArray
from prudent.models._fast_columns import fast_transform, transform_steps

__all__ = [
    "SharedInputs",
    "member_outputs",
    "pipeline_transform",
    "predict_proba",
    "shared_groups",
    "take_rows",
]

_KEYS: weakref.WeakKeyDictionary[Any, tuple[tuple[int, ...], bytes | None]] = (
    weakref.WeakKeyDictionary()
)
"""Fitted member -> (the identity of its steps' attributes, its key), found once: pickling a
TF-IDF step takes milliseconds, which a served request must not pay. A memo beside the
estimators, since predicting must change none of them; a member refitted in place gets new
fitted attributes, so its key is found again."""


def _steps(est: Any) -> list[Any] | None:
    """The fitted preprocessing steps of a pipeline (its steps but the last), or None."""
    steps = getattr(est, "steps", None)
    if not isinstance(steps, list) or len(steps) < 2:
        return None
    return [step for _, step in steps[:-1] if step is not None and step != "passthrough"]


def _identity(steps: list[Any]) -> tuple[int, ...]:
    return tuple(id(v) for step in steps for v in (step, *getattr(step, "__dict__", {}).values()))


def _key(est: Any) -> bytes | None:
    """The digest of a pipeline's pickled preprocessing steps; None for no pipeline."""
    steps = _steps(est)
    if not steps:
        return None
    identity = _identity(steps)
    known = _KEYS.get(est)
    if known is not None and known[0] == identity:
        return known[1]
    try:
        key: bytes | None = hashlib.sha256(pickle.dumps(steps, protocol=5)).digest()
    except Exception:  # an unpicklable step: that member keeps its own path
        key = None
    _KEYS[est] = (identity, key)
    return key


def shared_groups(members: Sequence[Any]) -> tuple[int, ...]:
    """For each member, the first member whose fitted preprocessing equals its own.

    Parameters
    ----------
    members
        Fitted estimators; pipelines are compared by their preprocessing steps.

    Returns
    -------
    tuple of int
        ``groups[i]`` is ``i`` when member ``i`` shares its preprocessing with no earlier
        member, else the index of the first that has the same.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_iris(return_X_y=True)
    >>> a = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    >>> b = make_pipeline(StandardScaler(), GaussianNB()).fit(X, y)
    >>> shared_groups([a, b, GaussianNB().fit(X, y)])
    (0, 0, 2)
    """
    keys = [_key(est) for est in members]
    return tuple(
        i if key is None else next(j for j, other in enumerate(keys) if other == key)
        for i, key in enumerate(keys)
    )


def _transform(est: Any, X: Any) -> Any:
    return transform_steps(_steps(est) or [], X)


def predict_proba(est: Any, X: Any) -> FloatArray:
    """``est.predict_proba(X)`` as float64; a pipeline's column transformer by the fast path.

    A scikit-learn ``Pipeline`` predicts by transforming with each step and calling its last
    step's ``predict_proba``, which is what is done here
    (:func:`~prudent.models._fast_columns.fast_transform` for each step).
    """
    if _steps(est) is None:
        return np.asarray(est.predict_proba(X), dtype=np.float64)
    return np.asarray(est.steps[-1][1].predict_proba(_transform(est, X)), dtype=np.float64)


def pipeline_transform(est: Any, X: Any) -> Any:
    """``est.transform(X)`` for a fitted transformer or a pipeline of them, by the fast path."""
    steps = getattr(est, "steps", None)
    if not isinstance(steps, list):
        return fast_transform(est, X)
    return transform_steps([s for _, s in steps if s is not None and s != "passthrough"], X)


class SharedInputs:
    """Members' probabilities on a batch, each group's preprocessing run once, on demand.

    Parameters
    ----------
    members
        The fitted members.
    X
        The rows, in the form the members accept.
    groups
        :func:`shared_groups` of ``members``: members of one group transform ``X`` once.
    """

    def __init__(self, members: Sequence[Any], X: Any, groups: Sequence[int]) -> None:
        self.members, self.X, self.groups = list(members), X, tuple(groups)
        self._inputs: dict[int, Any] = {}

    def output(self, i: int, rows: IntArray | None = None) -> FloatArray:
        """Member ``i``'s ``predict_proba`` (in its own class order) on the batch's ``rows``
        (all by default); a shared group's rows are taken from its transform of the batch."""
        est, g = self.members[i], self.groups[i]
        if self.groups.count(g) == 1:  # shares with nobody: the member's own path
            return predict_proba(est, take_rows(self.X, rows))
        if g not in self._inputs:
            self._inputs[g] = _transform(self.members[g], self.X)
        given = take_rows(self._inputs[g], rows)
        return np.asarray(est.steps[-1][1].predict_proba(given), dtype=np.float64)


def take_rows(X: Any, rows: IntArray | None) -> Any:
    """``X``'s ``rows`` (a DataFrame's by position), or ``X`` for None."""
    if rows is None:
        return X
    return X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]


def member_outputs(members: Sequence[Any], X: Any, groups: Sequence[int]) -> list[FloatArray]:
    """Each member's ``predict_proba(X)`` (in its own class order), as float64.

    Parameters
    ----------
    members, X, groups
        As for :class:`SharedInputs`.

    Returns
    -------
    list of numpy.ndarray
        One probability matrix per member, equal to its own ``predict_proba``.
    """
    shared = SharedInputs(members, X, groups)
    return [shared.output(i) for i in range(len(members))]
