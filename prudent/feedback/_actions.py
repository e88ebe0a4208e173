"""What a reviewer does to a case: label it, skip it or flag it.

The review page (``POST /review/label``, ``/review/skip``, ``/review/flag``) and the command
line (``prudent review label | skip | flag``) both call :func:`label_case` and
:func:`set_aside_case`; a label goes through :func:`~prudent.feedback.ingest_labels`, as
every label does.
"""

from __future__ import annotations

from collections.abc import Collection

from prudent.errors import FeedbackError
from prudent.feedback._ingest import ingest_labels
from prudent.store import CaseStatus, FeedbackLog, FeedbackResult, ReviewCase, ReviewQueue

__all__ = ["ASIDE", "label_case", "set_aside_case"]

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


def label_case(
    log: FeedbackLog,
    prediction_id: str,
    label: object,
    reviewer: str,
    allowed_labels: Collection[object] | None = None,
) -> FeedbackResult:
    """Record one reviewer's label of one case (created, duplicate, or a correction).

    Parameters
    ----------
    log
        The feedback log (a log store).
    prediction_id
        The case.
    label
        Its true label.
    reviewer
        Who gives it (the label's source).
    allowed_labels
        The model's classes; another label is refused.

    Returns
    -------
    FeedbackResult
        What the log did.

    Raises
    ------
    UnknownPredictionError, FeedbackError, FeedbackConflictError
        The row's refusal: an unknown id, a label not among the classes, a case held by
        another reviewer.
    """
    (outcome,) = ingest_labels(
        log, [(prediction_id, label)], source=reviewer, allowed_labels=allowed_labels
    )
    if outcome.result is None:
        assert outcome.error is not None
        raise outcome.error
    return outcome.result
