"""Label ingestion: one function that both faces call, and each row's outcome.

``prudent feedback LABELS`` (a file) and ``POST /feedback`` (a JSON body) both call
:func:`ingest_labels`. Every row is judged on its own: a label not among the classes, an
unknown prediction id or a review case held by another reviewer refuses that row only, and
every other row is stored. The rows that pass the checks are stored in one transaction; when
the log refuses that batch (an unknown id, a held case), each row is stored on its own so
that each gets its own outcome. A failing log (:class:`~prudent.errors.StoreError` other
than an unknown id) is raised: no row is then known to be stored.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

from prudent.errors import FeedbackError, FieldProblem, PrudentError, UnknownPredictionError
from prudent.store import FeedbackLog, FeedbackResult, check_allowed

__all__ = ["LabelOutcome", "ingest_labels", "outcome_counts"]

_Refusal = FeedbackError | UnknownPredictionError


@dataclass(frozen=True, slots=True)
class LabelOutcome:
    """What became of one row of labels.

    Attributes
    ----------
    row
        The row's position among the rows given (0 first).
    prediction_id
        The id as given (as text).
    label
        The label as given; once checked against the classes, the class's text (``1.0`` given
        for the class 1 is ``"1"``).
    result
        What the log did (created, duplicate, correction), or None when refused.
    error
        Why the row was refused (an unknown id, a label not among the classes, a case held
        by another reviewer), or None when stored.
    """

    row: int
    prediction_id: str
    label: object
    result: FeedbackResult | None = None
    error: PrudentError | None = None

    @property
    def status(self) -> str:
        """``created``, ``duplicate``, ``correction``, ``unknown`` (id) or ``refused``."""
        if self.result is not None:
            return self.result.status.value
        return "unknown" if isinstance(self.error, UnknownPredictionError) else "refused"

    @property
    def problem(self) -> FieldProblem | None:
        """The field at fault and why, for a refused row (None when stored)."""
        if self.error is None:
            return None
        unknown = isinstance(self.error, UnknownPredictionError)
        field, received = (
            ("prediction_id", self.prediction_id) if unknown else ("label", self.label)
        )
        return FieldProblem(field, str(self.error), repr(received)[:200], self.row)


def ingest_labels(
    log: FeedbackLog,
    pairs: Sequence[tuple[object, object]],
    *,
    source: str,
    allowed_labels: Collection[object] | None = None,
    classes_of: Callable[[str], Collection[object] | None] | None = None,
) -> list[LabelOutcome]:
    """Record true labels row by row; return every row's outcome, in order.

    Parameters
    ----------
    log
        The feedback log (a log store).
    pairs
        ``(prediction_id, label)`` rows; ids are read as text without the spaces around them
        (a UUID in capitals as prudent writes it, in lower case), labels written as text
        without theirs (a fitted model's classes never have any).
    source
        Who gives them (a reviewer's or token's name, ``cli``).
    allowed_labels
        The model's classes; a label outside them is refused (None accepts any).
    classes_of
        Instead of ``allowed_labels``: each row's classes, from its prediction id (those of
        the model that made it, :class:`~prudent.feedback.PredictionClasses`); None for a
        row accepts any label.

    Returns
    -------
    list of LabelOutcome
        One per row: stored (``created``, ``duplicate``, ``correction``) or refused with
        the field at fault and the reason.

    Raises
    ------
    StoreError
        The log failed (other than an unknown id).
    FeedbackError
        ``source`` is not a valid name.

    Examples
    --------
    >>> from prudent.store import InMemoryPredictionLog, PredictionRecord
    >>> log = InMemoryPredictionLog()
    >>> r = PredictionRecord(model_version="v", model_name="m", inputs={}, probabilities={},
    ...                      prediction=None, decision="accept")
    >>> log.write([r])
    >>> rows = [(r.id, "yes"), ("nope", "yes"), (r.id, "maybe"), (r.id, "no")]
    >>> [o.status for o in ingest_labels(log, rows, source="ana", allowed_labels=["yes", "no"])]
    ['created', 'unknown', 'refused', 'correction']
    """
    given = [
        LabelOutcome(i, _id_text(pid), _trimmed(label)) for i, (pid, label) in enumerate(pairs)
    ]
    allowed = classes_of or (lambda _: allowed_labels)
    checked = [_check_label(o, allowed(o.prediction_id)) for o in given]
    ready = [o for o in checked if o.error is None]
    stored = _store_together(log, ready, source) or _store_each(log, ready, source)
    by_row = {o.row: o for o in stored}
    return [by_row.get(o.row, o) for o in checked]


def outcome_counts(outcomes: Sequence[LabelOutcome]) -> dict[str, int]:
    """How many rows had each status.

    Examples
    --------
    >>> outcome_counts([LabelOutcome(0, "a", "x", error=FeedbackError("no"))])
    {'refused': 1}
    """
    return dict(Counter(o.status for o in outcomes))


_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _id_text(value: object) -> str:
    """An id as prudent wrote it: trimmed, a UUID in lower case.

    Examples
    --------
    >>> _id_text(" 0A1B2C3D-0000-4000-8000-00000000ABCD\t")
    '0a1b2c3d-0000-4000-8000-00000000abcd'
    >>> _id_text(" Order-7 ")
    'Order-7'
    """
    text = str(value).strip()
    return text.lower() if _UUID.fullmatch(text) else text


def _trimmed(label: object) -> object:
    """A label written as text, without the spaces around it; any other value as it is."""
    return label.strip() if isinstance(label, str) else label


def _check_label(outcome: LabelOutcome, allowed: Collection[object] | None) -> LabelOutcome:
    """The row with its label as the class's text (``1.0`` is stored as the class ``1``), or
    refused: a file's labels are read as written."""
    try:
        text = check_allowed(outcome.label, allowed)
    except FeedbackError as exc:
        return _refused(outcome, exc)
    return outcome if allowed is None else replace(outcome, label=text)


def _store_together(
    log: FeedbackLog, ready: list[LabelOutcome], source: str
) -> list[LabelOutcome] | None:
    """Store every row in one transaction; None when the log refuses one of them."""
    pairs = [(o.prediction_id, o.label) for o in ready]
    try:
        results = log.add_feedback_many(pairs, source=source)
    except (FeedbackError, UnknownPredictionError):
        return None
    return [_stored(o, r) for o, r in zip(ready, results, strict=True)]


def _store_each(log: FeedbackLog, ready: list[LabelOutcome], source: str) -> list[LabelOutcome]:
    outcomes = []
    for o in ready:
        try:
            outcomes.append(_stored(o, log.add_feedback(o.prediction_id, o.label, source=source)))
        except (FeedbackError, UnknownPredictionError) as exc:
            outcomes.append(_refused(o, exc))
    return outcomes


def _stored(outcome: LabelOutcome, result: FeedbackResult) -> LabelOutcome:
    return LabelOutcome(outcome.row, outcome.prediction_id, outcome.label, result=result)


def _refused(outcome: LabelOutcome, error: _Refusal) -> LabelOutcome:
    return LabelOutcome(outcome.row, outcome.prediction_id, outcome.label, error=error)
