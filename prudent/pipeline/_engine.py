"""Cross-validate one candidate under a time budget: out-of-fold probabilities and a refit."""

from __future__ import annotations

import pickle
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from prudent._typing import EncodedLabels, IntArray, ProbaMatrix
from prudent.data import Splits
from prudent.models import BuildContext, CandidateSpec

__all__ = [
    "Budget",
    "CandidateRun",
    "SkippedCandidate",
    "cross_validate_candidate",
    "predict_proba_aligned",
    "save_seconds",
    "trust_seconds",
]


LOAD_CAP = 5.0
"""The most wall seconds per CPU second a reserve measured in CPU seconds is scaled by."""


class Budget:
    """Seconds left of a fit's time limit, with a reserve kept for the final stages.

    The limit is wall time. The reserve for the stages after the search is kept in two
    parts: a share of the limit for the trust stage (plus what each fitted family commits it
    to, :meth:`charge`), and the save's. When the caller measured the save's cost on this
    machine (``finish_cpu``, in CPU seconds, :meth:`charge_finish` adding each family's), it
    and the trust stage's share are converted to wall seconds by the fit's own wall-to-CPU
    ratio so far (:meth:`load`): on a busy machine every CPU second takes longer.

    Parameters
    ----------
    seconds
        The whole time limit.
    reserve_share
        Share of the limit kept for ensembling, calibration, OOD and the final test.
    finish_share
        Share of the limit kept for handing over the bundle when ``finish_cpu`` is not given.
    finish_cpu
        CPU seconds saving the bundle and its report will take, measured by the caller
        (``prudent fit``); ``None``: the fit is not saved within the limit.
    clock, cpu_clock
        Monotonic wall clock and the process's CPU clock (injectable for tests).
    start
        When the limit started, on ``clock`` (default: now); the command line passes the
        moment its process began, so starting Python, importing and reading count too.

    Examples
    --------
    >>> b = Budget(100.0, reserve_share=0.2, finish_share=0.15)
    >>> 64 < b.for_candidates() <= 65
    True
    >>> saved = Budget(20.0, finish_cpu=5.0, cpu_clock=lambda: 0.0)
    >>> 10 < saved.for_candidates() <= 11  # 20 - 4 (the trust stage) - 5 (the save)
    True
    """

    def __init__(
        self,
        seconds: float,
        *,
        reserve_share: float = 0.2,
        finish_share: float = 0.15,
        finish_cpu: float | None = None,
        clock: Any = time.monotonic,
        cpu_clock: Any = time.process_time,
        start: float | None = None,
    ) -> None:
        self.seconds = seconds
        self.finish_cpu = finish_cpu
        self._finish_wall = max(1.0, finish_share * seconds)
        self._trust_share = max(2.0, reserve_share * seconds)
        self._charged = 0.0
        self._clock, self._cpu_clock = clock, cpu_clock
        self._start = clock() if start is None else start
        self._since = (clock(), cpu_clock())

    @property
    def reserve(self) -> float:
        """Wall seconds kept for the trust stage: its share of the limit (in CPU seconds when
        the save is measured, so scaled by :meth:`load` as the save's is) and the charges."""
        share = self._trust_share
        if self.finish_cpu is not None:
            share *= self.load()
        return share + self._charged

    @property
    def finish(self) -> float:
        """Wall seconds kept for saving the bundle and its report."""
        if self.finish_cpu is None:
            return self._finish_wall
        return self.finish_cpu * self.load()

    def load(self) -> float:
        """Wall seconds this fit has taken per CPU second so far (1 on an idle machine).

        Examples
        --------
        >>> t = [0.0]
        >>> b = Budget(60.0, clock=lambda: 3 * t[0], cpu_clock=lambda: t[0])
        >>> t[0] = 2.0  # 6 s of wall time for 2 s of CPU: two other processes share the core
        >>> b.load()
        3.0
        """
        wall = self._clock() - self._since[0]
        cpu = self._cpu_clock() - self._since[1]
        if cpu < 0.5:  # too little measured yet
            return 1.0
        return float(min(max(wall / cpu, 1.0), LOAD_CAP))

    def elapsed(self) -> float:
        """Seconds since the fit started."""
        return float(self._clock() - self._start)

    def remaining(self) -> float:
        """Seconds left of the whole limit."""
        return self.seconds - self.elapsed()

    def for_candidates(self) -> float:
        """Seconds left for candidate fitting (the reserves excluded)."""
        return self.remaining() - self.reserve - self.finish

    def for_trust(self) -> float:
        """Seconds left for the trust stage: what remains but the save's share.

        Examples
        --------
        >>> b = Budget(100.0, reserve_share=0.2, finish_share=0.15)
        >>> 84 < b.for_trust() <= 85
        True
        """
        return self.remaining() - self.finish

    def charge(self, seconds: float) -> None:
        """Keep ``seconds`` more in the reserve: work a fitted family has committed the
        trust stage to (see :func:`trust_seconds`), taken from the candidates' time.

        Examples
        --------
        >>> b = Budget(100.0, reserve_share=0.2, finish_share=0.15)
        >>> b.charge(10.0)
        >>> 54 < b.for_candidates() <= 55
        True
        """
        self._charged += max(seconds, 0.0)

    def charge_finish(self, cpu_seconds: float) -> None:
        """Keep ``cpu_seconds`` more for the save (a fitted family's, :func:`save_seconds`),
        when the save is measured (``finish_cpu``); nothing otherwise."""
        if self.finish_cpu is not None:
            self.finish_cpu += max(cpu_seconds, 0.0)


