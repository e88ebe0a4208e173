"""The accept threshold under a review budget: at most a share of new rows goes to review.

:func:`budget_threshold` sets the threshold so that a new batch goes over the share with
probability at most ``delta`` (:func:`~prudent.models._tail_bounds.batch_tail_rows`), and
promises the accuracy it measures as a lower confidence bound. The budget is a ceiling, not
a quota: a row the model is at least :data:`SURE` sure of is not sent to review for its
confidence.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from prudent.errors import ConfigError
from prudent.models._tail_bounds import accuracy_lower_bound, batch_tail_rows
from prudent.models._thresholds import ThresholdChoice, _validate

__all__ = ["SURE", "budget_threshold"]

SURE = 0.99
"""Calibrated confidence at which a row is not sent to review to fill the budget: a label 99%
sure is wrong about once in a hundred, about as often as a careful person labelling it. A
near-perfect model filled the budget anyway, with rows it had right: a never-seen table of
10,000 rows whose test rows it labelled all correctly sent 11% of them to review at a
threshold of 0.9999."""


def budget_threshold(
    confidence: npt.ArrayLike,
    correct: npt.ArrayLike,
    *,
    review_share: float,
    delta: float = 0.1,
    flagged: int = 0,
    spread: float = 0.0,
) -> ThresholdChoice:
    """The accept threshold that sends at most ``review_share`` of new rows to review.

    The share holds on a new batch of rows from the same distribution with probability
    ``1 - delta``, not just on these rows nor only in the long run: a batch as large as these
    rows (``flagged`` included) goes over the share with probability at most ``delta``
    (:func:`batch_tail_rows`). At the plain ``review_share`` quantile, new rows exceed the
    budget half of the time. With very few rows no threshold keeps the bound, and none is
    sent to review for confidence alone.

    Rows an earlier check of the same sample already sends to review (``flagged``: the OOD
    detector's alarms, whose threshold was set among these rows) count against the budget as
    the lowest scores of one ordering: the review region is then a union of the sample's
    statistically equivalent blocks (Tukey), cut first by the OOD score and then by
    confidence, so the same order-statistic bound covers both parts together.

    The accuracy promise is measured, not requested: the accuracy of the accepted rows, as a
    Clopper–Pearson lower bound at level ``1 - delta`` (stored as ``target_accuracy``), so it
    holds on new rows from the same distribution with probability about ``1 - delta``.

    Parameters
    ----------
    confidence
        Per calibration row that is not flagged, the confidence of the label the model gives.
    correct
        Per such row, whether that label was right.
    review_share
        The largest share of rows sent to review, in ``[0, 1)``.
    delta
        The allowed probability that the promised accuracy is not reached, and that a batch
        goes over ``review_share``.
    flagged
        Rows of the same sample already sent to review, not in ``confidence``.
    spread
        How much the share sent to review moves from one training of the model to the next
        (the folds' spread, :func:`~prudent.models._spread.realization_spread`): the model
        that scores new rows is another training. 0 treats it as the one that scored these.

    The budget is a ceiling, not a quota: the threshold is at most :data:`SURE`, so rows at
    least that sure are accepted even when the budget has room for them (``method`` then
    says so).

    Returns
    -------
    ThresholdChoice
        With ``method="review budget"``; always feasible.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> conf = rng.uniform(0.5, 1.0, 2000)
    >>> choice = budget_threshold(conf, rng.uniform(size=2000) < conf, review_share=0.2)
    >>> round(choice.coverage, 3), round(choice.accuracy, 2), round(choice.target_accuracy, 2)
    (0.816, 0.79, 0.78)

    100 rows more that the OOD detector flagged take their part of the budget first:

    >>> round(budget_threshold(conf, conf > 0.6, review_share=0.2, flagged=100).coverage, 3)
    0.857

    A model sure of every row sends none to review:

    >>> sure = budget_threshold(rng.uniform(0.995, 1.0, 500), np.ones(500, bool),
    ...                         review_share=0.15)
    >>> sure.threshold, sure.coverage, sure.method
    (0.99, 1.0, 'review budget; rows at least 99% sure are not reviewed')
    """
    if not 0.0 <= review_share < 1.0:
        raise ConfigError(f"review_share must lie in [0, 1); got {review_share!r}.")
    conf, ok = _validate(confidence, correct)
    rows = conf.size + flagged
    below = max(batch_tail_rows(rows, review_share, delta, rows, spread) - 1 - flagged, 0)
    threshold = float(np.sort(conf)[below])
    capped = threshold > SURE
    threshold = min(threshold, SURE)
    accepted = conf >= threshold
    n_acc, n_ok = int(accepted.sum()), int(ok[accepted].sum())
    return ThresholdChoice(
        threshold=threshold,
        coverage=n_acc / conf.size,
        accuracy=n_ok / n_acc,
        n=int(conf.size),
        n_accepted=n_acc,
        p_value=delta,
        method=f"review budget; rows at least {SURE:.0%} sure are not reviewed"
        if capped
        else "review budget",
        feasible=True,
        target_accuracy=accuracy_lower_bound(n_ok, n_acc, delta),
        delta=delta,
    )
