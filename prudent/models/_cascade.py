"""The one function that decides: rules, OOD, primary, backup, review.

Every prediction prudent returns goes through :func:`decide`; the library, the command line
and the HTTP service call it and never apply a threshold themselves. For each row, in order:

1. a matching rule gives its label (route ``rule``) or sends the row to review;
2. an out-of-distribution row goes to review (neither model is trusted on it);
3. the primary model answers when confident enough (route ``accept``), or, with a
   :class:`~prudent.models._thresholds.CostPolicy`, when its cheapest label costs no more
   than a review;
4. the backup model answers when confident by its own threshold (and, by default, agrees
   with the primary's label) (route ``backup``);
5. otherwise review, because the models are unsure (``low_confidence``) or disagree
   (``stage_disagreement``).

A deferral is a value with a reason, never an exception.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from prudent._typing import BoolArray, FloatArray, ProbaMatrix
from prudent.errors import ConfigError, DataError
from prudent.models._rules import REVIEW, RuleMatches
from prudent.models._thresholds import CostPolicy

__all__ = ["CascadePolicy", "Decision", "Decisions", "DeferReason", "Route", "decide"]


class DeferReason(enum.StrEnum):
    """Why a row was sent to human review."""

    LOW_CONFIDENCE = "low_confidence"
    OUT_OF_DISTRIBUTION = "out_of_distribution"
    STAGE_DISAGREEMENT = "stage_disagreement"
    RULE = "rule"


class Route(enum.StrEnum):
    """Which stage answered a row."""

    ACCEPT = "accept"
    RULE = "rule"
    BACKUP = "backup"
    REVIEW = "review"


@dataclass(frozen=True)
class Decision:
    """The decision for one row.

    Parameters
    ----------
    label
        The label given, or ``None`` when the row goes to review.
    route
        Which stage answered.
    reason
        A short sentence for people, e.g. ``"confidence 0.93 ≥ threshold 0.91"``.
    defer_reason
        Why the row goes to review; ``None`` when it does not.
    confidence
        The probability of ``label`` from the stage that gave it; for a review, the primary's
        top probability; ``nan`` for rules.
    """

    label: str | None
    route: Route
    reason: str
    defer_reason: DeferReason | None = None
    confidence: float = math.nan

    @property
    def deferred(self) -> bool:
        """Whether the row goes to review."""
        return self.route is Route.REVIEW


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

    def __post_init__(self) -> None:
        for name in ("accept_threshold", "backup_threshold", "ood_threshold"):
            object.__setattr__(self, name, _threshold(name, getattr(self, name)))
        if self.cost_policy is not None and not isinstance(self.cost_policy, CostPolicy):
            raise ConfigError(
                f"CascadePolicy cost_policy must be a CostPolicy or None; "
                f"got {type(self.cost_policy).__name__}."
            )
        object.__setattr__(self, "backup_must_agree", bool(self.backup_must_agree))

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
        return out

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
        return cls(**kwargs)


@dataclass(frozen=True, eq=False)
class Decisions:
    """Decisions for many rows, as parallel arrays (``None`` where a field does not apply).

    Parameters
    ----------
    label
        The label given, or ``None`` for review.
    route
        The string value of each row's :class:`Route`.
    reason
        A short sentence per row.
    defer_reason
        The string value of each row's :class:`DeferReason`, or ``None``.
    confidence
        The probability behind each row's label (see :class:`Decision`).
    """

    label: npt.NDArray[np.object_]
    route: npt.NDArray[np.object_]
    reason: npt.NDArray[np.object_]
    defer_reason: npt.NDArray[np.object_]
    confidence: FloatArray

    def __len__(self) -> int:
        return len(self.route)

    def __getitem__(self, i: int) -> Decision:
        defer = self.defer_reason[i]
        return Decision(
            label=self.label[i],
            route=Route(self.route[i]),
            reason=str(self.reason[i]),
            defer_reason=None if defer is None else DeferReason(defer),
            confidence=float(self.confidence[i]),
        )

    @property
    def deferred(self) -> BoolArray:
        """Per row, whether it goes to review."""
        return np.asarray(self.route == Route.REVIEW.value, dtype=bool)

    def to_list(self) -> list[Decision]:
        """One :class:`Decision` per row."""
        return [self[i] for i in range(len(self))]

    def to_frame(self) -> pd.DataFrame:
        """The decisions as a frame, one column per field; ``None`` stays ``None``."""
        return pd.DataFrame(
            {
                "label": pd.Series(self.label, dtype=object),
                "route": pd.Series(self.route, dtype=str),
                "reason": pd.Series(self.reason, dtype=str),
                "defer_reason": pd.Series(self.defer_reason, dtype=object),
                "confidence": self.confidence,
            }
        )


def _pair(a: float, b: float) -> tuple[str, str]:
    """Format two numbers with the fewest decimals (2 to 6) that keep their order visible."""
    for d in range(2, 7):
        sa, sb = f"{a:.{d}f}", f"{b:.{d}f}"
        if a == b or sa != sb:
            break
    return sa, sb


def _matrix(x: npt.ArrayLike, name: str, k: int, n: int | None) -> ProbaMatrix:
    p = np.asarray(x, dtype=float)
    if p.size == 0:
        p = p.reshape(0, k)
    if p.ndim != 2 or p.shape[1] != k or (n is not None and p.shape[0] != n):
        want = f"({'n' if n is None else n}, {k})"
        raise DataError(f"{name} must have shape {want}, one column per class; got {p.shape}.")
    if not np.isfinite(p).all() or (p < 0).any():
        bad = int((~np.isfinite(p) | (p < 0)).any(axis=1).argmax())
        raise DataError(f"{name} must hold finite probabilities ≥ 0; row {bad} is {p[bad]}.")
    return p


def _rules(matches: RuleMatches | None, n: int, classes: Sequence[str]) -> tuple[Any, Any, Any]:
    if matches is None:
        none = np.full(n, None, dtype=object)
        return np.zeros(n, dtype=bool), none, none
    if len(matches) != n:
        raise DataError(f"rule_matches has {len(matches)} rows, but the probabilities have {n}.")
    outcome = np.asarray(matches.outcome, dtype=object)
    bad = {o for o in outcome[matches.matched] if o != REVIEW and o not in classes}
    if bad:
        raise ConfigError(
            f"Rules give labels {sorted(bad)} that are not classes {list(classes)}; "
            "fix the rules' 'then'."
        )
    return matches.matched, np.asarray(matches.name, dtype=object), outcome


@dataclass(frozen=True)
class _Signals:
    """What each stage says about each row, before the order of precedence is applied."""

    p_idx: npt.NDArray[np.int64]
    p_conf: FloatArray
    p_cost: FloatArray | None
    p_ok: BoolArray
    b_idx: npt.NDArray[np.int64] | None
    b_conf: FloatArray | None
    b_ok: BoolArray
    disagree: BoolArray
    ood: FloatArray | None
    is_ood: BoolArray


def _signals(
    policy: CascadePolicy, p: ProbaMatrix, b: ProbaMatrix | None, ood: FloatArray | None
) -> _Signals:
    n, rows = len(p), np.arange(len(p))
    cost = None
    if policy.cost_policy is not None:
        p_idx, cost = policy.cost_policy.choose(p)
        p_ok = cost <= policy.cost_policy.review_cost
    else:
        p_idx = p.argmax(axis=1).astype(np.int64) if n else np.zeros(0, dtype=np.int64)
        p_ok = p[rows, p_idx] >= policy.accept_threshold
    b_idx = b_conf = None
    b_ok = disagree = np.zeros(n, dtype=bool)
    if b is not None:
        b_idx = b.argmax(axis=1).astype(np.int64) if n else np.zeros(0, dtype=np.int64)
        b_conf = b[rows, b_idx]
        disagree = b_idx != p_idx
        b_ok = (b_conf >= policy.backup_threshold) & ~(disagree & policy.backup_must_agree)
    is_ood = np.zeros(n, dtype=bool)
    if ood is not None and policy.ood_threshold < math.inf:
        is_ood = ood >= policy.ood_threshold
    return _Signals(p_idx, p[rows, p_idx], cost, p_ok, b_idx, b_conf, b_ok, disagree, ood, is_ood)


_RULE, _RULE_REVIEW, _OOD, _ACCEPT, _BACKUP, _DISAGREE, _LOW = range(7)
_ROUTES = np.array(["rule", "review", "review", "accept", "backup", "review", "review"], object)
_DEFERS = np.array(
    [None, "rule", "out_of_distribution", None, None, "stage_disagreement", "low_confidence"],
    dtype=object,
)


def _primary_test(policy: CascadePolicy, s: _Signals, i: int) -> str:
    if policy.cost_policy is not None and s.p_cost is not None:
        c, r = _pair(float(s.p_cost[i]), policy.cost_policy.review_cost)
        return f"expected cost {c} {'≤' if s.p_ok[i] else '>'} review cost {r}"
    c, t = _pair(float(s.p_conf[i]), policy.accept_threshold)
    return f"confidence {c} {'≥' if s.p_ok[i] else '<'} threshold {t}"


def _reason(code: int, i: int, policy: CascadePolicy, s: _Signals, names: Any, cls: Any) -> str:
    if code in (_RULE, _RULE_REVIEW):
        return f"rule {names[i]!r}" + (" sends to review" if code == _RULE_REVIEW else "")
    if code == _OOD and s.ood is not None:
        score, t = _pair(float(s.ood[i]), policy.ood_threshold)
        return f"out of distribution (score {score} ≥ {t})"
    primary = _primary_test(policy, s, i)
    if code == _ACCEPT or s.b_conf is None or s.b_idx is None:
        return primary
    b, bt = _pair(float(s.b_conf[i]), policy.backup_threshold)
    if code == _BACKUP:
        agrees = " and agrees" if policy.backup_must_agree else ""
        return f"primary unsure ({primary}); backup confident ({b} ≥ {bt}){agrees}"
    if code == _DISAGREE:
        pair = f"{cls[s.p_idx[i]]!r} vs {cls[s.b_idx[i]]!r}"
        return f"primary unsure ({primary}) and backup disagrees ({pair})"
    return f"{primary}; backup unsure ({b} < {bt})"


def decide(
    policy: CascadePolicy,
    *,
    classes: Sequence[str],
    primary_proba: npt.ArrayLike,
    backup_proba: npt.ArrayLike | None = None,
    ood_score: npt.ArrayLike | None = None,
    rule_matches: RuleMatches | None = None,
) -> Decisions:
    """Turn probabilities, OOD scores and rule matches into decisions, for every row.

    Parameters
    ----------
    policy
        The thresholds (and optional cost policy).
    classes
        The class labels, in the order of the probability columns.
    primary_proba
        The calibrated probabilities of the primary model, shape ``(n, k)``.
    backup_proba
        The backup model's probabilities, same shape; ``None`` when there is no backup.
    ood_score
        One OOD score per row (higher is stranger); ``None`` when there is no detector.
    rule_matches
        The result of ``RuleSet.evaluate`` on the same rows; ``None`` when there are no rules.

    Returns
    -------
    Decisions
        Per row: label, route, reason, defer reason and confidence.

    Raises
    ------
    DataError
        When an input has the wrong shape or holds non-finite values.
    ConfigError
        When the classes are not distinct, or a rule gives a label that is not a class.

    Examples
    --------
    >>> policy = CascadePolicy(0.9, ood_threshold=3.0)
    >>> d = decide(policy, classes=["ham", "spam"],
    ...            primary_proba=[[0.95, 0.05], [0.6, 0.4], [0.99, 0.01]],
    ...            ood_score=[0.1, 0.2, 7.5])
    >>> d.label.tolist(), d.route.tolist()
    (['ham', None, None], ['accept', 'review', 'review'])
    >>> d.reason.tolist()
    ['confidence 0.95 ≥ threshold 0.90', 'confidence 0.60 < threshold 0.90', \
'out of distribution (score 7.50 ≥ 3.00)']
    """
    cls = np.asarray(list(classes), dtype=object)
    if cls.size == 0 or len(set(cls.tolist())) != cls.size:
        raise ConfigError(f"classes must be distinct and not empty; got {cls.tolist()}.")
    p = _matrix(primary_proba, "primary_proba", cls.size, None)
    n = len(p)
    b = None if backup_proba is None else _matrix(backup_proba, "backup_proba", cls.size, n)
    ood = None if ood_score is None else np.asarray(ood_score, dtype=float).reshape(-1)
    if ood is not None and (ood.shape != (n,) or np.isnan(ood).any()):
        raise DataError(f"ood_score must hold {n} numbers, none nan; got shape {ood.shape}.")
    matched, names, outcome = _rules(rule_matches, n, cls.tolist())
    s = _signals(policy, p, b, ood)
    is_rule_label = matched & (outcome != REVIEW)
    conditions = [is_rule_label, matched, s.is_ood, s.p_ok, s.b_ok, s.disagree]
    code = np.select(conditions, [_RULE, _RULE_REVIEW, _OOD, _ACCEPT, _BACKUP, _DISAGREE], _LOW)
    label = np.full(n, None, dtype=object)
    label[code == _RULE] = outcome[code == _RULE]
    label[code == _ACCEPT] = cls[s.p_idx[code == _ACCEPT]]
    if s.b_idx is not None and s.b_conf is not None:
        label[code == _BACKUP] = cls[s.b_idx[code == _BACKUP]]
    confidence = np.where(code == _BACKUP, s.b_conf if s.b_conf is not None else np.nan, s.p_conf)
    confidence = np.where(code <= _RULE_REVIEW, np.nan, confidence).astype(float)
    reasons = [_reason(int(c), i, policy, s, names, cls) for i, c in enumerate(code)]
    return Decisions(
        label=label,
        route=_ROUTES[code],
        reason=np.array(reasons, dtype=object).reshape(n),
        defer_reason=_DEFERS[code],
        confidence=confidence,
    )
