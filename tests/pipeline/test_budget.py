"""The time limit is counted on the fit's CPU time; the wall clock counts only past a slack."""

from __future__ import annotations

from prudent.pipeline._budget import STARTUP_SECONDS, WALL_SLACK, Budget


def _budget(cpu: list[float], wall: list[float], slack: float | None = WALL_SLACK) -> Budget:
    return Budget(30.0, clock=lambda: cpu[0], wall=lambda: wall[0], wall_slack=slack)


def test_budget_counts_cpu_time_while_the_wall_clock_stays_within_the_slack() -> None:
    cpu, wall = [0.0], [0.0]
    budget = _budget(cpu, wall)
    cpu[0], wall[0] = 10.0, 10.0 + WALL_SLACK * 30.0  # other processes' turns: 15 s
    assert budget.elapsed() == 10.0 + STARTUP_SECONDS
    assert budget.slowed_notice() is None


def test_budget_counts_the_wall_clock_past_the_slack_and_says_so() -> None:
    cpu, wall = [0.0], [0.0]
    budget = _budget(cpu, wall)
    cpu[0], wall[0] = 10.0, 40.0  # a machine 4 times slower than the accounting
    assert budget.elapsed() == 40.0 - WALL_SLACK * 30.0
    notice = budget.slowed_notice()
    assert notice is not None and notice.startswith("The machine was busy")


def test_budget_without_the_guard_counts_cpu_time_only() -> None:
    cpu, wall = [0.0], [0.0]
    budget = _budget(cpu, wall, slack=None)
    cpu[0], wall[0] = 10.0, 1000.0
    assert budget.elapsed() == 10.0 + STARTUP_SECONDS
    assert budget.slowed_notice() is None
