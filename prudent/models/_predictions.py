"""One typed prediction result, and the one table of output columns every face is built from.

:class:`Predictions` is what a batch of rows produced: the arrays (probabilities, OOD score,
prediction set) and the decisions with their typed kinds and reasons. :data:`OUTPUT_COLUMNS`
says, once, which columns a prediction has, of which kind, and how each is read from a
:class:`Predictions`. The prediction table (``Bundle.predict``, ``prudent predict``), the JSON
API's response schema and rows, the V2 output tensors and the prediction log's record are all
derived from it: a new output column is one entry here.
"""

from __future__ import annotations

import enum
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from prudent._json import json_value
from prudent._typing import BoolArray, FloatArray, Labels, ProbaMatrix
from prudent.models._decisions import DecisionKind, Decisions, DeferReason
from prudent.models._thresholds import CostPolicy

__all__ = [
    "OUTPUT_COLUMNS",
    "ColumnKind",
    "OutputColumn",
    "OutputField",
    "Predictions",
    "output_columns",
    "output_fields",
]


class ColumnKind(enum.Enum):
    """How an output column's values are typed; each face maps a kind to its own type."""

    LABEL = "label"
    """A class label, or ``None`` (JSON: the label or null; V2: ``BYTES``, ``""`` for none)."""
    NUMBER = "number"
    """A float, NaN when missing (JSON: number or null; V2: ``FP64``)."""
    FLAG = "flag"
    """A boolean (JSON: true/false; V2: ``BOOL``)."""
    LABELS = "labels"
    """A set of class labels (JSON and Python: a list; V2 and files: its JSON text)."""
    TEXT = "text"
    """Text, or ``None`` when ``nullable`` (JSON: string or null; V2: ``BYTES``)."""


