"""Which calibration map ``auto`` ships: the candidates, and the choice on held-out evidence.

:func:`candidate_methods` lists the maps worth comparing for the rows and classes at hand;
:func:`choose_method` picks, among the cross-fitted probabilities of each, the map of lowest
held-out log loss whose top-label ECE is consistent with perfect calibration and no worse
than the identity's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from prudent._typing import EncodedLabels, ProbaMatrix
from prudent.metrics import ece_consistency_test, expected_calibration_error
from prudent.models._calibration_maps import COMPOSED, PRIOR

__all__ = [
    "CONSISTENT_P",
    "METHODS",
    "MIN_ROWS_ISOTONIC",
    "TEST_RESAMPLES",
    "TEST_ROWS",
    "candidate_methods",
    "choose_method",
]

METHODS = ("identity", "temperature", "sigmoid", "isotonic", COMPOSED, PRIOR)
"""The calibration maps, in order of preference when their cross-validated losses tie."""
MIN_ROWS_ISOTONIC = 100
"""Below this many calibration rows, ``auto`` does not consider isotonic regression."""
TEST_ROWS = 20_000
"""The consistency test reads at most this many rows (a seeded sample, the same for every
map): it already tells an ECE of 0.01 from chance there, and on 160,000 rows its resampling
took 1.5 s per map."""
TEST_RESAMPLES = 200
"""Calibrated worlds the choice draws per map: enough to tell p < 0.1 from p >= 0.1 (the
bundle's promise is then checked on its locked test with 1,000)."""
CONSISTENT_P = 0.1
"""A map whose held-out top-label ECE a perfectly calibrated model shows with at least this
probability (:func:`~prudent.metrics.ece_consistency_test`) is consistent with perfect: the
bundle promises that much."""


def candidate_methods(n_rows: int, n_classes: int) -> tuple[str, ...]:
    """The maps ``auto`` compares: no isotonic step below :data:`MIN_ROWS_ISOTONIC` rows, and
    the temperature followed by isotonic, and the class-share correction, only for more than
    two classes (with two, a temperature keeps the order of ``P[:, 1]``, so isotonic after it
    is isotonic alone; and Platt's intercept is the class-share correction).

    Examples
    --------
    >>> candidate_methods(50, 3), candidate_methods(500, 2)[-1], candidate_methods(500, 3)[-2:]
    (('identity', 'temperature', 'sigmoid', 'prior+temperature'), 'isotonic', \
('temperature+isotonic', 'prior+temperature'))
    """
    few = n_rows < MIN_ROWS_ISOTONIC
    kept = [m for m in METHODS if not (few and m in ("isotonic", COMPOSED))]
    return tuple(m for m in kept if n_classes > 2 or m not in (COMPOSED, PRIOR))


def _log_loss(Q: ProbaMatrix, y: EncodedLabels) -> float:
    return float(-np.mean(np.log(Q[np.arange(y.size), y])))


def choose_method(
    Q: dict[str, ProbaMatrix], y: EncodedLabels, seed: int = 0, groups: Any = None
) -> tuple[str, dict[str, Any]]:
    """The map of lowest held-out log loss among those whose held-out top-label ECE is
    consistent with perfect calibration and no worse than the identity's; when none is
    consistent, among those no worse than the identity's.

    ``Q`` holds each method's cross-fitted probabilities, ``"identity"`` among them. A map
    whose top-label ECE exceeds the identity's is never shipped, however low its log loss;
    and a lower log loss does not buy a confidence the bundle would promise and break (the
    log loss rewards the whole vector, the promise is on the top label's confidence). With
    ``groups`` (rows that come in groups), the test counts what the groups are worth.

    Returns
    -------
    tuple
        The method, and the evidence: ``log_loss`` and ``ece`` per method, ``ece_p`` (the
        consistency test's p-value, on at most :data:`TEST_ROWS` rows) per method no worse
        than the identity.
    """
    loss = {m: _log_loss(q, y) for m, q in Q.items()}
    ece = {m: expected_calibration_error(y, q) for m, q in Q.items()}
    allowed = [m for m in Q if ece[m] <= ece["identity"]]
    rows = np.arange(y.size)
    if y.size > TEST_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(y.size, TEST_ROWS, replace=False))
    p = {
        m: ece_consistency_test(
            Q[m][rows].max(axis=1),
            Q[m][rows].argmax(axis=1) == y[rows],
            n_resamples=TEST_RESAMPLES,
            seed=seed,
            groups=None if groups is None else np.asarray(groups)[rows],
        ).p_value
        for m in allowed
    }
    consistent = [m for m in allowed if p[m] >= CONSISTENT_P]
    method = min(consistent or allowed, key=loss.__getitem__)
    return method, {"log_loss": loss, "ece": ece, "ece_p": p}
