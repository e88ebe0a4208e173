"""The one function that decides: rules, OOD, primary, backup, review — on every path.

Every prediction prudent returns goes through :func:`decide`; the library, the command line
and the HTTP service call it and never apply a threshold themselves. For each row, in order:

1. a matching rule gives its label (kind ``rule``) or sends the row to review;
2. an out-of-distribution row goes to review (neither model is trusted on it);
3. the primary model answers when confident enough (kind ``accept``), or, with a
   :class:`~prudent.models._thresholds.CostPolicy`, when its cheapest label costs no more
   than a review;
4. the backup model answers when confident by its own threshold (and, by default, agrees
   with the primary's label) (kind ``backup``);
5. otherwise review, because the models are unsure (``low_confidence``) or disagree
   (``stage_disagreement``).

On the degraded paths (``failure`` given: the primary failed or passed its deadline) the rules
still come first; then the backup model answers every other row, or, when it gave no
probabilities either, every other row goes to review (``models_failed``).

A deferral is a value with a reason, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from prudent._typing import BoolArray, ProbaMatrix
from prudent.errors import ConfigError, DataError
from prudent.models._cascade_reasons import ObjArray, _noted, _reasons, _rule_reason
from prudent.models._cascade_signals import (
    _ACCEPT,
    _BACKUP,
    _DISAGREE,
    _FAILED,
    _FALLBACK,
    _LOW,
    _OOD,
    _RULE,
    _RULE_REVIEW,
    _decisions,
    _matrix,
    _rules,
    _signals,
)
from prudent.models._decisions import Decisions
from prudent.models._rules import REVIEW, RuleMatches
from prudent.models._thresholds import CostPolicy

__all__ = ["CascadePolicy", "backup_rows", "decide"]


def _threshold(name: str, value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"CascadePolicy {name} must be a number; got {value!r}.") from None
    if math.isnan(x):
        raise ConfigError(f"CascadePolicy {name} is nan; give a number, or inf to turn it off.")
    return x


@dataclass(frozen=True)
class CascadePolicy:
    """The thresholds :func:`decide` applies; stored in the bundle manifest.

    Parameters
    ----------
    accept_threshold
        The primary answers when its top probability is ≥ this (``inf``: never).
    backup_threshold
        The backup answers when its top probability is ≥ this (``inf``: never).
    ood_threshold
        Rows whose OOD score is ≥ this go to review (``inf``: no OOD check).
    cost_policy
        When set, replaces the accept threshold: the primary answers with its cheapest label
        when that costs no more than a review.
    backup_must_agree
        The backup answers only when its label equals the primary's.
    class_weights
        One weight per class: each model gives the label of highest ``weight * probability``
        (with weights ``1 / prior`` this is the balanced-accuracy rule that still predicts a
        rare class); its confidence stays the calibrated probability of that label.
        ``None``: the label of highest probability.
    ood_over_rules
        An out-of-distribution row goes to review even when a rule matches it (by default
        the rule decides, and its reason says the row was also out of distribution).

    Examples
    --------
    >>> policy = CascadePolicy(0.9, backup_threshold=0.95)
    >>> policy.to_dict()["ood_threshold"] is None  # None stands for inf
    True
    >>> CascadePolicy.from_dict(policy.to_dict()) == policy
    True
    """

    accept_threshold: float
    backup_threshold: float = math.inf
    ood_threshold: float = math.inf
    cost_policy: CostPolicy | None = None
    backup_must_agree: bool = True
    class_weights: tuple[float, ...] | None = None
    ood_over_rules: bool = False

    def __post_init__(self) -> None:
        if self.class_weights is not None:
            w = tuple(float(x) for x in self.class_weights)
            if not w or not all(math.isfinite(x) and x > 0 for x in w):
                raise ConfigError(
                    f"CascadePolicy class_weights must be finite and > 0, one per class; got {w}."
                )
            object.__setattr__(self, "class_weights", w)
        for name in ("accept_threshold", "backup_threshold", "ood_threshold"):
            object.__setattr__(self, name, _threshold(name, getattr(self, name)))
        if self.cost_policy is not None and not isinstance(self.cost_policy, CostPolicy):
            raise ConfigError(
                f"CascadePolicy cost_policy must be a CostPolicy or None; "
                f"got {type(self.cost_policy).__name__}."
            )
        object.__setattr__(self, "backup_must_agree", bool(self.backup_must_agree))
        object.__setattr__(self, "ood_over_rules", bool(self.ood_over_rules))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe plain data; an infinite threshold is written as ``None``."""
        out: dict[str, Any] = {
            name: None if math.isinf(x) and x > 0 else x
            for name, x in (
                ("accept_threshold", self.accept_threshold),
                ("backup_threshold", self.backup_threshold),
                ("ood_threshold", self.ood_threshold),
            )
        }
        out["cost_policy"] = None if self.cost_policy is None else self.cost_policy.to_dict()
        out["backup_must_agree"] = self.backup_must_agree
        out["ood_over_rules"] = self.ood_over_rules
        out["class_weights"] = None if self.class_weights is None else list(self.class_weights)
        return out

    def label_index(self, proba: ProbaMatrix) -> npt.NDArray[np.int64]:
        """Per row, the index of the label given: highest (weighted) probability."""
        p = np.asarray(proba, dtype=float)
        if len(p) == 0:
            return np.zeros(0, dtype=np.int64)
        if self.class_weights is not None:
            if len(self.class_weights) != p.shape[1]:
                raise ConfigError(
                    f"CascadePolicy has {len(self.class_weights)} class weights but the "
                    f"probabilities have {p.shape[1]} columns; give one weight per class."
                )
            p = p * np.asarray(self.class_weights)
        return np.asarray(p.argmax(axis=1), dtype=np.int64)

    def given_index(self, proba: ProbaMatrix) -> npt.NDArray[np.int64]:
        """Per row, the index of the label the primary gives (:func:`decide`'s label, and a
        review row's label shown): the cheapest with a cost policy, else :meth:`label_index`.

        Examples
        --------
        >>> from prudent.models._thresholds import CostPolicy
        >>> P = np.array([[0.8, 0.2], [0.95, 0.05]])
        >>> CascadePolicy(0.5).given_index(P).tolist()
        [0, 0]
        >>> costs = CostPolicy([[0, 1], [10, 0]], review_cost=5.0)
        >>> CascadePolicy(0.5, cost_policy=costs).given_index(P).tolist()
        [1, 0]
        """
        if self.cost_policy is not None:
            return self.cost_policy.choose(np.asarray(proba, dtype=float))[0]
        return self.label_index(proba)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CascadePolicy:
        """Rebuild from :meth:`to_dict`'s output.

        Raises
        ------
        ConfigError
            When a key is unknown or a value invalid.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"Unknown CascadePolicy keys {unknown}; expected {sorted(known)}.")
        kwargs = dict(data)
        for name in ("accept_threshold", "backup_threshold", "ood_threshold"):
            if name in kwargs and kwargs[name] is None:
                kwargs[name] = math.inf
        if kwargs.get("cost_policy") is not None:
            kwargs["cost_policy"] = CostPolicy.from_dict(kwargs["cost_policy"])
        if kwargs.get("class_weights") is not None:
            kwargs["class_weights"] = tuple(kwargs["class_weights"])
        return cls(**kwargs)


def _cascade(
    policy: CascadePolicy, cls: Any, p: ProbaMatrix, b: ProbaMatrix | None, ood: Any, rules: Any
) -> Decisions:
    """The normal path: both models' probabilities (or the primary's alone) are there."""
    matched, names, outcome = rules
    s = _signals(policy, p, b, ood)
    conditions = [matched & (outcome != REVIEW), matched, s.is_ood, s.p_ok, s.b_ok, s.disagree]
    codes = [_RULE, _RULE_REVIEW, _OOD, _ACCEPT, _BACKUP, _DISAGREE]
    if policy.ood_over_rules:  # the OOD check first
        conditions, codes = (
            conditions[2:3] + conditions[:2] + conditions[3:],
            [_OOD, *codes[:2], *codes[3:]],
        )
    code = np.select(conditions, codes, _LOW)
    label = np.full(len(p), None, dtype=object)
    label[code == _RULE] = outcome[code == _RULE]
    label[code == _ACCEPT] = cls[s.p_idx[code == _ACCEPT]]
    if s.b_idx is not None and s.b_conf is not None:
        label[code == _BACKUP] = cls[s.b_idx[code == _BACKUP]]
    confidence = np.where(code == _BACKUP, s.b_conf if s.b_conf is not None else np.nan, s.p_conf)
    confidence = np.where(code <= _RULE_REVIEW, np.nan, confidence)
    return _decisions(code, label, confidence, _reasons(code, policy, s, names, cls))


def backup_rows(
    policy: CascadePolicy,
    *,
    primary_proba: npt.ArrayLike,
    ood_score: npt.ArrayLike | None = None,
    rule_matches: RuleMatches | None = None,
) -> BoolArray:
    """The rows whose decision reads the backup model's probabilities, on the normal path.

    A row that a rule decides (or sends to review), that is out of distribution, or that the
    primary answers, is decided without the backup; :func:`decide` reads the backup's
    probabilities only for the others (backup answers, disagreement, low confidence), so a
    caller may compute the backup for these rows alone and give any probabilities for the
    rest: the decisions are the same.

    Parameters
    ----------
    policy
        The thresholds.
    primary_proba, ood_score, rule_matches
        As for :func:`decide`.

    Returns
    -------
    numpy.ndarray of bool
        One flag per row.

    Examples
    --------
    >>> policy = CascadePolicy(0.9, ood_threshold=3.0)
    >>> backup_rows(policy, primary_proba=[[0.95, 0.05], [0.6, 0.4], [0.5, 0.5]],
    ...             ood_score=[0.1, 0.2, 7.5]).tolist()
    [False, True, False]
    """
    p = np.asarray(primary_proba, dtype=float)
    ood = None if ood_score is None else np.asarray(ood_score, dtype=float).reshape(-1)
    s = _signals(policy, p, None, ood)
    matched = np.zeros(len(p), bool) if rule_matches is None else np.asarray(rule_matches.matched)
    return np.asarray(~(matched | s.is_ood | s.p_ok), dtype=bool)


def _degraded(
    policy: CascadePolicy, cls: Any, b: ProbaMatrix | None, rules: Any, failure: str
) -> Decisions:
    """The primary gave nothing: rules first, then the backup alone, else review."""
    matched, names, outcome = rules
    n = len(matched)
    rest = _FALLBACK if b is not None else _FAILED
    code = np.select([matched & (outcome != REVIEW), matched], [_RULE, _RULE_REVIEW], rest)
    label = np.full(n, None, dtype=object)
    label[code == _RULE] = outcome[code == _RULE]
    confidence = np.full(n, np.nan)
    if b is not None:  # it stands in for the primary: its label is given as the primary's is
        b_idx = policy.given_index(b)
        label[code == _FALLBACK] = cls[b_idx[code == _FALLBACK]]
        confidence[code == _FALLBACK] = b[np.arange(n), b_idx][code == _FALLBACK]
    tail = {_FALLBACK: "; the backup model answered", _FAILED: "; sent to review"}
    reasons = [
        _rule_reason(int(c), names[i]) if c <= _RULE_REVIEW else failure + tail[int(c)]
        for i, c in enumerate(code)
    ]
    return _decisions(code, label, confidence, reasons)


def _rows(primary: Any, backup: Any, matches: RuleMatches | None, n_rows: int | None) -> int:
    for given in (primary, backup):
        if given is not None:
            return len(np.asarray(given, dtype=float))
    if matches is not None:
        return len(matches)
    if n_rows is None:
        raise DataError("decide needs primary_proba, backup_proba, rule_matches or n_rows.")
    return n_rows


def decide(
    policy: CascadePolicy,
    *,
    classes: Sequence[str],
    primary_proba: npt.ArrayLike | None = None,
    backup_proba: npt.ArrayLike | None = None,
    ood_score: npt.ArrayLike | None = None,
    rule_matches: RuleMatches | None = None,
    failure: str | None = None,
    n_rows: int | None = None,
    unknown_values: Sequence[Sequence[str]] | ObjArray | None = None,
) -> Decisions:
    """Turn probabilities, OOD scores and rule matches into decisions, for every row.

    Parameters
    ----------
    policy
        The thresholds (and optional cost policy).
    classes
        The class labels, in the order of the probability columns.
    primary_proba
        The calibrated probabilities of the primary model, shape ``(n, k)``; ``None`` only
        with ``failure``.
    backup_proba
        The backup model's probabilities, same shape; ``None`` when there is no backup (or,
        with ``failure``, when it failed too).
    ood_score
        One OOD score per row (higher is stranger); ``None`` when there is no detector.
    rule_matches
        The result of ``RuleSet.evaluate`` on the same rows; ``None`` when there are no rules.
    failure
        Why the primary model gave no probabilities (it failed or passed its deadline): the
        degraded path. Rules still decide first; the backup answers the other rows, or, with
        no backup probabilities either, they go to review.
    n_rows
        The number of rows, needed only when no probabilities and no rule matches are given.
    unknown_values
        Per row, the input columns holding a value the training rows never held
        (``TrainingValues.columns``); the reason of such a row names them. They change no
        decision.

    Returns
    -------
    Decisions
        Per row: label, kind, reason, defer reason and confidence.

    Raises
    ------
    DataError
        When an input has the wrong shape or holds non-finite values, or when the primary's
        probabilities are missing without a ``failure`` (or given with one).
    ConfigError
        When the classes are not distinct, or a rule gives a label that is not a class.

    Examples
    --------
    >>> policy = CascadePolicy(0.9, ood_threshold=3.0)
    >>> d = decide(policy, classes=["ham", "spam"],
    ...            primary_proba=[[0.95, 0.05], [0.6, 0.4], [0.99, 0.01]],
    ...            ood_score=[0.1, 0.2, 7.5])
    >>> d.label.tolist(), [str(k) for k in d.kind]
    (['ham', None, None], ['accept', 'review', 'review'])
    >>> d.reason.tolist()
    ['confidence 0.95 ≥ threshold 0.90', 'confidence 0.60 < threshold 0.90', \
'out of distribution (score 7.50 ≥ 3.00)']
    >>> down = decide(policy, classes=["ham", "spam"], failure="the primary failed", n_rows=1)
    >>> str(down[0].kind), str(down[0].defer_reason), down[0].reason
    ('review', 'models_failed', 'the primary failed; sent to review')
    """
    cls = np.asarray(list(classes), dtype=object)
    if cls.size == 0 or len(set(cls.tolist())) != cls.size:
        raise ConfigError(f"classes must be distinct and not empty; got {cls.tolist()}.")
    if (primary_proba is None) == (failure is None):
        raise DataError("decide takes primary_proba, or a failure saying why there is none.")
    n = _rows(primary_proba, backup_proba, rule_matches, n_rows)
    b = None if backup_proba is None else _matrix(backup_proba, "backup_proba", cls.size, n)
    rules = _rules(rule_matches, n, cls.tolist())
    if failure is not None:
        return _noted(_degraded(policy, cls, b, rules, failure), unknown_values)
    assert primary_proba is not None  # checked above: no failure, so probabilities
    p = _matrix(primary_proba, "primary_proba", cls.size, None)
    ood = None if ood_score is None else np.asarray(ood_score, dtype=float).reshape(-1)
    if ood is not None and (ood.shape != (n,) or np.isnan(ood).any()):
        raise DataError(f"ood_score must hold {n} numbers, none nan; got shape {ood.shape}.")
    return _noted(_cascade(policy, cls, p, b, ood, rules), unknown_values)
