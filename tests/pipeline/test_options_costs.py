"""The fit's notice when its cost policy costs more per row than the model alone."""

from __future__ import annotations

import re

import numpy as np

from prudent.pipeline._spec import FitSpec
from prudent.pipeline._thresholds import cost_notice, tune_policy


def _rows(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated probabilities of two classes, 90% sure of the first on most rows, and
    labels drawn from them."""
    rng = np.random.default_rng(seed)
    p = rng.beta(1, 12, n)  # the chance of the second class
    y = (rng.uniform(size=n) < p).astype(int)
    return np.c_[1 - p, p], y


def _notice(spec: FitSpec, in_distribution: np.ndarray) -> str | None:
    P, y = _rows()
    _, thresholds = tune_policy(
        spec, P, None, y, in_distribution=in_distribution, ood_threshold=0.5
    )
    return cost_notice(spec, thresholds)


def test_cost_notice_names_the_ood_alarms_charged_the_default_review_cost() -> None:
    """10% of rows flagged, each charged the default review cost of 5 (half the largest
    cost), add 0.5 per row: more than the model alone costs (about 0.07)."""
    spec = FitSpec(target="y", costs=((0, 1), (10, 0)))
    flagged = np.arange(2000) % 10 == 0
    notice = _notice(spec, ~flagged)
    assert notice is not None
    assert "0.500 of it is the OOD detector's alarms (10.0% of rows" in notice
    assert "review cost 5, by default half the largest cost" in notice
    assert "--ood-fpr" in notice and "--review-cost" in notice


def test_cost_notice_is_quiet_when_the_policy_costs_less() -> None:
    """No alarms: reviews priced at 0.3 are chosen only where an answer costs more."""
    spec = FitSpec(target="y", costs=((0, 1), (10, 0)), review_cost=0.3)
    assert _notice(spec, np.ones(2000, bool)) is None


def test_cost_notice_says_when_no_answer_costs_as_much_as_a_review() -> None:
    """With costs '0,1;10,0' no answer can cost more than 10/11 in expectation: the default
    review cost of 5 sends no row to review for its cost, silently until now."""
    notice = _notice(FitSpec(target="y", costs=((0, 1), (10, 0))), np.ones(2000, bool))
    assert notice is not None and notice.startswith("No row goes to review for its cost")
    assert "(5, by default half the largest cost)" in notice and "--review-cost" in notice
    high = float(re.search(r"held-out row, ([0-9.]+) at most", notice)[1])  # type: ignore[index]
    assert 0.5 < high <= 10 / 11


def test_cost_notice_says_when_every_row_goes_to_review() -> None:
    spec = FitSpec(target="y", costs=((0, 1), (10, 0)), review_cost=0.0)
    notice = _notice(spec, np.ones(2000, bool))
    assert notice is not None and notice.startswith("Every row goes to review: a review (0)")


def test_cost_notice_is_quiet_without_costs() -> None:
    assert _notice(FitSpec(target="y"), np.arange(2000) % 10 != 0) is None
