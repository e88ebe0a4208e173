"""What each stage of the cascade says about each row, and the codes of the outcomes.

:func:`_signals` reads the primary's and the backup's labels and confidence (or cost) and the
OOD flag; the inputs are checked first (:func:`_matrix`, :func:`_rules`). Each row's outcome is
one code (``_RULE`` … ``_FAILED``), which gives its decision kind and defer reason
(:func:`_decisions`); :func:`~prudent.models._cascade.decide` applies the order of precedence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from prudent._typing import BoolArray, FloatArray, ProbaMatrix
from prudent.errors import ConfigError, DataError
from prudent.models._decisions import DecisionKind, Decisions, DeferReason
from prudent.models._rules import REVIEW, RuleMatches

if TYPE_CHECKING:
    from prudent.models._cascade import CascadePolicy

__all__: list[str] = []  # helpers of :mod:`prudent.models._cascade` only


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
        p_idx = policy.label_index(p)
        p_ok = p[rows, p_idx] >= policy.accept_threshold
    b_idx = b_conf = None
    b_ok = disagree = np.zeros(n, dtype=bool)
    if b is not None:
        costs = policy.cost_policy
        if costs is not None:  # its cheapest label, as the primary's
            b_idx, b_cost = costs.choose(b)
        else:
            b_idx = policy.label_index(b)
        b_conf = b[rows, b_idx]
        disagree = b_idx != p_idx
        b_ok = (b_conf >= policy.backup_threshold) & ~(disagree & policy.backup_must_agree)
        if costs is not None:  # and, as the primary, no costlier than a review
            b_ok &= b_cost <= costs.review_cost
    is_ood = np.zeros(n, dtype=bool)
    if ood is not None and policy.ood_threshold < math.inf:
        is_ood = ood >= policy.ood_threshold
    return _Signals(p_idx, p[rows, p_idx], cost, p_ok, b_idx, b_conf, b_ok, disagree, ood, is_ood)


_RULE, _RULE_REVIEW, _OOD, _ACCEPT, _BACKUP, _DISAGREE, _LOW, _FALLBACK, _FAILED = range(9)
_K = DecisionKind
_KINDS = np.array(
    [_K.RULE, _K.REVIEW, _K.REVIEW, _K.ACCEPT, _K.BACKUP, _K.REVIEW, _K.REVIEW, _K.BACKUP,
     _K.REVIEW],
    dtype=object,
)  # fmt: skip
_D = DeferReason
_DEFERS = np.array(
    [None, _D.RULE, _D.OUT_OF_DISTRIBUTION, None, None, _D.STAGE_DISAGREEMENT,
     _D.LOW_CONFIDENCE, None, _D.MODELS_FAILED],
    dtype=object,
)  # fmt: skip


def _decisions(code: Any, label: Any, confidence: Any, reasons: Any) -> Decisions:
    return Decisions(
        label=label,
        kind=_KINDS[code],
        reason=np.array(reasons, dtype=object).reshape(len(code)),
        defer_reason=_DEFERS[code],
        confidence=np.asarray(confidence, dtype=float),
    )
