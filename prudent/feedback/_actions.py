"""What a reviewer does to a case besides labelling it: skip it or flag it.

The review page (``POST /review/skip``, ``/review/flag``) and the command line
(``prudent review skip | flag``) both call :func:`set_aside_case`.
"""

from __future__ import annotations

from prudent.errors import FeedbackError
from prudent.store import CaseStatus, ReviewCase, ReviewQueue

__all__ = ["ASIDE", "set_aside_case"]

ASIDE: dict[str, CaseStatus] = {"skip": CaseStatus.SKIPPED, "flag": CaseStatus.FLAGGED}
"""The reviewer's actions and the status each leaves the case in."""


def set_aside_case(
    queue: ReviewQueue, prediction_id: str, reviewer: str, action: str | CaseStatus
) -> ReviewCase:
    """Skip or flag a case: it leaves the served queue, still claimable by id and labelable.

    Parameters
    ----------
    queue
        The review queue (a log store).
    prediction_id
        The case.
    reviewer
        Who sets it aside: the holder, or anyone when nobody holds it.
    action
        ``"skip"`` or ``"flag"`` (or the status, ``CaseStatus.SKIPPED`` / ``FLAGGED``).

    Returns
    -------
    ReviewCase
        The case, now skipped or flagged.

    Raises
    ------
    FeedbackError
        For another action, or a case that is not open (already labelled).
    FeedbackConflictError
        When another reviewer holds it.
    UnknownPredictionError
        When no prediction has that id.

    Examples
    --------
    >>> from prudent.store import InMemoryPredictionLog, PredictionRecord
    >>> log = InMemoryPredictionLog()
    >>> r = PredictionRecord(model_version="v", model_name="m", inputs={}, probabilities={},
    ...                      prediction=None, decision="review")
    >>> log.write([r])
    >>> str(set_aside_case(log, r.id, "ana", "flag").status)
    'flagged'
    """
    status = ASIDE.get(action) if isinstance(action, str) and action in ASIDE else action
    if status not in (CaseStatus.SKIPPED, CaseStatus.FLAGGED):
        raise FeedbackError(
            f"A case can be set aside by 'skip' or 'flag', but {action!r} was received."
        )
    assert isinstance(status, CaseStatus)
    return queue.set_aside(prediction_id, reviewer, status)
