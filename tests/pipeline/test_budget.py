"""The fit's budget: decisions on a plan in CPU seconds, the same from both faces, and a wall
clock that cuts only a machine slower than the plan, with a notice."""

from __future__ import annotations

from typing import Any

import pytest

from prudent.pipeline._budget import GUARD_SLACK, STARTUP_SECONDS, TRUST_LOAD_CAP, Budget


class Clocks:
    """A wall clock and a CPU clock the test moves by hand."""

    def __init__(self) -> None:
        self.wall, self.cpu = 0.0, 0.0

    def budget(self, seconds: float, **options: Any) -> Budget:
        return Budget(seconds, clock=lambda: self.wall, cpu_clock=lambda: self.cpu, **options)


def test_budget_plans_in_cpu_seconds_with_the_same_reserves_from_either_start() -> None:
    """``prudent fit`` starts its limit when its process started (here 3 s earlier), the
    library when it is called: the plan, in the fit's CPU seconds, is the same for both."""
    clocks = Clocks()
    python = clocks.budget(60.0, finish_cpu=5.0)
    cli = clocks.budget(60.0, finish_cpu=5.0, start=-3.0)
    clocks.wall, clocks.cpu = 10.0, 9.5  # a quiet machine: wall and CPU time agree
    planned = 60.0 - STARTUP_SECONDS - 9.5 - 0.2 * 60.0 - 5.0
    assert python.for_candidates() == cli.for_candidates() == pytest.approx(planned)
    assert python.for_trust() == cli.for_trust() == pytest.approx(60.0 - 13.5 - 5.0)
    for budget in (python, cli):
        budget.charge(2.0)
        budget.charge_finish(1.0)
        assert budget.for_candidates() == pytest.approx(planned - 3.0)
        assert budget.wall_notice() is None


def test_budget_wall_guard_cuts_a_slower_machine_and_says_so() -> None:
    clocks = Clocks()
    guarded = clocks.budget(60.0, finish_cpu=5.0)
    unguarded = clocks.budget(60.0, finish_cpu=5.0, wall_guard=False)
    clocks.wall, clocks.cpu = 30.0, 10.0  # three wall seconds per CPU second
    planned = 60.0 - STARTUP_SECONDS - 10.0 - 12.0 - 5.0
    assert unguarded.for_candidates() == pytest.approx(planned)
    assert unguarded.wall_notice() is None
    # the wall clock's figure, in CPU seconds at that ratio: the save's reserve x 3, the
    # trust stage's share x 2 (its cap), plus the slack
    wall = (60.0 - 30.0 - TRUST_LOAD_CAP * 12.0 - 3.0 * 5.0 + GUARD_SLACK * 60.0) / 3.0
    assert wall < planned
    assert guarded.for_candidates() == pytest.approx(wall)
    assert guarded.slowed == 3.0
    assert "wall time 3.0x the CPU time" in str(guarded.wall_notice())


def test_budget_wall_guard_keeps_a_long_limit_for_the_candidates_on_a_busy_machine() -> None:
    """The trust stage's share is an allowance, not a cost: a load of 5 must not keep all of
    a 300 s limit for it."""
    clocks = Clocks()
    budget = clocks.budget(300.0, finish_cpu=6.0)
    clocks.wall, clocks.cpu = 10.0, 2.0  # five wall seconds per CPU second
    kept = TRUST_LOAD_CAP * 60.0 + 5.0 * 6.0
    assert budget.for_candidates() == pytest.approx((290.0 - kept + GUARD_SLACK * 300.0) / 5.0)
    assert budget.for_candidates() > 30.0  # CPU seconds: 150 s of wall time at that ratio


def test_budget_without_a_plan_counts_the_wall_clock_alone() -> None:
    """Folds run by other processes (``prudent.scale``) do not show on this CPU clock."""
    clocks = Clocks()
    budget = clocks.budget(60.0, finish_cpu=5.0, plan=False)
    clocks.wall = 20.0
    assert budget.for_candidates() == pytest.approx(60.0 - 20.0 - 12.0 - 5.0)
    assert budget.wall_notice() is None
