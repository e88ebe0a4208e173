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

from prudent._typing import FloatArray

__all__ = ["member_outputs", "shared_groups"]

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
    for step in _steps(est) or ():
        X = step.transform(X)
    return X


def member_outputs(members: Sequence[Any], X: Any, groups: Sequence[int]) -> list[FloatArray]:
    """Each member's ``predict_proba(X)`` (in its own class order), as float64.

    Parameters
    ----------
    members
        The fitted members.
    X
        The rows, in the form the members accept.
    groups
        :func:`shared_groups` of ``members``: members of one group transform ``X`` once.

    Returns
    -------
    list of numpy.ndarray
        One probability matrix per member, equal to its own ``predict_proba``.
    """
    inputs: dict[int, Any] = {}
    out = []
    for i, est in enumerate(members):
        g = groups[i]
        if groups.count(g) == 1:  # shares with nobody: the member's own path
            out.append(np.asarray(est.predict_proba(X), dtype=np.float64))
            continue
        if g not in inputs:
            inputs[g] = _transform(members[g], X)
        out.append(np.asarray(est.steps[-1][1].predict_proba(inputs[g]), dtype=np.float64))
    return out