SAVE_SECONDS_PER_MB = 0.06
"""CPU seconds skops takes to write a model, per MB of its pickle (measured: a 16 MB stacking
ensemble of a forest, k-NN, LightGBM and logistic, 0.7 s; pickling it took 0.08 s)."""


def save_seconds(model: Any) -> float:
    """CPU seconds saving ``model`` with skops will take, from the size of its pickle.

    Examples
    --------
    >>> save_seconds(list(range(10))) < 0.001
    True
    """
    try:
        size = len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # a model pickle cannot write: skops writes its own way; nothing known
        return 0.0
    return size / 1e6 * SAVE_SECONDS_PER_MB


@dataclass
class CandidateRun:
    """A cross-validated candidate: its out-of-fold probabilities and the model refit on all."""

    spec: CandidateSpec
    oof_proba: ProbaMatrix
    model: Any
    fit_seconds: float
    """Seconds of the final refit."""
    predict_seconds_per_1k: float
    notes: list[str] = field(default_factory=list)


TRUST_PASSES = 2
"""How often the trust stage predicts the locked test rows with a family that joins the
primary: once in the guarded model's scores, once for the best single model's own metrics."""


def trust_seconds(run: CandidateRun, test_rows: int) -> float:
    """Seconds the trust stage will spend predicting with ``run``'s model, were it chosen.

    The refit's measured prediction time per row (:func:`finish_run`) times the rows the
    trust stage scores with every member of the primary: a k-NN over many training rows
    costs far more there than a linear model, and its pilot fit does not show it.

    Examples
    --------
    >>> from prudent.models import CandidateSpec
    >>> spec = CandidateSpec("knn", "nearest neighbours", lambda ctx: None)
    >>> run = CandidateRun(spec, np.zeros((1, 2)), None, 1.0, predict_seconds_per_1k=0.5)
    >>> trust_seconds(run, test_rows=4000)
    4.0
    """
    return TRUST_PASSES * run.predict_seconds_per_1k * test_rows / 1000


@dataclass(frozen=True)
class SkippedCandidate:
    """A candidate that did not fit in the budget, with the reason."""

    name: str
    reason: str


def predict_proba_aligned(model: Any, X: pd.DataFrame, n_classes: int) -> ProbaMatrix:
    """``predict_proba`` with one column per class index, zeros for classes the model never saw."""
    raw = np.asarray(model.predict_proba(X), dtype=np.float64)
    seen = np.asarray(model.classes_, dtype=np.int64)
    if len(seen) == n_classes:
        return raw
    out = np.zeros((len(X), n_classes))
    out[:, seen] = raw
    return out


def _subsample(rows: IntArray, y: EncodedLabels, max_rows: int | None, seed: int) -> IntArray:
    if max_rows is None or len(rows) <= max_rows:
        return rows
    n_classes = len(np.unique(y[rows]))
    if min(max_rows, len(rows) - max_rows) < n_classes:  # too few rows to hold every class
        return np.sort(np.random.default_rng(seed).choice(rows, max_rows, replace=False))
    kept, _ = train_test_split(rows, train_size=max_rows, stratify=y[rows], random_state=seed)
    return np.sort(kept)


