"""What a fit is asked to do: one typed object, validated once."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from prudent.errors import ConfigError
from prudent.models._candidates import check_candidates
from prudent.models._cost_matrix import check_cost_classes, check_costs

__all__ = ["MAX_SEED", "FitSpec", "check_choice"]

MAX_SEED = 2**31 - 1
"""The largest seed: the fit's draws use the seed plus small offsets, and numpy and
scikit-learn take seeds below 2**32."""


@dataclass(frozen=True)
class FitSpec:
    """The options of one fit; the command line and ``prudent.fit`` both build one.

    Every option is checked when the spec is built, which needs no data: a value out of
    range, an unknown candidate family, a cost matrix no table could use. What depends on
    the table (the cost matrix's size) is checked by :meth:`check_classes` once the classes
    are known.

    Parameters
    ----------
    target
        The label column.
    text, categorical, numeric, drop
        Column role overrides.
    test_size
        Share of rows locked away for the final test.
    n_folds
        Cross-validation folds (fewer for tiny data, with a note); ``None``: 5, or 3 from
        20,000 training rows (:func:`~prudent.data.auto_folds`).
    seed
        Seed for every random choice.
    time_limit
        Seconds the whole fit may take, final evaluation included.
    drop_suspect_labels
        Remove the rows the label audit flags before fitting the candidates.
    drop_rare_classes
        Drop the rows of classes too small to validate (fewer than 3 rows), with a notice,
        instead of stopping: the model never predicts those classes.
    alpha
        Conformal miscoverage: prediction sets aim at ``1 - alpha`` coverage.
    mondrian
        Class-conditional conformal coverage.
    target_accuracy
        Accuracy the accepted predictions must reach; ``None`` (the default) uses the review
        budget instead.
    review_budget
        Without a target: the largest share of in-distribution rows sent to review; the
        accuracy of the rest is measured and promised. The OOD detector's false alarms
        (``ood_fpr``) count against it, so a budget in force must exceed ``ood_fpr``.
    delta
        Allowed probability that a promised accuracy is not reached, and that a batch of new
        rows (as many as set the threshold) sends more than the review budget to review.
    ood_fpr
        Share of in-distribution inputs flagged as out of distribution.
    rules
        The text of a rules YAML file, stored in the bundle.
    costs
        A cost matrix (rows: true class, columns: predicted class) replacing the accuracy target.
    review_cost
        The cost of sending a case to review (with ``costs``).
    ood_over_rules
        Send out-of-distribution rows to review even when a rule matches them (by default
        the rule decides and its reason says the row was out of distribution).
    group
        A column whose values name groups of rows (a person, a firm, a patient's visits): the
        locked test and the folds keep each group on one side, so every held-out figure is
        measured on groups new to the model; the column is no input.
    wall_guard
        Let the wall clock cut the fit's plan when the machine runs slower than planned
        (with a notice); ``False``: the plan, made in CPU seconds of the fit, alone decides
        which families run, however busy the machine and however long the fit then takes.
    """

    target: str
    text: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    test_size: float = 0.2
    n_folds: int | None = None
    seed: int = 0
    time_limit: float = 120.0
    drop_suspect_labels: bool = False
    drop_rare_classes: bool = False
    alpha: float = 0.1
    mondrian: bool = False
    target_accuracy: float | None = None
    review_budget: float = 0.15
    delta: float = 0.1
    ood_fpr: float = 0.05
    rules: str | None = None
    costs: tuple[tuple[float, ...], ...] | None = None
    review_cost: float | None = None
    ood_over_rules: bool = False
    wall_guard: bool = True
    group: str | None = None
    candidates: tuple[str, ...] | None = field(default=None)
    """Restrict the candidate families to these names (baselines always run)."""

    def __post_init__(self) -> None:
        checks = [
            (
                isinstance(self.target, str),
                f"target must be the label column's name as a string, got {self.target!r}",
            ),
            (0.0 < self.test_size <= 0.5, f"test_size must be in (0, 0.5], got {self.test_size}"),
            (
                self.n_folds is None or self.n_folds >= 2,
                f"n_folds must be at least 2, got {self.n_folds}",
            ),
            (self.time_limit > 0, f"time_limit must be positive, got {self.time_limit}"),
            (0.0 < self.alpha < 1.0, f"alpha must be in (0, 1), got {self.alpha}"),
            (
                self.target_accuracy is None or 0.0 < self.target_accuracy < 1.0,
                f"target_accuracy must be in (0, 1), got {self.target_accuracy}",
            ),
            (
                0.0 <= self.review_budget < 1.0,
                f"review_budget must be in [0, 1), got {self.review_budget}",
            ),
            (0.0 < self.delta < 1.0, f"delta must be in (0, 1), got {self.delta}"),
            (0.0 < self.ood_fpr < 1.0, f"ood_fpr must be in (0, 1), got {self.ood_fpr}"),
            (
                isinstance(self.seed, int | np.integer)
                and not isinstance(self.seed, bool)
                and 0 <= self.seed <= MAX_SEED,
                f"seed must be a whole number from 0 to {MAX_SEED}, got {self.seed!r}",
            ),
            (
                self.group is None or (isinstance(self.group, str) and self.group != ""),
                f"group must be a column's name, got {self.group!r}",
            ),
            (
                self.group is None
                or self.group not in (self.target, *self.text, *self.categorical, *self.numeric),
                f"group names column {self.group!r}, which is the target or an input: a "
                "grouping column is no input",
            ),
            (
                self.review_cost is None
                or (math.isfinite(self.review_cost) and self.review_cost >= 0),
                f"review_cost must be a finite number >= 0, got {self.review_cost}",
            ),
        ]
        for ok, message in checks:
            if not ok:  # 'time_limit must be ...' -> 'time_limit (--time-limit) must be ...'
                name, rest = message.split(" ", 1)
                option = "--folds" if name == "n_folds" else f"--{name.replace('_', '-')}"
                raise ConfigError(f"{name} ({option}) {rest}.")
        self._check_budget()
        if self.candidates is not None:
            check_candidates(self.candidates)
        if self.costs is not None:
            check_costs(self.costs)

    def _check_budget(self) -> None:
        """Refuse a review budget in force (no target, no costs) that the OOD detector's
        false alarms alone fill: they go to review and count against it."""
        if self.target_accuracy is not None or self.costs is not None:
            return
        if self.review_budget <= self.ood_fpr:
            raise ConfigError(
                f"review_budget (--review-budget) {self.review_budget:g} cannot hold with "
                f"ood_fpr (--ood-fpr) {self.ood_fpr:g}: the OOD detector sends that share of "
                "normal rows to review, and they count against the budget; give a budget "
                f"above {self.ood_fpr:g} (the default is 0.15) or a smaller ood_fpr."
            )

    def check_classes(self, classes: Sequence[Any]) -> None:
        """Refuse the options that do not fit the target's ``classes`` (a cost matrix of
        another size), as soon as the table is read.

        Raises
        ------
        ConfigError
            Naming both sizes and the classes.
        """
        check_cost_classes(self.costs, classes)


_CHOICES = ("target_accuracy", "review_budget", "costs")


def _named(key: str) -> str:
    """``'review_budget (--review-budget)'``: an option's Python and command-line names."""
    return f"{key} (--{key.replace('_', '-')})"


def check_choice(given: Mapping[str, Any]) -> None:
    """Refuse options that ask for two decision policies, or a review cost without costs.

    The thresholds follow one of three requests: a review budget, an accuracy target or a
    cost matrix. ``given`` holds the options a person gave (a ``None`` value: not given), so
    that the review budget's default never conflicts. :class:`FitSpec` itself does not
    check this: a spec is also rebuilt from a bundle's manifest, which records every field.

    Raises
    ------
    ConfigError
        Naming both options (Python and command-line names) and what to give.

    Examples
    --------
    >>> check_choice({"target_accuracy": 0.9, "review_budget": None})
    >>> try:
    ...     check_choice({"target_accuracy": 0.9, "costs": ((0, 1), (1, 0))})
    ... except ConfigError as error:
    ...     print(str(error)[:68])
    Give one of target_accuracy (--target-accuracy) and costs (--costs),
    """
    chosen = [k for k in _CHOICES if given.get(k) is not None]
    if len(chosen) > 1:
        first, second = chosen[0], chosen[1]
        raise ConfigError(
            f"Give one of {_named(first)} and {_named(second)}, not both: a budget sets the "
            "threshold by the share of rows sent to review, a target by the accuracy the "
            "accepted rows must reach, costs by the cheaper of answering and review."
        )
    if given.get("review_cost") is not None and given.get("costs") is None:
        raise ConfigError(
            f"{_named('review_cost')} prices a review under a cost matrix, and no "
            f"{_named('costs')} was given; give costs too (e.g. '0,1;10,0' for two classes) "
            "or leave review_cost out."
        )
