"""A fit's time limit: a plan on the fit's CPU time, under a guard on the wall clock.

Every time decision of a fit (whether a family's pilot admits it, whether its folds go on,
how many rows a baseline, stacking and the OOD search take) reads :class:`Budget`. The
budget counts the CPU seconds the fit itself spends, so that the same data, options and
seed make the same decisions in reruns and from both faces (``prudent.fit`` and ``prudent
fit`` keep the same reserves and count from the same point); the wall clock, which is the
limit, only cuts when the machine runs slower than the plan (:meth:`Budget.wall_notice`).
"""

from __future__ import annotations

import math
import pickle
import time
from typing import Any

from prudent._costs import recorded_cost

__all__ = [
    "GUARD_SLACK",
    "LOAD_CAP",
    "MIN_SAMPLED_ROWS",
    "ROWS_PER_SECOND",
    "STARTUP_SECONDS",
    "TRUST_LOAD_CAP",
    "Budget",
    "save_seconds",
    "training_rows",
]


LOAD_CAP = 5.0
"""The most wall seconds per CPU second a reserve measured in CPU seconds is scaled by."""

STARTUP_SECONDS = 4.0
"""CPU seconds the plan counts for what comes before the fit's own clock, on both faces: a
``prudent fit`` process's start, its imports (skops first), reading the table and measuring
the save (measured: 2.6-3.4 s of CPU before the budget starts, chile_vote, email_spam and
digits, 2 cores at load 2-7). ``prudent.fit`` is charged the same, so that it runs the same
families."""

TRUST_LOAD_CAP = 2.0
"""The most the wall guard scales the trust stage's share of the limit by the load."""

GUARD_SLACK = 0.05
"""Share of the limit the wall clock may run past the plan's figure before it cuts: on a
quiet machine the two agree within it, so only a machine slower than the plan is cut."""


ROWS_PER_SECOND = 500
"""Training rows a fit cross-validates per second of its time limit (30,000 at 60 s): from
a larger table it reads a stratified sample (:func:`training_rows`,
:func:`~prudent.data.make_splits`). What a training row costs does not shrink when a family
is trained on a sample of them: each fold predicts all of its held-out rows, the baselines
and the label audit read every one, the trust stage scores and searches them. A 252,000-row
table at 60 s spent its budget on those and shipped the logistic baseline (balanced accuracy
.76 on its locked test) after skipping every other family; on a sample of 30,000 training
rows in 3 folds (:func:`~prudent.data.auto_folds`), LightGBM ran and reached 1.000."""

MIN_SAMPLED_ROWS = 20_000
"""The fewest training rows a sample keeps, however short the limit."""


def training_rows(seconds: float) -> int | None:
    """The most training rows a fit of ``seconds`` cross-validates (None: every row).

    Examples
    --------
    >>> training_rows(60.0), training_rows(10.0), training_rows(float("inf"))
    (30000, 20000, None)
    """
    if not math.isfinite(seconds):
        return None
    return max(MIN_SAMPLED_ROWS, int(ROWS_PER_SECOND * seconds))


