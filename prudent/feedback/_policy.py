"""The review queue's policy: which predictions people see, and in what order.

Every prediction decided ``review`` enters the queue. Out-of-distribution cases come first
(the model knows least about them), then the lowest confidence first; or, when the bundle
was fitted with a cost matrix, the highest expected cost of the model's cheapest answer
first. A deterministic share of accepted predictions (``audit_share``, 1% by default)
enters too, marked as audit, so that the accuracy of accepted predictions can be measured
on labels drawn without bias: whether a prediction is audited depends only on a hash of its
id, so every replica, and a re-run, draws the same ones.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prudent.errors import ConfigError
from prudent.models import DecisionKind
from prudent.store import PredictionRecord, QueueEntry

__all__ = ["CostTable", "QueuePolicy", "audit_draw", "cost_table"]

CostTable = Mapping[str, Mapping[str, float]]
"""``true class → predicted class → cost``, classes as the log writes them (text)."""

_OOD, _IN = 0.0, 1.0
_SCALE = float(2**64)


def audit_draw(prediction_id: str, seed: int = 0) -> float:
    """Return a number in [0, 1) fixed by the id and the seed, uniform over random ids.

    Parameters
    ----------
    prediction_id
        The prediction.
    seed
        Changes which predictions are drawn.

    Returns
    -------
    float
        The draw; the prediction is audited when it is below the audit share.

    Examples
    --------
    >>> audit_draw("p1") == audit_draw("p1") != audit_draw("p1", seed=1)
    True
    """
    digest = hashlib.blake2b(f"{seed}:{prediction_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


@dataclass(frozen=True, slots=True)
class QueuePolicy:
    """Which logged predictions enter the review queue, and their priority (lower first).

    An instance is the ``triage`` a log takes (``SqlPredictionLog.open(url, triage=...)``).

    Parameters
    ----------
    audit_share
        Share of accepted predictions (decision ``accept``) queued as audit cases, in [0, 1].
    ood_first
        Serve out-of-distribution cases before every other; when false, only the
        confidence orders them.
    seed
        Chooses which accepted predictions are audited (the draw is a hash of seed and id).
    costs
        The bundle's cost matrix as a :data:`CostTable` (:func:`cost_table`); when given,
        the highest expected cost comes first instead of the lowest confidence.

    Examples
    --------
    >>> from prudent.store import PredictionRecord
    >>> def rec(**kw):
    ...     return PredictionRecord(model_version="v", model_name="m", inputs={},
    ...                             probabilities={}, prediction=None, **kw)
    >>> policy = QueuePolicy()
    >>> ood = policy(rec(decision="review", is_ood=True, confidence=0.9))
    >>> unsure = policy(rec(decision="review", confidence=0.4))
    >>> ood.priority < unsure.priority, policy(rec(decision="rule")) is None
    (True, True)
    """

    audit_share: float = 0.01
    ood_first: bool = True
    seed: int = 0
    costs: CostTable | None = None

    def __post_init__(self) -> None:
        share = self.audit_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ConfigError(
                f"audit_share must be a number in [0, 1], but {share!r} was received; "
                "e.g. 0.01 to audit 1% of accepted predictions."
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError(f"seed must be an integer, but {self.seed!r} was received.")

    def priority(self, record: PredictionRecord) -> float:
        """Return the case's priority: OOD first (when ``ood_first``), then lowest confidence.

        Parameters
        ----------
        record
            The logged prediction.

        Returns
        -------
        float
            In [0, 2); a missing confidence (no model answered) counts as 0, missing
            probabilities as the highest cost.
        """
        band = _OOD if self.ood_first and record.is_ood else _IN
        if self.costs is not None:
            return band + (1.0 - expected_cost_share(record.probabilities, self.costs)) * 0.999
        confidence = record.confidence
        if confidence is None or math.isnan(confidence):
            confidence = 0.0
        return band + min(max(confidence, 0.0), 1.0) * 0.999

    def __call__(self, record: PredictionRecord) -> QueueEntry | None:
        """Return the queue entry of a logged prediction, or None when it is not queued.

        Parameters
        ----------
        record
            The logged prediction.

        Returns
        -------
        QueueEntry or None
            Reviews always; accepted predictions when drawn for audit; nothing else.
        """
        if record.decision is DecisionKind.REVIEW:
            return QueueEntry(self.priority(record))
        audited = audit_draw(record.id, self.seed) < self.audit_share
        if record.decision is DecisionKind.ACCEPT and audited:
            return QueueEntry(self.priority(record), audit=True)
        return None


def cost_table(matrix: Sequence[Sequence[float]], classes: Sequence[Any]) -> CostTable:
    """Name the rows (true class) and columns (predicted class) of a cost matrix.

    Parameters
    ----------
    matrix
        ``costs[i][j]``: the cost of predicting ``classes[j]`` when the truth is ``classes[i]``.
    classes
        The bundle's classes, in the matrix's order.

    Returns
    -------
    CostTable
        The same costs by class name.

    Examples
    --------
    >>> cost_table([[0, 5], [1, 0]], ["ok", "fraud"])["ok"]["fraud"]
    5.0
    """
    names = [str(c) for c in classes]
    return {t: {p: float(c) for p, c in zip(names, row, strict=True)}
            for t, row in zip(names, matrix, strict=True)}  # fmt: skip


def expected_cost_share(probabilities: Mapping[str, float], costs: CostTable) -> float:
    """The expected cost of the cheapest answer, as a share of the largest cost.

    Parameters
    ----------
    probabilities
        ``class → probability`` of one prediction.
    costs
        The cost table.

    Returns
    -------
    float
        In [0, 1]; 1 when there are no probabilities (no model answered).

    Examples
    --------
    >>> table = cost_table([[0, 5], [1, 0]], ["ok", "fraud"])
    >>> expected_cost_share({"ok": 0.9, "fraud": 0.1}, table)  # predict ok: 0.1 x 1 = 0.1
    0.02
    """
    top = max((c for row in costs.values() for c in row.values()), default=0.0)
    if not probabilities or top <= 0:
        return 1.0 if not probabilities else 0.0
    answers = {p for row in costs.values() for p in row}
    cost = min(
        sum(probabilities.get(t, 0.0) * row.get(answer, top) for t, row in costs.items())
        for answer in answers
    )
    return min(max(cost / top, 0.0), 1.0)
