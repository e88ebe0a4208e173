"""Label Studio interop: review cases out as tasks with predictions, annotations back as labels.

Export writes Label Studio's basic JSON task format (``data`` plus ``predictions[]`` with
``model_version``, ``score`` and a ``choices`` ``result``) and the labeling config those tasks
need: the inputs as a ``<Table>`` (text columns also as ``<Text>``) and one ``<Choices>``
named ``label`` over the classes. Import reads Label Studio's JSON export: per task, the latest
annotation that was not cancelled, its ``choices`` result from ``label``; the prediction id
travels in ``data.prudent_id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import quoteattr

from prudent._json import json_value
from prudent.data import Role, Schema
from prudent.errors import DataError
from prudent.store import ReviewCase

__all__ = [
    "CONTROL",
    "ID_FIELD",
    "LabelStudioLabels",
    "labeling_config",
    "read_annotations",
    "task_of",
]

CONTROL = "label"
"""The name of the ``<Choices>`` control (``from_name`` in results)."""
ID_FIELD = "prudent_id"
"""The task data field that carries the prediction id."""
_TABLE, _TEXT = "input", "text"


def _target(schema: Schema) -> str:
    return _TEXT if schema.has_text else _TABLE


def labeling_config(schema: Schema, classes: Sequence[object]) -> str:
    """The labeling config XML of the exported tasks.

    Parameters
    ----------
    schema
        The bundle's schema.
    classes
        The bundle's classes, offered as choices.

    Returns
    -------
    str
        ``<View>`` with the inputs and a single-choice ``<Choices name="label">``.

    Examples
    --------
    >>> from prudent.data import ColumnSpec, Schema
    >>> s = Schema((ColumnSpec("x", Role.numeric, "float64"),), "y")
    >>> print(labeling_config(s, ["a", "<b>"]))  # doctest: +NORMALIZE_WHITESPACE
    <View> <Table name="input" value="$input"/>
      <Choices name="label" toName="input" choice="single" showInline="true">
      <Choice value="a"/> <Choice value="&lt;b&gt;"/> </Choices> </View>
    """
    text = f'\n  <Text name="{_TEXT}" value="${_TEXT}"/>' if schema.has_text else ""
    choices = "".join(f"\n    <Choice value={quoteattr(str(c))}/>" for c in classes)
    return (
        f'<View>\n  <Table name="{_TABLE}" value="${_TABLE}"/>{text}\n'
        f'  <Choices name="{CONTROL}" toName="{_target(schema)}" choice="single" '
        f'showInline="true">{choices}\n  </Choices>\n</View>'
    )


def _suggestion(
    prediction: str | None, probabilities: Mapping[str, float]
) -> tuple[str, float] | None:
    """The label the service answered with its probability, as the review page and ``prudent
    review list`` show it; the most probable class when the row was deferred without one.

    Examples
    --------
    >>> _suggestion("yes", {"no": 0.9, "yes": 0.1}), _suggestion(None, {"no": 0.9, "yes": 0.1})
    (('yes', 0.1), ('no', 0.9))
    """
    if prediction is not None and prediction in probabilities:
        return prediction, probabilities[prediction]
    ranked = sorted(probabilities.items(), key=lambda kv: -kv[1])
    return ranked[0] if ranked else None


def task_of(case: ReviewCase, schema: Schema) -> dict[str, Any]:
    """One case as a Label Studio task whose prediction is the label the service answered
    (as the review page suggests it).

    Parameters
    ----------
    case
        The review case.
    schema
        The bundle's schema (which inputs are text).

    Returns
    -------
    dict
        ``{"data": {...}, "predictions": [{"model_version", "score", "result"}]}``; no
        prediction when no model answered.
    """
    r = case.record
    inputs = {k: "" if v is None else str(json_value(v)) for k, v in r.inputs.items()}
    data: dict[str, Any] = {ID_FIELD: r.id, _TABLE: inputs, "reason": case.reason or ""}
    if schema.has_text:
        data[_TEXT] = "\n\n".join(inputs.get(n, "") for n in schema.names(Role.text))
    shown = _suggestion(r.prediction, r.probabilities)
    if shown is None:
        return {"data": data, "predictions": []}
    label, score = shown
    result = {
        "from_name": CONTROL,
        "to_name": _target(schema),
        "type": "choices",
        "value": {"choices": [label]},
    }
    prediction = {"model_version": r.model_version, "score": float(score), "result": [result]}
    return {"data": data, "predictions": [prediction]}


@dataclass(frozen=True, slots=True)
class LabelStudioLabels:
    """What an export holds: labels to record, and the tasks passed over with why.

    Parameters
    ----------
    labels
        ``(prediction_id, label, source)``; the source is ``label-studio:<annotator>``.
    skipped
        ``(task, reason)`` for tasks without a usable annotation.
    """

    labels: list[tuple[str, str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _choice(annotation: dict[str, Any]) -> tuple[str | None, str]:
    """The label an annotation chose, or None and why not: no choice, or several (a
    labeling config edited to allow many; the first was taken as the label).

    Examples
    --------
    >>> one = {"type": "choices", "value": {"choices": ["spam"]}}
    >>> _choice({"result": [one]})
    ('spam', '')
    >>> _choice({"result": [{"type": "choices", "value": {"choices": ["a", "b"]}}]})
    (None, "its latest annotation chose 2 labels ('a', 'b'), where a row has one")
    """
    for item in annotation.get("result") or []:
        if not isinstance(item, dict) or item.get("type") != "choices":
            continue
        if item.get("from_name", CONTROL) != CONTROL:
            continue
        choices = (item.get("value") or {}).get("choices") or []
        if len(choices) > 1:
            shown = ", ".join(repr(str(c)) for c in choices[:5])
            return (
                None,
                f"its latest annotation chose {len(choices)} labels ({shown}), where a row has one",
            )
        if choices:
            return str(choices[0]), ""
    return None, f"no '{CONTROL}' choice in its latest annotation"


def _annotator(annotation: dict[str, Any]) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    return f"label-studio:{who}" if who not in (None, "") else "label-studio"


def _latest(annotations: Iterable[Any]) -> tuple[dict[str, Any] | None, str]:
    kept = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled", False)]
    if not kept:
        return None, "no annotation (or every one cancelled)"
    kept.sort(key=lambda a: str(a.get("updated_at") or a.get("created_at") or ""))
    return kept[-1], ""


def read_annotations(tasks: Any) -> LabelStudioLabels:
    """Read a Label Studio JSON export back as labels.

    Parameters
    ----------
    tasks
        The export: a list of tasks, each with ``data.prudent_id`` and ``annotations``.

    Returns
    -------
    LabelStudioLabels
        One label per task with an annotation; the others with the reason they were skipped.

    Raises
    ------
    DataError
        When ``tasks`` is not a list of objects.
    """
    if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
        raise DataError(
            "A Label Studio export is a JSON list of tasks (Export → JSON in Label Studio), "
            f"but {type(tasks).__name__} was received."
        )
    out = LabelStudioLabels()
    for n, task in enumerate(tasks):
        name = str(task.get("id", f"#{n + 1}"))
        pid = (task.get("data") or {}).get(ID_FIELD)
        if not pid:
            out.skipped.append((name, f"its data has no '{ID_FIELD}' (not exported by prudent)"))
            continue
        annotation, why = _latest(task.get("annotations") or [])
        label, why = (None, why) if annotation is None else _choice(annotation)
        if annotation is None or label is None:
            out.skipped.append((name, why))
            continue
        out.labels.append((str(pid), label, _annotator(annotation)))
    return out
