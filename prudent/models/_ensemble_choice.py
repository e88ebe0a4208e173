"""The honest choice between the best single model, greedy selection and stacking.

Every option is scored on rows it was not tuned on; an ensemble is kept only when it beats
its baseline by a margin (:func:`choose_ensemble`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state

from prudent._typing import EncodedLabels, FloatArray, IntArray, Labels, ProbaMatrix
from prudent.errors import ConfigError
from prudent.models._ensemble_greedy import (
    RandomState,
    _as_stack,
    _encode,
    _greedy_counts,
    _losses,
    greedy_ensemble_selection,
)
from prudent.models._ensemble_stacking import (
    MAX_STACKING_INPUTS,
    _splitter,
    stacking_cost,
    stacking_oof,
)

__all__ = ["EnsembleChoice", "choose_ensemble"]


@dataclass(frozen=True, eq=False)
class EnsembleChoice:
    """The outcome of :func:`choose_ensemble`.

    Parameters
    ----------
    kind
        ``"greedy"``, ``"stacking"`` or ``"single"``.
    weights
        Member name → weight (zero weights dropped). For stacking, each member's share of
        the meta-model's absolute coefficients: a measure of reliance, not a mixing weight.
    members
        The members the ensemble needs, in the order of ``names``.
    oof_proba
        The chosen combination's cross-validated probabilities on the OOF rows.
    log_loss
        Validation log loss per option: ``single`` (best member), ``single_stacked`` (best
        member recalibrated by the stacking meta-model, fed ``m`` copies of it), ``greedy``
        and ``stacking``.
    best_single
        Name of the member with the lowest OOF log loss.
    best_single_log_loss
        Its log loss.
    gain
        Log loss improvement of the chosen ensemble over its baseline (0 for ``single``).
    meta
        The refitted stacking meta-model when ``kind == "stacking"``.
    notes
        Why stacking was left out or fitted on a sample of the rows (the time allowed).
    """

    kind: Literal["greedy", "stacking", "single"]
    weights: dict[str, float]
    members: tuple[str, ...]
    oof_proba: ProbaMatrix
    log_loss: dict[str, float]
    best_single: str
    best_single_log_loss: float
    gain: float
    meta: LogisticRegression | None = None
    notes: tuple[str, ...] = ()


MIN_STACKING_ROWS = 500
"""Fewer rows than this within the time allowed, and stacking is not tried: its nested
cross-validation would score a meta-model fitted on a few hundred rows."""


PREDICT_BUDGET = 0.04
"""CPU seconds per 1,000 rows (one thread, the fit's measure of each member) an ensemble's
members may cost together before it trades some of its gain for speed: about what lets
``prudent predict`` score 20,000 rows a second on two cores, the guard, reading and writing
included (issue 8's target)."""


def _greedy_cv(
    stack: FloatArray, y_idx: EncodedLabels, n_iter: int, folds: Any, random_state: RandomState
) -> FloatArray:
    """Greedy weights fitted on k-1 folds of the OOF rows, applied to the held-out fold."""
    rng = check_random_state(random_state)
    out = np.empty(stack.shape[1:])
    for train, test in folds.split(stack[0], y_idx):
        w = _greedy_counts(stack[:, train], y_idx[train], n_iter, 1, "log_loss", rng)
        out[test] = np.tensordot(w / w.sum(), stack[:, test], axes=1)
    return out


def _log_loss(P: FloatArray, y_idx: EncodedLabels) -> float:
    """The log loss of one probability matrix."""
    return float(_losses(P[None], y_idx, "log_loss")[0])


def _meta_shares(meta: LogisticRegression, n_members: int) -> FloatArray:
    """Each member's share of the meta-model's absolute coefficients."""
    blocks = np.abs(meta.coef_).reshape(meta.coef_.shape[0], n_members, -1)
    mass = blocks.sum(axis=(0, 2))
    return np.asarray(mass / mass.sum(), dtype=np.float64)


def choose_ensemble(
    names: Sequence[str],
    oof_probas: Sequence[ProbaMatrix],
    y: Labels,
    *,
    n_iter: int = 50,
    cv: int = 5,
    min_gain: float = 1e-3,
    random_state: RandomState = 0,
    seconds: float | None = None,
    groups: IntArray | None = None,
    costs: Sequence[float] | None = None,
    cost_budget: float | None = PREDICT_BUDGET,
) -> EnsembleChoice:
    """Choose between the best single model, greedy selection and stacking, honestly.

    Every option is scored on rows it was not tuned on: single models by their OOF log loss,
    greedy selection by weights fitted on k-1 folds of the OOF rows and scored on the
    held-out fold, stacking by nested cross-validation. Stacking recalibrates as it combines,
    so its baseline is the best member recalibrated the same way (``single_stacked``); greedy
    selection's baseline is the best raw member. (The stacking baseline feeds the meta-model
    ``m`` copies of one member, so that copies gain nothing from weaker effective
    regularisation.) Of the ensembles that beat their baseline by
    at least ``min_gain``, the one with the lowest log loss wins; if none does, the best
    single model is kept.

    Parameters
    ----------
    names
        Member names, one per probability matrix.
    oof_probas
        Out-of-fold probabilities, columns in the sorted order of the labels in ``y``.
    y
        The true labels of the rows.
    n_iter
        Greedy steps (see :func:`greedy_ensemble_selection`).
    cv
        Folds used to score greedy selection and stacking.
    min_gain
        Log loss improvement an ensemble needs over its baseline to be chosen.
    random_state
        Seed of the fold shuffling and tie-breaking.
    seconds
        Time stacking may take (``None``: no limit). Its cost is projected from pilot fits
        (:func:`~prudent.models._ensemble_stacking.stacking_cost`); when it would take
        longer, its meta-models see a stratified sample of the rows that fits, and below
        :data:`MIN_STACKING_ROWS` stacking is left out. ``choice.notes`` say so.
    groups
        Each row's group (``--group``): greedy selection's and stacking's folds keep each
        group whole, so that neither is scored on groups it was fitted on.
    costs
        Each member's prediction cost (seconds per 1,000 rows), in the order of ``names``.
        Given, the chosen ensemble sheds the costly members it can do without
        (:func:`_pruned`, :func:`_pruned_stacking`): ``choice.notes`` name them.
    cost_budget
        Seconds per 1,000 rows the ensemble's members may cost together
        (:data:`PREDICT_BUDGET`; ``None``: no budget). Over it, a member is shed when the
        ensemble keeps half of its gain over its baseline without it (:func:`_bound`).

    Returns
    -------
    EnsembleChoice
        The choice, its weights, OOF probabilities and the log loss of every option.

    Raises
    ------
    ConfigError
        If ``names`` is duplicated or does not match ``oof_probas``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.repeat([0, 1], 10)
    >>> p = np.where(np.eye(2)[y] == 1, 0.8, 0.2)
    >>> choose_ensemble(["a", "b"], [p, p.copy()], y).kind
    'single'
    """
    stack = _as_stack(oof_probas)
    if len(names) != len(stack) or len(set(names)) != len(names):
        raise ConfigError(
            f"choose_ensemble got names {list(names)} for {len(stack)} probability matrices; "
            "pass one unique name per matrix."
        )
    y = np.asarray(y)
    y_idx = _encode(y, stack.shape[1], stack.shape[2])
    single = _losses(stack, y_idx, "log_loss")
    best = int(np.argmin(single))
    base = {
        "kind": "single",
        "weights": {names[best]: 1.0},
        "members": (names[best],),
        "oof_proba": stack[best],
        "best_single": names[best],
        "best_single_log_loss": float(single[best]),
        "gain": 0.0,
    }
    if len(stack) == 1:
        return EnsembleChoice(log_loss={"single": float(single[best])}, **base)
    options = _Options(n_iter, cv, min_gain, random_state, seconds, groups, costs, cost_budget)
    return _compare(list(names), stack, y, y_idx, base, options)


@dataclass(frozen=True)
class _Options:
    """How :func:`choose_ensemble` searches and scores (its keyword arguments)."""

    n_iter: int
    cv: int
    min_gain: float
    random_state: RandomState
    seconds: float | None
    groups: IntArray | None = None
    costs: Sequence[float] | None = None
    cost_budget: float | None = None


def _folds(y: Labels, options: _Options) -> Any:
    """The folds greedy selection and stacking are scored on (by group with ``groups``)."""
    return _splitter(y, options.cv, options.random_state, options.groups)


def _bound(full: float, baseline: float, over_budget: bool, min_gain: float) -> float:
    """The highest cross-validated log loss an ensemble may reach by shedding a member.

    First (``over_budget`` false): worse than the whole ensemble's (``full``) by at most
    ``min_gain``, and still ``min_gain`` better than its ``baseline`` (the best single
    model; for stacking, the best member recalibrated): the members that earn their cost
    stay. Then, while the ensemble costs more than the budget, prediction speed is worth half
    of what it gains over its baseline: it keeps at least half of that gain (and
    ``min_gain``).

    Examples
    --------
    >>> round(_bound(0.50, 0.60, False, 0.001), 4), round(_bound(0.50, 0.60, True, 0.001), 4)
    (0.501, 0.55)
    """
    strict = min(full + min_gain, baseline - min_gain)
    if not over_budget:
        return strict
    return max(strict, baseline - max(min_gain, (baseline - full) / 2))


PRUNE_SHARE = 0.1
"""A member whose prediction costs less than this share of its greedy ensemble's is never
shed: leaving it out would buy no speed."""


def _pruned(
    names: Sequence[str],
    stack: FloatArray,
    y_idx: EncodedLabels,
    full: FloatArray,
    single: float,
    options: _Options,
    folds: Any,
) -> tuple[list[int], bool]:
    """The members greedy selection may draw on once the costly ones it can do without are
    shed, and whether any was.

    Greedy selection with replacement picks many members a few times each, and near copies
    (three variants of one boosting family) among them: each costs its full prediction time
    for a share of the weight. Costliest first, a member is left out of the pool when greedy
    selection without it, scored as the choice scores it (weights fitted on k-1 folds, log
    loss on the held-out fold), stays within :func:`_bound` of the ensemble of the whole
    pool (``full``, its cross-validated probabilities) and of the best single model
    (``single``): first the members that do not earn their cost go; then, while the
    ensemble costs more than ``options.cost_budget``, those without which it keeps half of
    its gain and costs less (greedy selection may pick costlier members in their place).
    """
    costs = options.costs
    if costs is None:
        return list(range(len(names))), False
    n_iter, seed, budget = options.n_iter, options.random_state, options.cost_budget
    whole = _log_loss(full, y_idx)

    def used(pool: list[int]) -> list[int]:
        counts = _greedy_counts(stack[pool], y_idx, n_iter, 1, "log_loss", check_random_state(seed))
        return [m for m, c in zip(pool, counts, strict=True) if c > 0]

    def shed_one(pool: list[int], over_budget: bool) -> int | None:
        members = used(pool)
        spent = sum(costs[m] for m in members)
        if over_budget and (budget is None or spent <= budget):
            return None
        bound = _bound(whole, single, over_budget, options.min_gain)
        for m in sorted(members, key=lambda m: (-costs[m], m)) if len(members) > 1 else []:
            if costs[m] < PRUNE_SHARE * spent:
                break
            rest = [k for k in pool if k != m]
            if over_budget and sum(costs[k] for k in used(rest)) >= spent:
                continue  # greedy selection would pick costlier members in its place
            if _log_loss(_greedy_cv(stack[rest], y_idx, n_iter, folds, seed), y_idx) <= bound:
                return m
        return None

    pool: list[int] = list(range(len(names)))
    shed = False
    for over_budget in (False, True):
        while (dropped := shed_one(pool, over_budget)) is not None:
            pool.remove(dropped)
            shed = True
    return pool, shed


def _greedy_weights(stack: FloatArray, y: Labels, pool: list[int], options: _Options) -> FloatArray:
    """Greedy selection's weights over the members in ``pool`` (zero for the others)."""
    w = np.zeros(len(stack))
    w[pool] = greedy_ensemble_selection(
        list(stack[pool]), y, n_iter=options.n_iter, random_state=options.random_state
    )
    return w


def _shed_note(
    kind: str,
    names: Sequence[str],
    members: tuple[Sequence[int], Sequence[int]],
    losses: tuple[float, float],
    costs: Sequence[float],
) -> str:
    """What shedding costly members changed: which left the ``kind`` of ensemble, its
    prediction cost and its cross-validated log loss, before and after."""
    before, after = members
    left = ", ".join(names[i] for i in sorted(set(before) - set(after))) or "none of its members"
    spent = [sum(costs[i] for i in m) for m in members]
    return (
        f"{kind} does without {left}: its predictions cost {spent[1]:.3f} s per 1,000 rows "
        f"instead of {spent[0]:.3f}, for a cross-validated log loss of {losses[1]:.4f} "
        f"against {losses[0]:.4f}"
    )


@dataclass(frozen=True)
class _Stacked:
    """Stacking's outcome while it is scored: its cross-validated probabilities, meta-model,
    members (indices into the pool), the rows its meta-models fit on, its CPU seconds and
    those its baselines took beside it (``overhead``: part of the time stacking was allowed)."""

    proba: FloatArray
    meta: LogisticRegression
    members: list[int]
    rows: int | None
    seconds: float
    overhead: float = 0.0


def _stacked(
    stack: FloatArray, y: Labels, members: list[int], rows: int | None, options: _Options
) -> _Stacked:
    """:func:`stacking_oof` on these members, timed in CPU seconds (as the fit budgets)."""
    started = time.process_time()
    proba, meta = stacking_oof(
        list(stack[members]),
        y,
        cv=options.cv,
        random_state=options.random_state,
        max_rows=rows,
        groups=options.groups,
    )
    return _Stacked(proba, meta, members, rows, time.process_time() - started)


def _pruned_stacking(
    names: Sequence[str],
    stack: FloatArray,
    y: Labels,
    y_idx: EncodedLabels,
    full: _Stacked,
    baseline: float,
    options: _Options,
) -> tuple[_Stacked, str | None]:
    """Stacking without the costly members it can do without, and a note naming them.

    The meta-model reads every member it was fitted on, so each costs its whole prediction
    time: a k-NN member with a few percent of the coefficients can cost most of it
    (bird_strike_phase: 10.5 of 12 s per 100,000 rows). As :func:`_pruned` does for greedy
    selection, costliest first, a member is left out when stacking without it, scored by the
    same nested cross-validation on the same rows, stays within :func:`_bound` of stacking on
    all of them and of its baseline (the best member recalibrated by the meta-model), as
    greedy selection's does; members under :data:`PRUNE_SHARE` of the cost are never
    shed. Each try costs about one more stacking fit: tries stop when the time stacking was
    allowed (``options.seconds``), which its baselines shared, would be passed.
    """
    costs = options.costs
    if costs is None:
        return full, None

    first = _log_loss(full.proba, y_idx)
    spent, current = full.seconds + full.overhead, full
    fitted: dict[tuple[int, ...], _Stacked] = {}  # a subset tried first is not fitted again
    for over_budget in (False, True):
        while len(current.members) > 2:  # two at least: one member alone is its baseline
            total = sum(costs[m] for m in current.members)
            budget = options.cost_budget
            if over_budget and (budget is None or total <= budget):
                break
            bound = _bound(first, baseline, over_budget, options.min_gain)
            tried = None
            for m in sorted(current.members, key=lambda m: (-costs[m], m)):
                if costs[m] < PRUNE_SHARE * total:
                    break
                rest = [k for k in current.members if k != m]
                attempt = fitted.get(tuple(rest))
                if attempt is None:
                    if options.seconds is not None and spent + current.seconds > options.seconds:
                        break
                    attempt = fitted[tuple(rest)] = _stacked(stack, y, rest, current.rows, options)
                    spent += attempt.seconds
                if _log_loss(attempt.proba, y_idx) <= bound:
                    tried = attempt
                    break
            if tried is None:
                break
            current = tried
    if current is full:
        return full, None
    losses = (first, _log_loss(current.proba, y_idx))
    members = (full.members, current.members)
    return current, _shed_note("stacking", names, members, losses, costs)


def _stacking_rows(
    stack: FloatArray, y: Labels, options: _Options
) -> tuple[int | None, tuple[str, ...]]:
    """The rows stacking may fit on within ``options.seconds`` (``None``: all; 0: skip it)."""
    (m, n, k), inputs = stack.shape, stack.shape[0] * stack.shape[2]
    if inputs > MAX_STACKING_INPUTS:
        # the multinomial meta-model's cost grows with (members x classes)^2, and with many
        # classes it fits worse than the members it combines: stacking as many members as
        # fit was tried, a never-seen 12-class table's log loss 1.287 against the best single
        # model's 0.820, digits' (7 models) 0.083 against greedy selection's 0.081
        return 0, (
            f"stacking not tried: {m} models × {k} classes would give its meta-model {inputs} "
            f"inputs, more than {MAX_STACKING_INPUTS}",
        )
    if options.seconds is None:
        return None, ()
    seed = options.random_state if isinstance(options.random_state, int) else 0
    if options.seconds <= 0:
        return 0, ("stacking not tried: no time left for it",)
    cost = stacking_cost(list(stack), y, cv=options.cv, random_state=seed)
    if cost.seconds(n) <= options.seconds:
        return None, ()
    rows = cost.rows_within(options.seconds)
    rows = 1 << (rows.bit_length() - 1) if rows > 0 else 0  # a power of 2: same in reruns
    projected = f"stacking on all {n} rows projects {cost.seconds(n):.0f}s"
    if rows < min(MIN_STACKING_ROWS, n):
        return 0, (f"stacking not tried: {projected}, {options.seconds:.0f}s allowed",)
    return rows, (
        f"stacking fitted on {rows} of {n} rows: {projected}, {options.seconds:.0f}s allowed",
    )


def _score_options(
    names: Sequence[str],
    stack: FloatArray,
    y: Labels,
    y_idx: EncodedLabels,
    base: dict[str, Any],
    options: _Options,
) -> tuple[dict[str, FloatArray], _Stacked | None, dict[str, float], tuple[str, ...]]:
    """Cross-validated probabilities of both ensembles, stacking's outcome, every log loss
    and the notes on stacking.

    Stacking is left out (no ``stacking`` key) when members x classes exceeds
    :data:`MAX_STACKING_INPUTS` or when it cannot fit in ``options.seconds``.
    """
    seed = options.random_state
    oof = {"greedy": _greedy_cv(stack, y_idx, options.n_iter, _folds(y, options), seed)}
    loss = {"single": base["best_single_log_loss"]}
    rows, notes = _stacking_rows(stack, y, options)
    if rows == 0:
        loss["greedy"] = _log_loss(oof["greedy"], y_idx)
        return oof, None, loss, notes
    cv, seed, groups = options.cv, options.random_state, options.groups
    full = _stacked(stack, y, list(range(len(stack))), rows, options)
    # The meta-model on m copies of one member equals it on one copy with C * m (L2 splits
    # the weight evenly between copies): the same regularisation, no diversity.
    m = len(stack)
    started = time.process_time()
    recal = [
        stacking_oof([p], y, cv=cv, C=m, random_state=seed, max_rows=rows, groups=groups)[0]
        for p in stack
    ]
    full = replace(full, overhead=time.process_time() - started)
    loss["single_stacked"] = float(np.min(_losses(np.stack(recal), y_idx, "log_loss")))
    oof["stacking"] = full.proba
    loss |= {k: _log_loss(v, y_idx) for k, v in oof.items()}
    return oof, full, loss, notes


def _compare(
    names: list[str],
    stack: FloatArray,
    y: Labels,
    y_idx: EncodedLabels,
    base: dict[str, Any],
    options: _Options,
) -> EnsembleChoice:
    """Score greedy selection and stacking against their baselines and pick the winner."""
    oof, stacked, loss, notes = _score_options(names, stack, y, y_idx, base, options)
    base = base | {"notes": notes}
    gains = {"greedy": loss["single"] - loss["greedy"]}
    if "stacking" in loss:
        gains["stacking"] = loss["single_stacked"] - loss["stacking"]
    eligible = [k for k, g in gains.items() if g >= options.min_gain]
    if not eligible:
        return EnsembleChoice(log_loss=loss, **base)
    kind: Literal["greedy", "stacking"] = "greedy" if "greedy" in eligible else "stacking"
    if len(eligible) == 2 and loss["stacking"] < loss["greedy"]:
        kind = "stacking"
    if kind == "stacking":
        assert stacked is not None  # stacking is eligible only when it was scored
        baseline = loss["single_stacked"]
        stacked, shed_note = _pruned_stacking(names, stack, y, y_idx, stacked, baseline, options)
        if shed_note is not None:
            oof["stacking"] = stacked.proba
            loss["stacking"] = _log_loss(stacked.proba, y_idx)
            gains["stacking"] = baseline - loss["stacking"]
            base["notes"] = (*base["notes"], shed_note)
    if kind == "greedy":
        folds, seed = _folds(y, options), options.random_state
        single = loss["single"]
        pool, shed = _pruned(names, stack, y_idx, oof["greedy"], single, options, folds)
        w = _greedy_weights(stack, y, pool, options)
        if shed:
            whole = _greedy_weights(stack, y, list(range(len(names))), options)
            oof["greedy"] = _greedy_cv(stack[pool], y_idx, options.n_iter, folds, seed)
            cut = _log_loss(oof["greedy"], y_idx)
            kept = (np.flatnonzero(whole).tolist(), np.flatnonzero(w).tolist())
            costs = options.costs or [0.0] * len(names)
            note = _shed_note("greedy selection", names, kept, (loss["greedy"], cut), costs)
            base["notes"] = (*base["notes"], note)
            loss["greedy"], gains["greedy"] = cut, loss["single"] - cut
        meta, used = None, [i for i, v in enumerate(w) if v > 0]
    else:
        assert stacked is not None  # stacking is eligible only when it was scored
        meta, used = stacked.meta, stacked.members  # the meta reads them all, in this order
        w = np.zeros(len(names))
        w[used] = _meta_shares(meta, len(used))
    weights = {n: float(v) for n, v in zip(names, w, strict=True) if v > 0}
    members = tuple(names[i] for i in used)
    return EnsembleChoice(
        kind=kind,
        weights=weights,
        members=members,
        oof_proba=oof[kind],
        log_loss=loss,
        best_single=base["best_single"],
        best_single_log_loss=loss["single"],
        gain=gains[kind],
        meta=meta,
        notes=base["notes"],
    )
