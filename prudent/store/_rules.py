"""The label and claim invariants, shared by every backend so that they behave the same.

They live in the store, not in ``prudent.feedback``, because each backend checks them inside
its write transaction, on the rows read under the lock, so that check and write are atomic
across processes (and the store may not import the layer above it). The review policy —
which predictions become cases, and their priority — is ``feedback.QueuePolicy``.
"""

from __future__ import annotations

from collections.abc import Collection

from prudent._json import label_text, plain_scalar
from prudent.errors import FeedbackConflictError, FeedbackError, UnknownPredictionError
from prudent.store._records import FeedbackStatus

__all__ = [
    "check_allowed",
    "check_claim",
    "check_may_label",
    "check_name",
    "check_release",
    "feedback_status",
    "not_in_queue_error",
    "unknown_prediction",
]

MAX_NAME = 128


def check_name(value: object, what: str) -> str:
    """Return ``value`` when it is a non-empty string of at most 128 characters.

    Parameters
    ----------
    value
        The source or reviewer name to check.
    what
        What the value is, for the error message.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    FeedbackError
        When the value is not such a string.

    Examples
    --------
    >>> check_name("ana", "reviewer")
    'ana'
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME:
        raise FeedbackError(
            f"{what} must be a non-empty string of at most {MAX_NAME} characters, but "
            f"{value!r} was received."
        )
    return value


def check_allowed(label: object, allowed_labels: Collection[object] | None) -> str:
    """Return the label's text, refusing one outside ``allowed_labels`` when that is given.

    Parameters
    ----------
    label
        The label given as feedback.
    allowed_labels
        The model's classes, or None to accept any label.

    Returns
    -------
    str
        The label as stored.

    Raises
    ------
    FeedbackError
        Naming the allowed labels.

    Examples
    --------
    >>> check_allowed(1, [0, 1])
    '1'
    >>> check_allowed("maybe", ["yes", "no"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    prudent.errors.FeedbackError: Label 'maybe' is not among the model's classes ['yes', 'no']; ...
    """
    text = label_text(label)
    if label is None or text.strip() in ("", "nan", "NaN"):
        raise FeedbackError(
            "Label is empty; send one of the model's classes"
            + ("." if allowed_labels is None else f" {[label_text(v) for v in allowed_labels]}.")
        )
    if allowed_labels is None:
        return text
    allowed = [label_text(v) for v in allowed_labels]
    if text not in allowed:
        text = _same_value(text, allowed_labels) or text
    if text not in allowed:
        raise FeedbackError(
            f"Label {text!r} is not among the model's classes {allowed}; "
            "send one of them (labels compare as text)."
        )
    return text


def _same_value(text: str, classes: Collection[object]) -> str | None:
    """The text of the number or boolean class ``text`` also spells (``1.0`` is 1, ``true`` is
    True), or None: a file's label column is read as written. Text classes match only as
    written (``01`` is not ``1``).

    Examples
    --------
    >>> _same_value("1.0", [0, 1]), _same_value(" TRUE", [False, True]), _same_value("01", ["1"])
    ('1', 'True', None)
    """
    for value in map(plain_scalar, classes):
        if isinstance(value, bool):
            if text.strip().casefold() == str(value).casefold():
                return str(value)
        elif isinstance(value, int | float):
            try:
                if float(text) == value:
                    return label_text(value)
            except ValueError:
                return None
    return None


def feedback_status(current: str | None, label: str) -> FeedbackStatus:
    """Return what storing ``label`` does, given the prediction's current label.

    Parameters
    ----------
    current
        The latest stored label, or None.
    label
        The label given now.

    Returns
    -------
    FeedbackStatus
        Created, duplicate or correction.

    Examples
    --------
    >>> [feedback_status(cur, "a").value for cur in (None, "a", "b")]
    ['created', 'duplicate', 'correction']
    """
    if current is None:
        return FeedbackStatus.CREATED
    return FeedbackStatus.DUPLICATE if current == label else FeedbackStatus.CORRECTION


def check_may_label(prediction_id: str, claimed_by: str | None, source: str) -> None:
    """Refuse a label for an open review case claimed by someone other than ``source``.

    Parameters
    ----------
    prediction_id
        The case.
    claimed_by
        Who holds the case open, or None.
    source
        Who gives the label.

    Raises
    ------
    FeedbackConflictError
        When another reviewer holds the case.

    Examples
    --------
    >>> check_may_label("p1", "ana", "ana")
    >>> check_may_label("p1", "ana", "bob")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    prudent.errors.FeedbackConflictError: Review case 'p1' is claimed by 'ana', not 'bob'; ...
    """
    if claimed_by is not None and claimed_by != source:
        raise FeedbackConflictError(
            f"Review case {prediction_id!r} is claimed by {claimed_by!r}, not {source!r}; "
            "only that reviewer may label it until it is released."
        )


def check_claim(prediction_id: str, claimed_by: str | None, reviewer: str) -> None:
    """Refuse to claim a case another reviewer holds.

    Parameters
    ----------
    prediction_id
        The case.
    claimed_by
        Who holds it now, or None.
    reviewer
        Who wants it.

    Raises
    ------
    FeedbackConflictError
        When another reviewer holds the case.

    Examples
    --------
    >>> check_claim("p1", None, "bob")
    >>> check_claim("p1", "ana", "bob")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    prudent.errors.FeedbackConflictError: Review case 'p1' is already claimed by 'ana'; ...
    """
    if claimed_by is not None and claimed_by != reviewer:
        raise FeedbackConflictError(
            f"Review case {prediction_id!r} is already claimed by {claimed_by!r}; "
            f"{reviewer!r} may claim it once it is released."
        )


def check_release(prediction_id: str, claimed_by: str | None, reviewer: str, force: bool) -> None:
    """Refuse to release a case another reviewer holds, unless ``force``.

    Parameters
    ----------
    prediction_id
        The case.
    claimed_by
        Who holds it now, or None.
    reviewer
        Who releases it.
    force
        Release whoever holds it (an administrator's action).

    Raises
    ------
    FeedbackConflictError
        When another reviewer holds the case and ``force`` is false.

    Examples
    --------
    >>> check_release("p1", "ana", "bob", force=True)
    """
    if not force and claimed_by is not None and claimed_by != reviewer:
        raise FeedbackConflictError(
            f"Review case {prediction_id!r} is claimed by {claimed_by!r}, not {reviewer!r}; "
            "only that reviewer may release it, or an administrator forcing the release; the "
            "claim also lapses when its lease ends."
        )


def not_in_queue_error(prediction_id: str, decision: str, labelled: bool) -> FeedbackError:
    """Return the error for claiming a prediction that is not an open review case.

    Parameters
    ----------
    prediction_id
        The prediction.
    decision
        Its logged decision.
    labelled
        Whether the case was closed by a label.

    Returns
    -------
    FeedbackError
        Saying why the prediction cannot be claimed.

    Examples
    --------
    >>> str(not_in_queue_error("p1", "accept", False))  # doctest: +ELLIPSIS
    "Prediction 'p1' is not in the review queue (its decision is 'accept' and it was not ..."
    """
    if labelled:
        return FeedbackError(
            f"Review case {prediction_id!r} is already labelled and closed; another label for "
            "it is recorded as a correction (prudent review label, prudent feedback or POST "
            "/feedback), with no claim needed."
        )
    return FeedbackError(
        f"Prediction {prediction_id!r} is not in the review queue (its decision is "
        f"{str(decision)!r} and it was not drawn for the audit sample): only deferred and "
        "audited predictions are review cases; its true label can still be given as feedback."
    )


def unknown_prediction(prediction_id: object) -> UnknownPredictionError:
    """Return the error for an id that is not in the log.

    Parameters
    ----------
    prediction_id
        The id asked for.

    Returns
    -------
    UnknownPredictionError
        Naming the id.

    Examples
    --------
    >>> str(unknown_prediction("p9"))  # doctest: +ELLIPSIS
    "No prediction with id 'p9' is in the log; ..."
    """
    return UnknownPredictionError(
        f"No prediction with id {prediction_id!r} is in the log; use the prediction_id "
        "returned with the prediction."
    )