def _fit(model: Any, X: pd.DataFrame, y: EncodedLabels) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*does not have valid feature names.*")
        return model.fit(X, y)


def _single_threaded_predict(model: Any) -> None:
    """Predict in the calling thread: a thread pool per call costs more than it saves on the
    small batches a service sends (the service runs requests in parallel itself)."""
    for step in getattr(model, "named_steps", {}).values():
        if "n_jobs" in getattr(step, "get_params", dict)() and not hasattr(step, "booster_"):
            step.set_params(n_jobs=1)


QUICK_PILOT = 0.25
"""A pilot fit shorter than this is timed again (up to 3 times in all) and its fastest time
kept: the projection multiplies the difference of two such timings by a fold's rows, so a
pause of a few milliseconds (a garbage collection, another process's turn) once made a
k-NN that fits in 0.1 s project 95 s and be skipped."""


def _timed_fit(
    spec: CandidateSpec, ctx: BuildContext, X: pd.DataFrame, y: EncodedLabels, rows: IntArray
) -> float:
    def once() -> float:
        t0 = time.monotonic()
        model = _fit(spec.build(ctx), X.iloc[rows], y[rows])
        model.predict_proba(X.iloc[rows[: min(len(rows), 200)]])
        return time.monotonic() - t0

    times = [once()]
    while len(times) < 3 and sum(times) < 2 * QUICK_PILOT and times[0] < QUICK_PILOT:
        times.append(once())
    return min(times)


@dataclass(frozen=True)
class Projection:
    """A family's time on this data, from two pilot fits: a fixed cost and a cost per row.

    Examples
    --------
    >>> p = Projection(fixed=0.1, per_row=0.001, rows=1000, fits=6.3)
    >>> round(p.seconds(), 2)
    8.66
    >>> p.rows_within(p.seconds() / 2)  # half the time: the fixed cost stays
    450
    """

    fixed: float
    """Seconds of one fit that do not grow with its rows."""
    per_row: float
    """Seconds of one fit per training row."""
    rows: int
    """Training rows of each fit (a fold's, within the family's row limit)."""
    fits: float
    """Fits projected: the folds and the refit (counted as 1.3 folds)."""
    sample: tuple[int, float] = (0, 0.0)
    """The larger pilot sample's rows and seconds."""

    PAD: ClassVar[float] = 1.25
    """The projection is padded by 25%; each fold is checked against the budget as it ends."""

    def seconds(self) -> float:
        """Projected seconds of every fold and the refit."""
        return self.PAD * (self.fixed + self.per_row * self.rows) * self.fits

    def proportional(self) -> Projection:
        """The projection of a cost proportional to the rows, from the larger pilot alone:
        never below the line's when the fixed cost is real, and sound when a pause in the
        smaller pilot's timing tilted the line flat (a baseline that took 10 s projected 2 s).
        """
        rows, seconds = self.sample
        return replace(self, fixed=0.0, per_row=seconds / max(rows, 1))

    def rows_within(self, seconds: float) -> int:
        """The most training rows per fit whose projection stays within ``seconds``."""
        per_fit = seconds / (self.PAD * self.fits) - self.fixed
        if self.per_row <= 0:
            return self.rows
        return int(min(self.rows, max(per_fit, 0.0) / self.per_row + 1e-9))


