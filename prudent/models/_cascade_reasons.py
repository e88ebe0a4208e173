"""The reason of each decision of the cascade, in words.

Each row's reason is built from its outcome code: the rule that decided it, its OOD score
against the threshold, the primary's confidence (or expected cost) against its threshold, the
backup's, and the input values never seen in training (:func:`_noted`). Numbers are shown
with the fewest decimals that keep their order visible against the threshold (:func:`_pair`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from prudent._typing import FloatArray, IntArray
from prudent.errors import DataError
from prudent.models._cascade_signals import (
    _ACCEPT,
    _BACKUP,
    _DISAGREE,
    _OOD,
    _RULE,
    _RULE_REVIEW,
    _Signals,
)
from prudent.models._decisions import Decisions

if TYPE_CHECKING:
    from prudent.models._cascade import CascadePolicy

ObjArray = npt.NDArray[np.object_]

__all__: list[str] = []  # helpers of :mod:`prudent.models._cascade` only


def _pair(a: float, b: float) -> tuple[str, str]:
    """Format two numbers with the fewest decimals (2 to 6) that keep their order visible."""
    for d in range(2, 7):
        sa, sb = f"{a:.{d}f}", f"{b:.{d}f}"
        if a == b or sa != sb:
            break
    return sa, sb


def _pairs(a: FloatArray, t: float) -> tuple[list[str], list[str]]:
    """:func:`_pair` for every value of ``a`` against one ``t``.

    Two decimals for all; only the values whose text ties with ``t``'s while they differ go
    through :func:`_pair` for more decimals.
    """
    ts = f"{t:.2f}"
    sa, st = [f"{v:.2f}" for v in a.tolist()], [ts] * len(a)
    for i in np.flatnonzero((np.asarray(sa, dtype=object) == ts) & (a != t)):
        sa[i], st[i] = _pair(float(a[i]), t)
    return sa, st


def _primary_tests(policy: CascadePolicy, s: _Signals, rows: IntArray) -> list[str]:
    """The primary's test for ``rows``, as text: its confidence (or cost) against the threshold."""
    ok = s.p_ok[rows].tolist()
    if policy.cost_policy is not None and s.p_cost is not None:
        c, r = _pairs(s.p_cost[rows], policy.cost_policy.review_cost)
        return [
            f"expected cost {a} {'≤' if y else '>'} review cost {b}"
            for a, y, b in zip(c, ok, r, strict=True)
        ]
    if math.isinf(policy.accept_threshold):
        return [
            f"confidence {v:.2f}; no accept threshold: the model never auto-accepts"
            for v in s.p_conf[rows].tolist()
        ]
    c, t = _pairs(s.p_conf[rows], policy.accept_threshold)
    return [
        f"confidence {a} {'≥' if y else '<'} threshold {b}"
        for a, y, b in zip(c, ok, t, strict=True)
    ]


def _rule_reason(code: int, name: Any) -> str:
    return f"rule {name!r}" + (" sends to review" if code == _RULE_REVIEW else "")


def _backup_reasons(
    code: int, rows: IntArray, policy: CascadePolicy, s: _Signals, cls: Any
) -> list[str]:
    """The reasons of ``rows`` whose code is ``_BACKUP``, ``_DISAGREE`` or ``_LOW``."""
    assert s.b_conf is not None and s.b_idx is not None
    primary = _primary_tests(policy, s, rows)
    b, bt = _pairs(s.b_conf[rows], policy.backup_threshold)
    if code == _BACKUP:
        agrees = " and agrees" if policy.backup_must_agree else ""
        return [
            f"primary unsure ({p}); backup confident ({x} ≥ {t}){agrees}"
            for p, x, t in zip(primary, b, bt, strict=True)
        ]
    if code == _DISAGREE:
        pairs = zip(cls[s.p_idx[rows]], cls[s.b_idx[rows]], strict=True)
        return [
            f"primary unsure ({p}) and backup disagrees ({x!r} vs {y!r})"
            for p, (x, y) in zip(primary, pairs, strict=True)
        ]
    if math.isinf(policy.backup_threshold):
        return [f"{p}; the backup only stands in for a failed primary" for p in primary]
    return [f"{p}; backup unsure ({x} < {t})" for p, x, t in zip(primary, b, bt, strict=True)]


def _reasons(code: Any, policy: CascadePolicy, s: _Signals, names: Any, cls: Any) -> ObjArray:
    """Each row's reason, built code by code (the formatting is vectorised per group)."""
    out = np.empty(len(code), dtype=object)
    for c in np.unique(code).tolist():
        rows = np.flatnonzero(code == c)
        if c in (_RULE, _RULE_REVIEW):
            out[rows] = [_rule_reason(c, names[i]) for i in rows.tolist()]
            also = rows[s.is_ood[rows]]  # a rule decided a row the OOD check flags
            if s.ood is not None and len(also):
                sc, t = _pairs(s.ood[also], policy.ood_threshold)
                out[also] = [
                    f"{out[i]}; the row is also out of distribution (score {a} ≥ {b})"
                    for i, a, b in zip(also.tolist(), sc, t, strict=True)
                ]
        elif c == _OOD and s.ood is not None:
            sc, t = _pairs(s.ood[rows], policy.ood_threshold)
            out[rows] = [
                f"out of distribution (score {a} ≥ {b})"
                + ("" if names[i] is None else f"; over rule {names[i]!r}")
                for i, a, b in zip(rows.tolist(), sc, t, strict=True)
            ]
        elif c == _ACCEPT or s.b_conf is None:
            out[rows] = _primary_tests(policy, s, rows)
        else:
            out[rows] = _backup_reasons(c, rows, policy, s, cls)
    return out


def _noted(d: Decisions, unknown: Sequence[Sequence[str]] | ObjArray | None) -> Decisions:
    """``d`` with each reason naming the row's unknown values, if any."""
    if unknown is None:
        return d
    names_of = list(unknown)
    if len(names_of) != len(d):
        raise DataError(f"unknown_values has {len(names_of)} rows, but the decisions {len(d)}.")
    for i, names in enumerate(names_of):
        if names:
            d.reason[i] = f"{d.reason[i]}; unknown values (never seen in training): " + ", ".join(
                names
            )
    return d