class Budget:
    """Seconds left of a fit's time limit, with reserves kept for the final stages.

    The limit is wall time, but decisions are made on a **plan in CPU seconds**: the
    limit, less :data:`STARTUP_SECONDS`, the CPU seconds the fit has spent since the
    budget began, a share of the limit for the trust stage (plus what each fitted family
    commits it to, :meth:`charge`) and the save's measured CPU cost (``finish_cpu``, plus
    each family's, :meth:`charge_finish`). Measured on the process's own CPU clock, that
    figure hardly depends on what else the machine runs, and a fit of the same data and
    options recorded on this machine reads its figures (:mod:`prudent._costs`), so a rerun
    or the other face decides alike.

    The **wall guard** computes the same reserves on the wall clock, from the moment the
    limit began (``start``), the measured save scaled by the fit's wall-to-CPU ratio
    (:meth:`load`), the trust stage's share too, at most :data:`TRUST_LOAD_CAP` times.
    When that figure, plus :data:`GUARD_SLACK` of the limit, is below the plan's, it is
    the one used, and :meth:`wall_notice` says so: the machine was slower than planned and
    the families run may differ from a quiet run.

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
        (``prudent.fit`` always measures it, saved or not); ``None``: a share of the limit.
    plan
        Decide on the CPU plan (default). ``False``: on the wall clock alone, for folds run
        by other processes (``prudent.scale``), whose CPU time this process does not see.
    wall_guard
        Let the wall clock cut when the machine runs slower than the plan (default);
        ``False``: the plan alone decides, however long the fit then takes.
    clock, cpu_clock
        Monotonic wall clock and the process's CPU clock (injectable for tests).
    start
        When the limit started, on ``clock`` (default: now); the command line passes the
        moment its process began, so starting Python, importing and reading count too.

    Examples
    --------
    >>> b = Budget(100.0, cpu_clock=lambda: 0.0)
    >>> round(b.for_candidates(), 1)  # 100 - 4 (start-up) - 20 (trust stage) - 15 (handing over)
    61.0
    >>> saved = Budget(20.0, finish_cpu=5.0, cpu_clock=lambda: 0.0)
    >>> round(saved.for_candidates(), 1)  # 20 - 4 - 4 (the trust stage) - 5 (the save)
    7.0
    """

    def __init__(
        self,
        seconds: float,
        *,
        reserve_share: float = 0.2,
        finish_share: float = 0.15,
        finish_cpu: float | None = None,
        plan: bool = True,
        wall_guard: bool = True,
        clock: Any = time.monotonic,
        cpu_clock: Any = time.process_time,
        start: float | None = None,
    ) -> None:
        self.seconds = seconds
        self.finish_cpu = finish_cpu
        self.plan, self.wall_guard = plan, wall_guard
        self._finish_share = max(1.0, finish_share * seconds)
        self._trust_share = max(2.0, reserve_share * seconds)
        self._charged = 0.0
        self._clock, self._cpu_clock = clock, cpu_clock
        self._start = clock() if start is None else start
        self._since = (clock(), cpu_clock())
        self._spent, self._mark = 0.0, self._since[1]
        self.slowed: float | None = None
        """When the wall guard first cut the plan's figure, the wall seconds per CPU second:
        the fit's so far (:meth:`load`), or the limit's, start-up included, if more."""

    @property
    def finish(self) -> float:
        """CPU seconds kept for saving the bundle and its report (the plan's)."""
        return self._finish_share if self.finish_cpu is None else self.finish_cpu

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
        """Wall seconds since the limit started."""
        return float(self._clock() - self._start)

    def cpu_spent(self) -> float:
        """CPU seconds the plan counts as spent: the start-up's and the fit's since then.

        Each call closes a stretch of the fit's CPU time at a decision; a fit of the same
        data and options recorded on this machine counts the figure recorded for the same
        stretch instead (:func:`~prudent._costs.recorded_cost`), so that it decides alike.
        """
        now = self._cpu_clock()
        self._spent += recorded_cost("spent", float(now - self._mark))
        self._mark = now
        return STARTUP_SECONDS + self._spent

    def remaining(self) -> float:
        """Wall seconds left of the whole limit."""
        return self.seconds - self.elapsed()

    def for_candidates(self) -> float:
        """Seconds left for candidate fitting (the reserves excluded).

        Examples
        --------
        >>> wall, cpu = [0.0], [0.0]
        >>> b = Budget(100.0, clock=lambda: wall[0], cpu_clock=lambda: cpu[0])
        >>> wall[0], cpu[0] = 50.0, 10.0  # the wall clock ran 5x the fit's CPU time
        >>> round(b.for_candidates(), 1)  # (50 left - 35 kept + 5 of slack) / 5: the guard cuts
        4.0
        >>> b.slowed  # 50 s of wall time for 10 of CPU
        5.0
        """
        reserves = self._trust_share + self._charged + self.finish
        wall = self.remaining() - self._wall_trust() - self._wall_finish() - self._charged
        return self._guarded(self.seconds - self.cpu_spent() - reserves, wall)

    def for_trust(self) -> float:
        """Seconds left for the trust stage: what remains but the save's reserve.

        Examples
        --------
        >>> b = Budget(100.0, cpu_clock=lambda: 0.0)
        >>> round(b.for_trust(), 1)  # 100 - 4 (start-up) - 15 (handing over)
        81.0
        """
        wall = self.remaining() - self._wall_finish()
        return self._guarded(self.seconds - self.cpu_spent() - self.finish, wall)

    def _wall_finish(self) -> float:
        """The save's reserve in wall seconds: its measured CPU cost at the fit's ratio."""
        return self.finish if self.finish_cpu is None else self.load() * self.finish

    def _wall_trust(self) -> float:
        """The trust stage's share in wall seconds: scaled by the fit's ratio, at most
        :data:`TRUST_LOAD_CAP` times, when the save is measured (as ``prudent.fit`` does).
        The share is an allowance, not a measured cost: scaled without a cap, a load of 5
        would keep all of a 300 s limit for it."""
        if self.finish_cpu is None:
            return self._trust_share
        return min(self.load(), TRUST_LOAD_CAP) * self._trust_share

    def _guarded(self, planned: float, wall: float) -> float:
        """The plan's figure, unless the wall clock's (with its slack, in CPU seconds at the
        fit's wall-to-CPU ratio, as the projections it is compared with) is lower."""
        if not self.plan:
            return wall
        guard = (wall + GUARD_SLACK * self.seconds) / self.load()
        if not self.wall_guard or guard >= planned:
            return planned
        if self.slowed is None:  # the fit's wall-to-CPU ratio, or the start-up's overrun
            cpu = STARTUP_SECONDS + self._cpu_clock() - self._since[1]
            self.slowed = max(self.load(), self.elapsed() / max(cpu, 1e-9))
        return guard

    def charge(self, seconds: float) -> None:
        """Keep ``seconds`` more in the reserve: work a fitted family has committed the
        trust stage to (see :func:`~prudent.pipeline._engine.trust_seconds`), taken from
        the candidates' time.

        Examples
        --------
        >>> b = Budget(100.0, cpu_clock=lambda: 0.0)
        >>> b.charge(10.0)
        >>> round(b.for_candidates(), 1)
        51.0
        """
        self._charged += max(seconds, 0.0)

    def charge_finish(self, cpu_seconds: float) -> None:
        """Keep ``cpu_seconds`` more for the save (a fitted family's, :func:`save_seconds`),
        when the save is measured (``finish_cpu``); nothing otherwise."""
        if self.finish_cpu is not None:
            self.finish_cpu += max(cpu_seconds, 0.0)

    def wall_notice(self) -> str | None:
        """What the wall guard changed, once it cut: the families may differ from a quiet run.

        Examples
        --------
        >>> Budget(10.0).wall_notice() is None
        True
        """
        if self.slowed is None:
            return None
        return (
            f"The machine ran slower than the fit's plan (wall time {self.slowed:.1f}x the "
            "CPU time when the wall clock first cut the time left): the families run and "
            "the bundle may differ from a run on a quieter machine."
        )


SAVE_SECONDS_PER_MB = 0.06
"""CPU seconds skops takes to write a model, per MB of its pickle (measured: a 16 MB stacking
ensemble of a forest, k-NN, LightGBM and logistic, 0.7 s; pickling it took 0.08 s)."""


def pickled_bytes(model: Any) -> int:
    """The size of ``model``'s pickle; 0 when pickle cannot write it (skops writes its own
    way, and nothing is known of its size).

    Examples
    --------
    >>> pickled_bytes(list(range(10))) > 0, pickled_bytes(lambda: 0)
    (True, 0)
    """
    try:
        return len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        return 0


def save_seconds(model: Any) -> float:
    """CPU seconds saving ``model`` with skops will take, from the size of its pickle.

    Examples
    --------
    >>> save_seconds(list(range(10))) < 0.001
    True
    """
    return pickled_bytes(model) / 1e6 * SAVE_SECONDS_PER_MB