def pilot(
    spec: CandidateSpec, ctx: BuildContext, X: pd.DataFrame, y: EncodedLabels, splits: Splits
) -> Projection:
    """Fit on two small stratified samples and project the time of every fold plus the refit.

    The two timings give a fixed cost and a cost per row (a line through both points), so
    the fixed start-up of a family is not multiplied by the rows.
    """
    fold_rows = len(splits.folds[0][0])
    limit = spec.row_limit(ctx)
    if limit is not None:
        fold_rows = min(fold_rows, limit)
    m = min(fold_rows // 2, max(100, fold_rows // 20))
    small = _subsample(np.arange(len(y)), y, m, ctx.seed)
    large = _subsample(np.arange(len(y)), y, 2 * m, ctx.seed + 1)
    fits = splits.n_folds + 1.3
    if spec.cached_features:  # load the embedding model before timing: it happens once
        warm = _subsample(small, y, max(20, 2 * int(y.max()) + 2), ctx.seed)
        _fit(spec.build(ctx), X.iloc[warm], y[warm])
    t1 = _timed_fit(spec, ctx, X, y, small)
    if spec.cached_features:  # embedding dominates and happens once per row, then is cached
        return Projection(0.0, t1 / max(len(small), 1) * len(y) / fits, 1, fits)
    t2 = _timed_fit(spec, ctx, X, y, large)
    per_row = max(t2 - t1, 0.0) / max(len(large) - len(small), 1)
    fixed = max(t1 - per_row * len(small), 0.0)
    return Projection(fixed, per_row, fold_rows, fits, (len(large), t2))


def pilot_seconds(
    spec: CandidateSpec, ctx: BuildContext, X: pd.DataFrame, y: EncodedLabels, splits: Splits
) -> float:
    """The projected seconds of ``spec``'s folds and refit (see :func:`pilot`)."""
    return pilot(spec, ctx, X, y, splits).seconds()


BASELINE_SHARE = 0.5
"""Share of the candidates' time left a baseline may take: it must run, so when its pilot
projects more it is trained on a sub-sample that fits (the logistic baseline on 13k short
texts in 6 classes took 22 s of a 25 s limit)."""
BASELINE_FLOOR = 0.1
"""Share of the whole limit a baseline may always take, however little is left (a late
start on a busy machine must not cut a baseline that costs a second)."""
MIN_BASELINE_ROWS = 500
"""The fewest training rows a sub-sampled baseline keeps, whatever the time left."""


def bounded_baseline(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    budget: Budget,
) -> CandidateSpec:
    """``spec``, or ``spec`` on fewer rows when its pilot projects more than its share of the
    time left (:data:`BASELINE_SHARE`, at least :data:`BASELINE_FLOOR` of the limit); a
    sub-sampled family says so in its notes."""
    if spec.max_rows is not None and spec.max_rows <= MIN_BASELINE_ROWS:
        return spec
    projected = pilot(spec, ctx, X, y, splits).proportional()
    allowed = max(BASELINE_SHARE * budget.for_candidates(), BASELINE_FLOOR * budget.seconds)
    if projected.seconds() <= allowed:
        return spec
    rows = max(MIN_BASELINE_ROWS, projected.rows_within(allowed))
    return spec if rows >= projected.rows else replace(spec, max_rows=rows)


def sample_notes(spec: CandidateSpec, ctx: BuildContext, n_rows: int) -> list[str]:
    """The notice of a family trained on a sub-sample, when it is."""
    max_rows = spec.row_limit(ctx)
    if max_rows is None or n_rows <= max_rows:
        return []
    return [
        f"{spec.name}: trained on a stratified sub-sample of {max_rows} of "
        f"{n_rows} rows (bounds its time and size)."
    ]


def cross_validate_candidate(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    budget: Budget,
    *,
    must_run: bool = False,
    advance: Any = None,
) -> CandidateRun | SkippedCandidate:
    """Fit ``spec`` on every fold, collect out-of-fold probabilities, then refit on all rows.

    ``X`` and ``y`` are the training part only (positions match ``splits.folds``). After
    the first fold the remaining time is projected; a candidate that would overrun the
    budget is skipped with the reason, unless ``must_run`` (the baselines).

    Parameters
    ----------
    spec, ctx
        The family and what it is built from.
    X, y
        Training rows and their encoded labels.
    splits
        The folds (positions into ``X``).
    budget
        The fit's time budget.
    must_run
        Never skip (baselines).
    advance
        Progress callback, called once per fold and once for the refit.

    Returns
    -------
    CandidateRun or SkippedCandidate
    """
    notes = sample_notes(spec, ctx, len(y))
    skipped = None if must_run else _pilot_skip(spec, ctx, X, y, splits, budget)
    if skipped is not None:
        return skipped
    oof = _out_of_fold(spec, ctx, X, y, splits, budget, must_run=must_run, advance=advance)
    if isinstance(oof, SkippedCandidate):
        return oof
    model, fit_seconds = refit(spec, ctx, X, y)
    if advance is not None:
        advance()
    return finish_run(spec, oof, model, fit_seconds, X, notes)


def _left(budget: Budget) -> str:
    return f"{max(budget.for_candidates(), 0):.0f}s left in the budget"


def floor_skip(spec: CandidateSpec, ctx: BuildContext, left: float) -> SkippedCandidate | None:
    """Skip ``spec`` before any fit when its known lower bound exceeds the ``left`` seconds.

    Examples
    --------
    >>> from prudent.models import candidate_specs
    >>> from prudent.data import ColumnSpec, Role, Schema
    >>> schema = Schema((ColumnSpec("x", Role.numeric, "float64"),), target="y")
    >>> spec = candidate_specs(schema)[0]
    >>> ctx = BuildContext(schema, n_rows=100, n_classes=2, balanced=False)
    >>> floor_skip(spec, ctx, left=0.0) is None  # no known floor: the pilot decides
    True
    """
    if spec.least_seconds is None:
        return None
    least = spec.least_seconds(ctx)
    if least <= left:
        return None
    why = f"its set-up alone takes at least {least:.0f}s, {max(left, 0):.0f}s left in the budget"
    return SkippedCandidate(spec.name, why)


def _pilot_skip(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    budget: Budget,
) -> SkippedCandidate | None:
    """Skip ``spec`` when a pilot fit projects more time than the budget leaves."""
    floor = floor_skip(spec, ctx, budget.for_candidates())
    if floor is not None:
        return floor
    projected = pilot_seconds(spec, ctx, X, y, splits)
    if projected <= budget.for_candidates():
        return None
    return SkippedCandidate(
        spec.name, f"a pilot fit projects about {projected:.0f}s, {_left(budget)}"
    )


def _out_of_fold(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    splits: Splits,
    budget: Budget,
    *,
    must_run: bool,
    advance: Any,
) -> ProbaMatrix | SkippedCandidate:
    """Every fold's held-out probabilities; skipped when the folds left would overrun."""
    oof = np.zeros((len(y), ctx.n_classes))
    started = fold_started = time.monotonic()
    for i, (fit_rows, val_rows) in enumerate(splits.folds):
        oof[val_rows] = fit_fold(spec, ctx, X, y, fit_rows, val_rows, i)
        if advance is not None:
            advance()
        now = time.monotonic()
        needed = _seconds_needed(spec, splits.n_folds, i, now - started, now - fold_started)
        fold_started = now
        if not must_run and needed > budget.for_candidates():
            return SkippedCandidate(spec.name, f"needs about {needed:.0f}s more, {_left(budget)}")
    return oof


def _seconds_needed(
    spec: CandidateSpec, n_folds: int, i: int, elapsed: float, this_fold: float
) -> float:
    """Projected seconds for the folds left and the refit (1.3 folds), after fold ``i``."""
    per_fold = elapsed / (i + 1)
    if spec.cached_features:  # fold 1 computed (and cached) the features: judge by fold 2+
        per_fold = this_fold if i > 0 else 0.0
    return per_fold * (n_folds - i - 1) + per_fold * 1.3


def fit_fold(
    spec: CandidateSpec,
    ctx: BuildContext,
    X: pd.DataFrame,
    y: EncodedLabels,
    fit_rows: IntArray,
    val_rows: IntArray,
    i: int,
) -> ProbaMatrix:
    """Fit ``spec`` on fold ``i``'s rows; its probabilities for the fold's held-out rows."""
    rows = _subsample(fit_rows, y, spec.row_limit(ctx), ctx.seed + i)
    model = _fit(clone(spec.build(ctx)), X.iloc[rows], y[rows])
    return predict_proba_aligned(model, X.iloc[val_rows], ctx.n_classes)


def refit(spec: CandidateSpec, ctx: BuildContext, X: pd.DataFrame, y: EncodedLabels) -> Any:
    """Fit ``spec`` on every training row (sub-sampled to its limit); the model and seconds."""
    rows = _subsample(np.arange(len(y)), y, spec.row_limit(ctx), ctx.seed)
    t0 = time.monotonic()
    model = _fit(spec.build(ctx), X.iloc[rows], y[rows])
    return model, time.monotonic() - t0


def finish_run(
    spec: CandidateSpec,
    oof: ProbaMatrix,
    model: Any,
    fit_seconds: float,
    X: pd.DataFrame,
    notes: list[str],
) -> CandidateRun:
    """A cross-validated candidate, its prediction time measured here on up to 2,000 rows."""
    _single_threaded_predict(model)
    probe = X.iloc[: min(len(X), 2000)]
    t0 = time.monotonic()
    model.predict_proba(probe)
    per_1k = (time.monotonic() - t0) / max(len(probe), 1) * 1000
    return CandidateRun(
        spec=spec,
        oof_proba=oof,
        model=model,
        fit_seconds=fit_seconds,
        predict_seconds_per_1k=per_1k,
        notes=notes,
    )
