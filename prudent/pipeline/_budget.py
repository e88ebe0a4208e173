"""A fit's time limit, counted on the fit's CPU time, with a wall-clock guard.

Every time-budget decision of a fit (which families a pilot admits, how many folds run, how
many rows stacking and the OOD search take, how many columns the importance measures) reads
:class:`Budget` or times its work on the same CPU clock, so that the same data, options and
seed make the same decisions on a quiet or a busy machine and from either face.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["FINISH_SECONDS", "STARTUP_SECONDS", "WALL_SLACK", "Budget"]


FINISH_SECONDS = 6.0
"""The least time kept for saving and the report, whatever the limit: on 2 cores importing
skops costs 2-2.5 s of CPU (it imports every scikit-learn estimator), importing matplotlib
1 s, and the report's 12-13 figures 0.15-0.2 s each (2 s for a 16-class confusion matrix);
under load, each took 20 s on 2 busy cores. Kept on both faces, so that ``prudent.fit`` and
``prudent fit`` decide alike whether or not the bundle is saved."""

STARTUP_SECONDS = 3.0
"""Taken from every limit for the process's start-up: ``prudent fit`` imports the library
(3.8-4.1 s of CPU on 2 busy cores, before the fit starts) while ``prudent.fit`` is called
after the import. A fixed charge on both faces keeps their decisions alike; measuring it
would give the command line less time than the same fit from Python."""

WALL_SLACK = 0.5
"""How far, as a share of the limit, the wall clock may run ahead of the CPU clock before it
counts instead (see :class:`Budget`)."""


class Budget:
    """Seconds left of a fit's time limit, with a reserve kept for the final stages.

    The fit's own work is counted on ``clock``, the process's CPU time by default: one BLAS
    thread fits in one process, so on a quiet machine it runs as fast as the wall clock, and
    on a busy one the other processes' turns do not count. The same data, options and seed
    then make the same decisions (which families run, how many rows stacking and the OOD
    search take) whether the machine is busy or not, and from either face. A guard keeps
    the wall clock in view: once it runs ahead of the CPU time by more than
    :data:`WALL_SLACK` of the limit (a machine much slower than the accounting), the wall
    time, less that slack, counts instead, and :attr:`slowed` says so.

    Parameters
    ----------
    seconds
        The whole time limit.
    reserve_share
        Share of the limit kept for ensembling, calibration, OOD and the final test.
    finish_share
        Share of the limit kept for saving the bundle and writing its report (never less
        than :data:`FINISH_SECONDS`).
    clock
        The clock the fit's work is counted on (injectable for tests; a fit whose folds run
        elsewhere, on a Dask cluster, passes ``time.monotonic``).
    wall
        The wall clock of the guard.
    start
        When the fit started, on ``clock`` (default: now).
    wall_start
        When the limit started, on ``wall`` (default: now); the command line passes the
        moment the command began.
    wall_slack
        How far the wall clock may run ahead, as a share of the limit; ``None``: no guard.

    Examples
    --------
    >>> b = Budget(100.0, reserve_share=0.2, finish_share=0.15)
    >>> 61 < b.for_candidates() <= 62  # 100 - 3 start-up - 20 reserve - 15 finish
    True
    >>> 5 < Budget(20.0).for_candidates() <= 7  # saving's fixed costs kept
    True
    """

    def __init__(
        self,
        seconds: float,
        *,
        reserve_share: float = 0.2,
        finish_share: float = 0.15,
        clock: Callable[[], float] = time.process_time,
        wall: Callable[[], float] = time.monotonic,
        start: float | None = None,
        wall_start: float | None = None,
        wall_slack: float | None = WALL_SLACK,
    ) -> None:
        self.seconds = seconds
        self.finish = max(FINISH_SECONDS, finish_share * seconds)
        self.reserve = max(2.0, reserve_share * seconds) + self.finish
        self._clock, self._wall = clock, wall
        self._start = clock() if start is None else start
        self._wall_start = wall() if wall_start is None else wall_start
        self._slack = None if wall_slack is None else wall_slack * seconds
        self.slowed: float | None = None
        """The wall time's ratio to the CPU time when the guard first counted, else None."""

    def elapsed(self) -> float:
        """Seconds of the limit used: the work's, or the wall time's less the slack."""
        work = float(self._clock() - self._start) + STARTUP_SECONDS
        if self._slack is None:
            return work
        wall = float(self._wall() - self._wall_start)
        guarded = wall - self._slack
        if guarded <= work:
            return work
        if self.slowed is None:
            self.slowed = wall / max(work, 1e-9)
        return guarded

    def remaining(self) -> float:
        """Seconds left of the whole limit."""
        return self.seconds - self.elapsed()

    def for_candidates(self) -> float:
        """Seconds left for candidate fitting (the reserve excluded)."""
        return self.remaining() - self.reserve

    def for_trust(self) -> float:
        """Seconds left for the trust stage: what remains but the save's share.

        Examples
        --------
        >>> b = Budget(100.0, reserve_share=0.2, finish_share=0.15)
        >>> 81 < b.for_trust() <= 82
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
        >>> 51 < b.for_candidates() <= 52
        True
        """
        self.reserve += max(seconds, 0.0)

    def slowed_notice(self) -> str | None:
        """What the guard changed, once it counted: the decisions may differ from a quiet run.

        Examples
        --------
        >>> t = [0.0]
        >>> b = Budget(10.0, clock=lambda: 0.0, wall=lambda: t[0])
        >>> b.slowed_notice() is None
        True
        >>> t[0] = 20.0
        >>> b.remaining()
        -5.0
        >>> b.slowed_notice()[:50]
        "The machine was busy: the fit's wall time ran 6.7x"
        """
        if self.slowed is None:
            return None
        return (
            f"The machine was busy: the fit's wall time ran {self.slowed:.1f}x its CPU "
            "time, so the time limit was counted on the wall clock from then on; the "
            "families run and the bundle may differ from a run on a quiet machine."
        )