@dataclass(frozen=True, eq=False)
class Predictions:
    """What a batch of rows produced: scores, prediction sets and decisions, row-aligned.

    Parameters
    ----------
    classes
        The class labels, in the column order of ``probabilities`` and ``prediction_set``.
    probabilities
        Per row and class, the probabilities shown (the calibrated primary's; the backup's
        when it answered alone; NaN when no model answered), shape ``(n, k)``.
    ood_score
        One out-of-distribution score per row, NaN when no detector ran.
    is_ood
        Whether each row's score passes the detector's threshold.
    prediction_set
        Per row and class, whether the class is in the row's prediction set, shape ``(n, k)``.
    decisions
        The decision of every row (:func:`~prudent.models.decide`).
    class_weights
        The label rule of the policy (``CascadePolicy.class_weights``): a row without a
        decided label shows the class of highest ``weight * probability``; ``None``: the top
        class.
    unknown_values
        Per row, the tuple of input columns holding a value the training rows never held
        (``TrainingValues``: beyond the range seen plus its margin, an unseen category, an
        empty or out-of-vocabulary text); ``None`` when not checked (a bundle saved before
        prudent kept its training values, or no input rows).
    cost_policy
        The policy's cost matrix (``CascadePolicy.cost_policy``), when one decides: a row
        without a decided label then shows its cheapest class, the label the policy gives.

    Examples
    --------
    >>> from prudent.models import CascadePolicy, decide
    >>> P = np.array([[0.9, 0.1], [0.4, 0.6]])
    >>> d = decide(CascadePolicy(0.8), classes=["no", "yes"], primary_proba=P)
    >>> p = Predictions(np.array(["no", "yes"]), P, np.full(2, np.nan), np.zeros(2, bool),
    ...                 P >= 0.5, d)
    >>> p.prediction.tolist(), [str(k) for k in p.decision]
    (['no', 'yes'], ['accept', 'review'])
    >>> p.to_frame()[["prediction", "prediction_set", "decision", "defer_reason"]]
      prediction prediction_set decision    defer_reason
    0         no         ["no"]   accept             NaN
    1        yes        ["yes"]   review  low_confidence
    """

    classes: Labels
    probabilities: ProbaMatrix
    ood_score: FloatArray
    is_ood: BoolArray
    prediction_set: BoolArray
    decisions: Decisions
    class_weights: tuple[float, ...] | None = None
    unknown_values: npt.NDArray[np.object_] | None = None
    cost_policy: CostPolicy | None = None
    _plain: list[list[Any]] = field(init=False, default_factory=list, repr=False)
    _whole: tuple[Predictions, slice] | None = field(init=False, default=None, repr=False)

    def _shown_index(self, shown: Any) -> npt.NDArray[np.int64]:
        P = self.probabilities[shown]
        if self.cost_policy is not None:
            return self.cost_policy.choose(P)[0]
        if self.class_weights is not None:
            P = P * np.asarray(self.class_weights)
        return np.asarray(P.argmax(axis=1), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.decisions)

    def part(self, rows: slice) -> Predictions:
        """The predictions of ``rows`` only (one request's share of a served batch).

        Its :meth:`rows` and :meth:`records` are sliced from the whole's, made once for every
        part: their cost is mostly per column, not per row.
        """
        unknown = self.unknown_values
        out = replace(
            self,
            probabilities=self.probabilities[rows],
            ood_score=self.ood_score[rows],
            is_ood=self.is_ood[rows],
            prediction_set=self.prediction_set[rows],
            decisions=self.decisions.part(rows),
            unknown_values=None if unknown is None else unknown[rows],
        )
        object.__setattr__(out, "_whole", (self, rows))
        return out

    def _plain_columns(self) -> list[list[Any]]:
        """Each output field's plain values (:meth:`OutputField.plain`), in order, made once."""
        if not self._plain:
            if self._whole is None:
                plain = [f.plain(self) for f in output_fields(self.classes)]
            else:
                whole, rows = self._whole
                plain = [values[rows] for values in whole._plain_columns()]
            self._plain[:] = plain  # whole, at once: a second thread making them replaces them
        return self._plain

    @property
    def prediction(self) -> npt.NDArray[np.object_]:
        """The label of each row: the decision's, else the top class shown, else ``None``."""
        out = np.full(len(self), None, dtype=object)
        shown = ~np.isnan(self.probabilities).any(axis=1) if len(self) else np.zeros(0, bool)
        out[shown] = self.classes[self._shown_index(shown)]
        position, given = self._label_positions()
        if (position[given] < 0).any():  # a decision names no class: as a lookup would fail
            raise KeyError(self.decisions.label[given[position[given] < 0][0]])
        out[given] = self.classes[position[given]]
        return out

    def _label_positions(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
        """Each row's decided label as a position in ``classes`` (decisions speak class names;
        -1 for none or a name no class has), and the rows with a label."""
        names = {str(c): i for i, c in enumerate(self.classes.tolist())}
        labels = list(self.decisions.label)
        found = map(names.get, labels, itertools.repeat(-1))  # a C loop over the rows
        position = np.fromiter(found, dtype=np.int64, count=len(labels))
        given = np.flatnonzero(np.asarray(labels, dtype=object) != None)  # noqa: E711 - per row
        return position, given

    @property
    def confidence(self) -> FloatArray:
        """The probability of each row's shown label (NaN when no model answered).

        With the label rule's weights this is still the calibrated probability of the label
        shown, not the top probability.
        """
        if not len(self):
            return np.zeros(0)
        shown = ~np.isnan(self.probabilities).any(axis=1)
        top = np.full(len(self), np.nan)
        rows = np.flatnonzero(shown)
        top[shown] = self.probabilities[rows, self._shown_index(shown)]
        position = self._label_positions()[0]
        labelled = rows[position[rows] >= 0]
        top[labelled] = self.probabilities[labelled, position[labelled]]
        return top

    @property
    def unknown_columns(self) -> npt.NDArray[np.object_]:
        """Each row's columns with an unknown value, comma-separated; ``None`` when none."""
        out = np.full(len(self), None, dtype=object)
        if self.unknown_values is not None:
            for i, names in enumerate(self.unknown_values.tolist()):
                if names:
                    out[i] = ", ".join(names)
        return out

    @property
    def decision(self) -> npt.NDArray[np.object_]:
        """Each row's :class:`~prudent.models.DecisionKind`."""
        return self.decisions.kind

    @property
    def reason(self) -> npt.NDArray[np.object_]:
        """Each row's reason, as a sentence for people."""
        return self.decisions.reason

    @property
    def defer_reason(self) -> npt.NDArray[np.object_]:
        """Each row's :class:`~prudent.models.DeferReason`, ``None`` unless it goes to review."""
        return self.decisions.defer_reason

    def to_frame(self, index: pd.Index | None = None, *, lists: bool = False) -> pd.DataFrame:
        """The prediction table: the columns of :func:`output_columns`, one row per row.

        Labels keep their type, numbers are float (NaN when missing), decisions and reasons
        are text (missing for no defer reason). The prediction set is its JSON text (files),
        or with ``lists`` a Python list of labels (``Bundle.predict``).
        """
        fields = output_fields(self.classes)
        data = {f.name: _frame_values(f, self, lists) for f in fields}
        return pd.DataFrame(data, index=index, columns=[f.name for f in fields])

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per row, keyed by output column (NaN as ``None``)."""
        names = [f.name for f in output_fields(self.classes)]
        columns = self._plain_columns()
        return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]

    def records(self) -> list[dict[str, Any]]:
        """One dict per row keyed by each column's ``key`` (the prediction log's record fields).

        Per-class columns are gathered into one mapping ``{class: value}`` (missing dropped).
        """
        out: list[dict[str, Any]] = [{} for _ in range(len(self))]
        for f, values in zip(output_fields(self.classes), self._plain_columns(), strict=True):
            for row, value in zip(out, values, strict=True):
                if f.class_index is None:
                    row[f.column.key] = value
                elif value is not None:
                    row.setdefault(f.column.key, {})[json_value(f.label)] = value
                else:
                    row.setdefault(f.column.key, {})
        return out


@dataclass(frozen=True)
class OutputColumn:
    """One entry of the output table.

    Parameters
    ----------
    name
        The column's name; with ``per_class``, a template with ``{label}``.
    kind
        How its values are typed.
    description
        What it holds, for people (shown in the API documentation).
    get
        Reads the column from a :class:`Predictions`: one value per row, or, with
        ``per_class``, one per row and class.
    per_class
        One column per class (e.g. ``proba_<class>``).
    choices
        The allowed values of a text column (an enum), if any.
    nullable
        Whether a text column may be ``None``.
    key
        The field of the prediction log's record holding it; ``name`` by default.
    """

    name: str
    kind: ColumnKind
    description: str
    get: Callable[[Predictions], npt.NDArray[Any]]
    per_class: bool = False
    choices: tuple[str, ...] | None = None
    nullable: bool = False
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.name)


OUTPUT_COLUMNS: tuple[OutputColumn, ...] = (
    OutputColumn(
        "prediction",
        ColumnKind.LABEL,
        "The label given; for a review, the primary model's top label (null when no model "
        "answered).",
        lambda p: p.prediction,
    ),
    OutputColumn(
        "confidence",
        ColumnKind.NUMBER,
        "The top probability shown (null when no model answered).",
        lambda p: p.confidence,
    ),
    OutputColumn(
        "proba_{label}",
        ColumnKind.NUMBER,
        "The probability of the class.",
        lambda p: p.probabilities,
        per_class=True,
        key="probabilities",
    ),
    OutputColumn(
        "ood_score",
        ColumnKind.NUMBER,
        "How unlike the training rows the row is (higher is stranger; null without detector).",
        lambda p: p.ood_score,
    ),
    OutputColumn(
        "is_ood", ColumnKind.FLAG, "Whether the row is out of distribution.", lambda p: p.is_ood
    ),
    OutputColumn(
        "unknown_values",
        ColumnKind.TEXT,
        "The input columns holding a value the training rows never held (beyond the range "
        "seen plus a margin of three interquartile ranges, a sign never seen, an unseen "
        "category, an empty or out-of-vocabulary text), comma-separated; null when none, or "
        "when the bundle keeps no training values.",
        lambda p: p.unknown_columns,
        nullable=True,
    ),
    OutputColumn(
        "prediction_set",
        ColumnKind.LABELS,
        "The labels the true one is among, at the bundle's conformal coverage.",
        lambda p: p.prediction_set,
    ),
    OutputColumn(
        "decision",
        ColumnKind.TEXT,
        "Who answered: the primary model (accept), a rule, the backup model, or people (review).",
        lambda p: p.decision,
        choices=tuple(k.value for k in DecisionKind),
    ),
    OutputColumn("reason", ColumnKind.TEXT, "Why, as a sentence for people.", lambda p: p.reason),
    OutputColumn(
        "defer_reason",
        ColumnKind.TEXT,
        "Why the row goes to review (null when it does not).",
        lambda p: p.defer_reason,
        choices=tuple(r.value for r in DeferReason),
        nullable=True,
    ),
)
"""The output table: every face of a prediction is derived from these entries, in order."""


@dataclass(frozen=True)
class OutputField:
    """One column of a bundle's prediction table: an entry, with its class when per-class."""

    column: OutputColumn
    name: str
    class_index: int | None = None
    label: Any = None

    @property
    def kind(self) -> ColumnKind:
        """The column's kind."""
        return self.column.kind

    def values(self, predictions: Predictions) -> npt.NDArray[Any]:
        """The column's values, one per row."""
        got = np.asarray(self.column.get(predictions))
        return got if self.class_index is None else got[:, self.class_index]

    def plain(self, predictions: Predictions) -> list[Any]:
        """The column's values as plain JSON-ready Python (NaN as ``None``), one per row."""
        if self.kind is ColumnKind.LABELS:
            return set_labels(self.values(predictions), predictions.classes)
        values: list[Any] = json_value(self.values(predictions))
        return values


