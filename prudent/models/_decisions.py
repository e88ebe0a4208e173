"""What a decision is: its kind, why a row went to review, and the decisions of a batch.

:func:`prudent.models.decide` makes them; every face (the prediction table, the JSON and V2
answers, the prediction log) carries the same two enums, never free text alone.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from prudent._typing import BoolArray, FloatArray

__all__ = ["Decision", "DecisionKind", "Decisions", "DeferReason"]


class DecisionKind(enum.StrEnum):
    """Who answered a row: the primary model, a rule, the backup model, or nobody (review)."""

    ACCEPT = "accept"
    RULE = "rule"
    BACKUP = "backup"
    REVIEW = "review"


class DeferReason(enum.StrEnum):
    """Why a row was sent to human review."""

    LOW_CONFIDENCE = "low_confidence"
    OUT_OF_DISTRIBUTION = "out_of_distribution"
    STAGE_DISAGREEMENT = "stage_disagreement"
    RULE = "rule"
    MODELS_FAILED = "models_failed"
    """Neither model answered (failed or past the deadline)."""


@dataclass(frozen=True)
class Decision:
    """The decision for one row.

    Parameters
    ----------
    label
        The label given, or ``None`` when the row goes to review.
    kind
        Who answered.
    reason
        A short sentence for people, e.g. ``"confidence 0.93 ≥ threshold 0.91"``.
    defer_reason
        Why the row goes to review; ``None`` when it does not.
    confidence
        The probability of ``label`` from the stage that gave it; for a review, the primary's
        top probability; ``nan`` for rules and when no model answered.
    """

    label: str | None
    kind: DecisionKind
    reason: str
    defer_reason: DeferReason | None = None
    confidence: float = math.nan

    @property
    def deferred(self) -> bool:
        """Whether the row goes to review."""
        return self.kind is DecisionKind.REVIEW


@dataclass(frozen=True, eq=False)
class Decisions:
    """Decisions for many rows, as parallel arrays (``None`` where a field does not apply).

    Parameters
    ----------
    label
        The label given (a class name), or ``None`` for review.
    kind
        Each row's :class:`DecisionKind`.
    reason
        A short sentence per row.
    defer_reason
        Each row's :class:`DeferReason`, or ``None``.
    confidence
        The probability behind each row's label (see :class:`Decision`).
    """

    label: npt.NDArray[np.object_]
    kind: npt.NDArray[np.object_]
    reason: npt.NDArray[np.object_]
    defer_reason: npt.NDArray[np.object_]
    confidence: FloatArray

    def __len__(self) -> int:
        return len(self.kind)

    def __getitem__(self, i: int) -> Decision:
        return Decision(
            label=self.label[i],
            kind=self.kind[i],
            reason=str(self.reason[i]),
            defer_reason=self.defer_reason[i],
            confidence=float(self.confidence[i]),
        )

    def part(self, rows: slice) -> Decisions:
        """The decisions of ``rows`` only."""
        return Decisions(
            self.label[rows],
            self.kind[rows],
            self.reason[rows],
            self.defer_reason[rows],
            self.confidence[rows],
        )

    @property
    def deferred(self) -> BoolArray:
        """Per row, whether it goes to review."""
        return np.asarray(self.kind == DecisionKind.REVIEW, dtype=bool)

    def to_list(self) -> list[Decision]:
        """One :class:`Decision` per row."""
        return [self[i] for i in range(len(self))]

    def to_frame(self) -> pd.DataFrame:
        """The decisions as a frame, one column per field (enum values as text)."""
        return pd.DataFrame(
            {
                "label": pd.Series(self.label, dtype=object),
                "kind": pd.Series([str(k) for k in self.kind], dtype=str),
                "reason": pd.Series(self.reason, dtype=str),
                "defer_reason": pd.Series(
                    [None if d is None else str(d) for d in self.defer_reason], dtype=object
                ),
                "confidence": self.confidence,
            }
        )
