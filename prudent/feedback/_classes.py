"""The classes a label is checked against: those of the model that made the prediction.

A served bundle is not always the model that made a logged prediction: after a promotion or
a hot swap, older predictions belong to a model whose classes may differ (a class added or
dropped). ``POST /feedback`` checks each label against its own prediction's model, as
``prudent review label`` does, through :class:`PredictionClasses`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from prudent.errors import UnknownPredictionError
from prudent.store import PredictionLog, PredictionRecord

__all__ = ["PredictionClasses"]


class PredictionClasses:
    """The classes of the model that made each prediction, read from its logged record.

    A prediction of the served model is checked against the served classes (as typed: a
    label ``1.0`` is the class ``1``). Another model's prediction is checked against the
    classes its record gives probabilities for; when those are the served classes as text,
    the served ones are used, typed. A record naming no class (both models failed) falls
    back to the served classes; an unknown id to none (the log then answers ``unknown``).

    Parameters
    ----------
    log
        The prediction log.
    served_version
        The served bundle's version (``Bundle.version``).
    served_classes
        The served bundle's classes.

    Examples
    --------
    >>> from prudent.store import InMemoryPredictionLog, PredictionRecord
    >>> log = InMemoryPredictionLog()
    >>> old = PredictionRecord(model_version="old", model_name="m", inputs={},
    ...                        probabilities={"bad": 0.2, "good": 0.8}, prediction="good",
    ...                        decision="accept")
    >>> log.write([old])
    >>> classes = PredictionClasses(log, "new", ["bad", "good", "maybe"])
    >>> classes(old.id), classes("nope")
    (['bad', 'good'], None)
    """

    def __init__(
        self, log: PredictionLog, served_version: str, served_classes: Sequence[object]
    ) -> None:
        self._log = log
        self._version = served_version
        self._served = list(served_classes)
        self._found: dict[str, list[object] | None] = {}

    def __call__(self, prediction_id: str) -> Collection[object] | None:
        """The classes a label of ``prediction_id`` must be among (None: the id is unknown)."""
        if prediction_id not in self._found:
            self._found[prediction_id] = self._read(prediction_id)
        return self._found[prediction_id]

    def _read(self, prediction_id: str) -> list[object] | None:
        try:
            record = self._log.get(prediction_id)
        except UnknownPredictionError:
            return None
        return self.of(record)

    def of(self, record: PredictionRecord) -> list[object]:
        """The classes a label of the logged ``record`` must be among."""
        logged = [str(c) for c in record.probabilities]
        served_text = sorted(str(c) for c in self._served)
        if record.model_version == self._version or not logged or sorted(logged) == served_text:
            return self._served
        return list(logged)
