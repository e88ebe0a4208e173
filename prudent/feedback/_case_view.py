"""A review case as people read it: fields by name, unusual values marked, the model's answer.

What counts as unusual comes from the rows the bundle keeps as evidence
(``test_rows.parquet``: up to 2,000 rows of the locked test set, drawn like the training
data): a number outside their range, or a category none of them has, is marked. The bundle
keeps no copy of its training rows, so this is the range of those rows, and the page says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from prudent.data import Role, Schema
from prudent.feedback._neighbours import NearestRows, Neighbour, category_key
from prudent.store import ReviewCase

if TYPE_CHECKING:
    from prudent.bundle import Bundle

__all__ = ["REASON_TEXT", "CaseView", "FieldView", "SeenValues", "case_view"]

REASON_TEXT: dict[str, str] = {
    "low_confidence": "the model's confidence is below the threshold it was fitted to keep",
    "out_of_distribution": "the input is unlike the rows the model learnt from",
    "stage_disagreement": "the model's stages disagree",
    "rule": "a rule sends such inputs to review",
    "models_failed": "no model answered (failed or past its deadline)",
    "audit": "an accepted prediction drawn at random to measure accuracy without bias",
}
"""Why a case is in the queue, in words, by reason."""

_EVIDENCE = "test_rows.parquet"
_CATEGORY_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class SeenValues:
    """The values the model's reference rows hold, per input column.

    Parameters
    ----------
    ranges
        ``column → (lowest, highest)`` for numeric columns.
    categories
        ``column → the set of values seen`` for categorical and boolean columns.
    rows
        How many reference rows they come from (0: nothing is marked).
    booleans
        The boolean columns (``1``, ``"yes"`` and ``True`` are the same value there).
    """

    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    categories: Mapping[str, frozenset[str]] = field(default_factory=dict)
    rows: int = 0
    booleans: frozenset[str] = frozenset()

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, schema: Schema) -> SeenValues:
        """Collect the ranges and categories of ``frame``'s input columns.

        Parameters
        ----------
        frame
            Reference rows.
        schema
            The column roles (text and unknown columns are left out).

        Returns
        -------
        SeenValues
            Per column.

        Examples
        --------
        >>> from prudent.data import infer_schema
        >>> f = pd.DataFrame({"x": [1.0, 3.0, 2.0], "c": ["a", "b", "a"], "y": [0, 1, 0]})
        >>> seen = SeenValues.from_frame(f, infer_schema(f, "y", categorical=["c"]))
        >>> seen.ranges["x"], sorted(seen.categories["c"])
        ((1.0, 3.0), ['a', 'b'])
        """
        ranges: dict[str, tuple[float, float]] = {}
        categories: dict[str, frozenset[str]] = {}
        for spec in schema.features:
            if spec.name not in frame.columns:
                continue
            column = frame[spec.name].dropna()
            if spec.role is Role.numeric and len(column):
                values = pd.to_numeric(column, errors="coerce").dropna()
                if len(values):
                    ranges[spec.name] = (float(values.min()), float(values.max()))
            elif spec.role in (Role.categorical, Role.boolean):
                boolean = spec.role is Role.boolean
                seen = {category_key(v, boolean) for v in column.unique()[:_CATEGORY_LIMIT]}
                categories[spec.name] = frozenset(seen)
        booleans = frozenset(schema.names(Role.boolean))
        return cls(ranges, categories, len(frame), booleans)

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> SeenValues:
        """Read the reference rows a saved bundle keeps; nothing when it keeps none.

        Parameters
        ----------
        bundle
            A loaded bundle.

        Returns
        -------
        SeenValues
            Empty (marks nothing) for an unsaved bundle or one without evidence rows.
        """
        path = None if bundle.path is None else bundle.path / _EVIDENCE
        if path is None or not path.is_file():
            return cls()
        return cls.from_frame(pd.read_parquet(path), bundle.schema)

    def note(self, name: str, value: Any) -> str:
        """Say why ``value`` of column ``name`` is unusual; empty when it is not.

        Parameters
        ----------
        name
            The column.
        value
            The value received.

        Returns
        -------
        str
            E.g. ``"above the reference rows (max 7.9)"``, ``"a category not in the
            reference rows"``, or ``""``.
        """
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        if name in self.ranges:
            low, high = self.ranges[name]
            number = _number(value)
            if number is not None and number < low:
                return f"below the reference rows (min {low:g})"
            if number is not None and number > high:
                return f"above the reference rows (max {high:g})"
        elif name in self.categories and (
            category_key(value, name in self.booleans) not in self.categories[name]
        ):
            return "a category not in the reference rows"
        return ""


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


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
    case: ReviewCase, schema: Schema, seen: SeenValues, nearest: NearestRows | None = None
) -> CaseView:
    """Build what the page shows of ``case``.

    Parameters
    ----------
    case
        The review case.
    schema
        The bundle's schema: the fields' order and roles.
    seen
        The reference values, to mark unusual ones.
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
    fields = tuple(
        FieldView(n, roles.get(n, "other"), r.inputs.get(n), seen.note(n, r.inputs.get(n)))
        for n in names
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