def output_fields(classes: Labels | list[Any]) -> list[OutputField]:
    """The output table expanded for ``classes``: one field per column, in order.

    Examples
    --------
    >>> [f.name for f in output_fields(["no", "yes"])][:4]
    ['prediction', 'confidence', 'proba_no', 'proba_yes']
    """
    out: list[OutputField] = []
    for column in OUTPUT_COLUMNS:
        if not column.per_class:
            out.append(OutputField(column, column.name))
            continue
        for i, c in enumerate(classes):
            out.append(OutputField(column, column.name.format(label=c), i, c))
    return out


def output_columns(classes: Labels | list[Any]) -> list[str]:
    """The columns of a prediction table, in order.

    Examples
    --------
    >>> output_columns(["no", "yes"])[:4]
    ['prediction', 'confidence', 'proba_no', 'proba_yes']
    >>> output_columns(["no", "yes"])[4:7]
    ['ood_score', 'is_ood', 'unknown_values']
    >>> output_columns(["no", "yes"])[7:]
    ['prediction_set', 'decision', 'reason', 'defer_reason']
    """
    return [f.name for f in output_fields(classes)]


def _distinct_sets(mask: BoolArray, classes: Labels) -> tuple[list[list[Any]], list[int]]:
    """The distinct prediction sets (labels as plain Python values) and each row's index."""
    plain = json_value(np.asarray(classes))
    m = np.asarray(mask, dtype=bool).reshape(-1, len(plain))
    if len(m) == 0:
        return [], []
    # rows as bytes: one hashable key per row, so finding the distinct sets is a 1-d unique
    keys = np.packbits(m, axis=1)
    keys = np.ascontiguousarray(keys).view(f"V{keys.shape[1]}").ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    sets = [[c for c, x in zip(plain, row, strict=True) if x] for row in m[first]]
    return sets, inverse.ravel().tolist()


def set_labels(mask: BoolArray, classes: Labels) -> list[list[Any]]:
    """The labels of each row's prediction set, as plain Python values (one list per row)."""
    sets, rows = _distinct_sets(mask, classes)
    return [list(sets[i]) for i in rows]


def _frame_values(f: OutputField, p: Predictions, lists: bool = False) -> Any:
    values = f.values(p)
    if f.kind is ColumnKind.NUMBER:
        return values.astype(np.float64)
    if f.kind is ColumnKind.FLAG:
        return values.astype(bool)
    if f.kind is ColumnKind.LABELS:
        if lists:
            return set_labels(values, p.classes)
        sets, rows = _distinct_sets(values, p.classes)
        texts = [json.dumps(s) for s in sets]
        return [texts[i] for i in rows]
    if f.kind is ColumnKind.TEXT:  # pandas' text dtype even when every row is missing
        return pd.array([None if v is None else str(v) for v in values], dtype="str")
    return values
