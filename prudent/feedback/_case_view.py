"""A review case as people read it: fields by name, unusual values marked, the model's answer.

What counts as unusual comes from what the training rows held, kept in the bundle's model
(:class:`prudent.models.TrainingValues`): a number outside the training range (said to be
unknown to the model beyond its margin), a category never seen, an empty or out-of-vocabulary
text is marked. A bundle saved before prudent kept them marks nothing, and the page says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from prudent.data import Schema, validate_frame
from prudent.errors import DataError
from prudent.feedback._neighbours import NearestRows, Neighbour
from prudent.models import TrainingValues
from prudent.store import ReviewCase

__all__ = ["REASON_TEXT", "CaseView", "FieldView", "case_view", "field_notes"]

REASON_TEXT: dict[str, str] = {
    "low_confidence": "the model's confidence is below the threshold it was fitted to keep",
    "out_of_distribution": "the input is unlike the rows the model learnt from",
    "stage_disagreement": "the model's stages disagree",
    "rule": "a rule sends such inputs to review",
    "models_failed": "no model answered (failed or past its deadline)",
    "audit": "an accepted prediction drawn at random to measure accuracy without bias",
}
"""Why a case is in the queue, in words, by reason."""


def field_notes(
    inputs: Mapping[str, Any], schema: Schema, seen: TrainingValues | None
) -> dict[str, str]:
    """Say, per input field, how its value compares with the training rows (empty: usual).

    The inputs are read as a prediction reads them (``validate_frame``), then compared with
    the training values the bundle keeps (:class:`prudent.models.TrainingValues`): a number
    outside the training range, beyond its margin or not, an unseen category, an empty or
    out-of-vocabulary text, a value missing (or left out) where training rows never missed it.

    Parameters
    ----------
    inputs
        A case's inputs, as received.
    schema
        The bundle's schema.
    seen
        The bundle's training values; None (an older bundle) marks nothing.

    Returns
    -------
    dict of str to str
        Column → note, for the columns with one.

    Examples
    --------
    >>> from prudent.data import infer_schema
    >>> from prudent.models import TrainingValues
    >>> f = pd.DataFrame({"x": [1.0, 3.0, 2.0, 5.0], "c": ["a", "b", "a", "b"], "y": [0, 1, 0, 1]})
    >>> schema = infer_schema(f, "y", categorical=["c"])
    >>> seen = TrainingValues.fit(f.drop(columns="y"), schema)
    >>> field_notes({"x": "5.5", "c": "z"}, schema, seen)
    {'x': 'above the training range (max 5)', 'c': 'a category never seen in training: \
unknown to the model'}
    """
    if seen is None:
        return {}
    try:
        X, _ = validate_frame(pd.DataFrame([dict(inputs)]), schema)
    except DataError:  # a case logged under another schema: nothing to compare
        return {}
    notes = {str(n): seen.note(str(n), X.at[0, n]) for n in X.columns}
    return {n: note for n, note in notes.items() if note}


@dataclass(frozen=True, slots=True)
class FieldView:
    """One input field: its name, role, the value as received, and what is unusual about it."""

    name: str
    role: str
    value: Any
    note: str = ""


@dataclass(frozen=True, slots=True)
class CaseView:
    """What the review page shows of one case.

    Parameters
    ----------
    case
        The case.
    fields
        Its inputs in the schema's order (text fields too), each with its note.
    suggestion
        The model's most probable class (None when no model answered).
    confidence
        Its calibrated probability.
    probabilities
        ``class → probability``, most probable first.
    prediction_set
        The conformal prediction set.
    why
        Why the case is in the queue, in words, and the decision's own reason.
    neighbours
        The nearest labelled reference rows, nearest first.
    """

    case: ReviewCase
    fields: tuple[FieldView, ...]
    suggestion: str | None
    confidence: float | None
    probabilities: tuple[tuple[str, float], ...]
    prediction_set: tuple[str, ...]
    why: str
    neighbours: tuple[Neighbour, ...] = ()


def case_view(
    case: ReviewCase,
    schema: Schema,
    seen: TrainingValues | None,
    nearest: NearestRows | None = None,
) -> CaseView:
    """Build what the page shows of ``case``.

    Parameters
    ----------
    case
        The review case.
    schema
        The bundle's schema: the fields' order and roles.
    seen
        The bundle's training values, to mark unusual ones (None: nothing is marked).
    nearest
        The bundle's labelled reference rows, to show the nearest three.

    Returns
    -------
    CaseView
        Ready to render.
    """
    r = case.record
    roles = {c.name: str(c.role) for c in schema.features}
    names = [c.name for c in schema.features] + [k for k in r.inputs if k not in roles]
    notes = field_notes(r.inputs, schema, seen)
    fields = tuple(
        FieldView(n, roles.get(n, "other"), r.inputs.get(n), notes.get(n, "")) for n in names
    )
    ranked = tuple(sorted(r.probabilities.items(), key=lambda kv: -kv[1]))
    suggestion = r.prediction if r.prediction is not None else (ranked[0][0] if ranked else None)
    confidence = dict(ranked).get(suggestion) if suggestion is not None else None
    reason = case.reason or ""
    why = REASON_TEXT.get(reason, reason.replace("_", " ") or "no reason recorded")
    if r.reason:
        why = f"{why} ({r.reason})"
    near = () if nearest is None else nearest.nearest(r.inputs)
    return CaseView(
        case, fields, suggestion, confidence, ranked, tuple(r.prediction_set), why, near
    )
