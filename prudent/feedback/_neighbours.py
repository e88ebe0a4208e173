"""The training examples nearest a case, for the reviewer to compare with.

A bundle keeps up to 2,000 of its training rows with their labels (``train_rows.parquet``, a
uniform sample, fewer when long texts would make the file exceed 8 MB). A bundle saved before
it kept them offers the up to 2,000 labelled rows of its locked test set instead
(``test_rows.parquet``, drawn like the training data), and says so. The nearest rows are found
with a distance that needs no fitted model: per column, a number's difference in units of that
column's spread (its interquartile range in training, from the training values the bundle
keeps; in the rows themselves for a bundle saved before it kept them; else the standard
deviation), capped at 1; a category's or
boolean's mismatch (0 or 1); a text's word-set Jaccard distance; the mean over the columns
both rows have.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from prudent.bundle import LABEL_COLUMN, ROW_COLUMN, TEST_ROWS_FILE
from prudent.data import Role, Schema
from prudent.models import TrainingValues

if TYPE_CHECKING:
    from prudent.bundle import Bundle

__all__ = ["NearestRows", "Neighbour", "category_key"]

_SOURCES = (("train_rows.parquet", "training"), (TEST_ROWS_FILE, "held-out"))
"""Where the rows come from, preferred first: the training sample, else the locked test rows."""


@dataclass(frozen=True, slots=True)
class Neighbour:
    """One reference row near a case: its true label, distance (0 same, 1 far) and inputs;
    its row in the training file (None when unknown) and whether it is a ``"training"`` or a
    ``"held-out"`` row."""

    label: str
    distance: float
    inputs: Mapping[str, Any]
    row: int | None = None
    source: str = "training"


_TRUE = frozenset({"true", "1", "1.0", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "0.0", "no", "n", "f"})


def category_key(value: Any, boolean: bool = False) -> str:
    """Categories compare as lower-case text; booleans as ``"true"`` or ``"false"``.

    Examples
    --------
    >>> category_key(" Yes ", boolean=True), category_key(1.0, boolean=True), category_key("A")
    ('true', 'true', 'a')
    """
    text = str(value).strip().lower()
    if boolean and (text in _TRUE or text in _FALSE):
        return "true" if text in _TRUE else "false"
    return text


def _shown(value: Any, role: Role) -> Any:
    """A reference row's value as a reviewer reads it: a boolean as ``true`` or ``false``
    (the rows keep it as 1.0 or 0.0), anything else as kept.

    Examples
    --------
    >>> _shown(0.0, Role.boolean), _shown(1.0, Role.boolean), _shown(0.0, Role.numeric)
    ('false', 'true', 0.0)
    """
    if role is Role.boolean and not pd.isna(value):
        return category_key(value, boolean=True)
    return value


def _words(value: Any) -> frozenset[str]:
    return frozenset(str(value).lower().split()) if value is not None else frozenset()


class NearestRows:
    """The bundle's labelled reference rows, ready to search.

    Parameters
    ----------
    frame
        Reference rows with their inputs and a ``__label__`` column.
    schema
        The column roles.
    seen
        The training values the bundle keeps: the numbers' spreads come from the training
        rows' quartiles (else from ``frame``'s).
    source
        ``"training"`` or ``"held-out"``: what the rows are, as the page says.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        schema: Schema,
        seen: TrainingValues | None = None,
        source: str = "training",
    ) -> None:
        self.frame = frame.reset_index(drop=True)
        self.schema = schema
        self.source = source
        self.columns = [c for c in schema.features if c.name in frame.columns]
        self.scales: dict[str, float] = {}
        for c in self.columns:
            if c.role is Role.numeric:
                values = pd.to_numeric(self.frame[c.name], errors="coerce")
                quartiles = values.quantile([0.25, 0.75]).to_numpy()
                if seen is not None and c.name in seen.numbers:
                    quartiles = seen.numbers[c.name][1:3]
                spread = float(quartiles[1] - quartiles[0])
                sd = float(values.std())
                # equal values give a standard deviation of rounding noise, not 0
                noise = 1e-9 * max(
                    1.0, float(np.nanmax(np.abs(values))) if values.notna().any() else 1.0
                )
                self.scales[c.name] = spread if spread > 0 else (sd if sd > noise else 1.0)

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> NearestRows | None:
        """The training rows of a saved bundle (its locked test rows when it keeps none);
        None when it keeps no labelled rows."""
        for name, source in _SOURCES:
            path = None if bundle.path is None else bundle.path / name
            if path is None or not path.is_file():
                continue
            frame = pd.read_parquet(path)
            if LABEL_COLUMN not in frame.columns or not len(frame):
                continue
            classes = bundle.classes  # the rows keep the encoded label: show the class itself
            if pd.api.types.is_integer_dtype(frame[LABEL_COLUMN]):
                frame[LABEL_COLUMN] = [str(classes[int(v)]) for v in frame[LABEL_COLUMN]]
            return cls(frame, bundle.schema, bundle.model.training_values, source)
        return None

    def _column_distance(self, name: str, role: Role, value: Any) -> np.ndarray[Any, Any]:
        column = self.frame[name]
        if role is Role.numeric:
            x = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
            diff = (pd.to_numeric(column, errors="coerce") - x).abs() / self.scales[name]
            return np.asarray(np.minimum(diff.to_numpy(dtype=float), 1.0), dtype=float)
        if role is Role.text:
            mine = _words(value)
            return np.array([1 - len(mine & _words(v)) / (len(mine | _words(v)) or 1)
                             for v in column], dtype=float)  # fmt: skip
        boolean = role is Role.boolean
        key = category_key(value, boolean)
        differ = [0.0 if category_key(v, boolean) == key else 1.0 for v in column]
        return np.where(column.isna().to_numpy(), np.nan, np.asarray(differ, dtype=float))

    def nearest(self, inputs: Mapping[str, Any], k: int = 3) -> tuple[Neighbour, ...]:
        """The ``k`` rows nearest ``inputs``, nearest first.

        Parameters
        ----------
        inputs
            A case's inputs by column.
        k
            How many rows.

        Returns
        -------
        tuple of Neighbour
            Fewer when there are fewer rows; none when no column can be compared.
        """
        parts = [
            self._column_distance(c.name, c.role, inputs[c.name])
            for c in self.columns
            if inputs.get(c.name) is not None
        ]
        if not parts:
            return ()
        with warnings.catch_warnings():  # a row sharing no column is NaN, left out below
            warnings.simplefilter("ignore", RuntimeWarning)
            distance = np.nanmean(np.vstack(parts), axis=0)
        order = np.argsort(np.where(np.isnan(distance), np.inf, distance), kind="stable")[:k]
        roles = {c.name: c.role for c in self.columns}
        rows = self.frame[ROW_COLUMN].to_numpy() if ROW_COLUMN in self.frame.columns else None
        return tuple(
            Neighbour(
                str(self.frame.at[i, LABEL_COLUMN]),
                float(distance[i]),
                {n: _shown(self.frame.at[i, n], role) for n, role in roles.items()},
                None if rows is None else int(rows[i]),
                self.source,
            )
            for i in order
            if np.isfinite(distance[i])
        )
