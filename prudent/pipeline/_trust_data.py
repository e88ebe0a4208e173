"""The rows the trust stage reads (:class:`_Data`) and how it parts them: the two stratified
halves of the training rows (A fits the OOD detector, B sets the thresholds) and capped draws."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

from prudent._typing import EncodedLabels, IntArray, Labels
from prudent.data import Schema, check_disjoint, validate_frame
from prudent.errors import SchemaError

__all__: list[str] = []


def validated(frame: pd.DataFrame, schema: Schema, source: str | None) -> pd.DataFrame:
    """A table's inputs validated against ``schema``. From a file (``source``), an error
    names its rows as data rows counted from 1 after the header (the frame's index is their
    position there), as ``prudent predict`` names a new file's; from a frame, by its index
    labels.

    Examples
    --------
    >>> from prudent.data import infer_schema
    >>> s = infer_schema(pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}), "y")
    >>> validated(pd.DataFrame({"x": [3.0, "a"]}), s, "t.csv")
    Traceback (most recent call last):
    prudent.errors.SchemaError: Column 'x' should be numeric, but holds 'a' (data row 2); fix \
or remove such values (null, empty or NA is missing).
    """
    if source is None or not pd.api.types.is_integer_dtype(frame.index):
        return validate_frame(frame, schema)[0]
    X, _ = validate_frame(frame.set_axis(frame.index + 1), schema, rows="data row")
    return X.set_axis(frame.index)


def ood_inputs(
    frame: pd.DataFrame | None, schema: Schema, source: str | None = None
) -> pd.DataFrame | None:
    """The known OOD examples validated against the fit's ``schema``, before any model is
    fitted: a bad value stops the fit at once, not after the candidates' minutes.

    An error says that it is the OOD examples' (``source``: the file they were read from,
    whose rows it names as data rows, counted from 1 after the header; ``None``: a frame,
    named by its index labels), not the training table's.

    Examples
    --------
    >>> from prudent.data import infer_schema
    >>> s = infer_schema(pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}), "y")
    >>> ood_inputs(pd.DataFrame({"x": ["a", 3.0]}), s, "ood.csv")
    Traceback (most recent call last):
    prudent.errors.SchemaError: The OOD examples in 'ood.csv': column 'x' should be numeric, \
but holds 'a' (data row 1); fix or remove such values (null, empty or NA is missing).
    """
    if frame is None:
        return None
    try:
        return validated(frame, schema, source)
    except SchemaError as e:
        where = "The OOD examples" if source is None else f"The OOD examples in '{source}'"
        text = str(e)
        message = f"{where}: {text[:1].lower()}{text[1:]}"
        raise SchemaError(message, field=e.field, problems=e.problems) from None


@dataclass
class _Data:
    """The rows the trust stage reads."""

    schema: Schema
    classes: Labels
    X_train: pd.DataFrame
    y_train: EncodedLabels
    X_test: pd.DataFrame
    y_test: EncodedLabels
    X_ood: pd.DataFrame | None
    folds: IntArray | None = None
    """Per training row, the cross-validation fold whose model scored it out of fold."""
    groups: IntArray | None = None
    """Per training row, its group (``--group``): the halves keep each group on one side."""


def _cap(rows: IntArray, n: int, seed: int) -> IntArray:
    """At most ``n`` of ``rows``, drawn at random, in order."""
    if len(rows) <= n:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, size=n, replace=False))


def _halves(
    y: EncodedLabels, seed: int, groups: IntArray | None = None
) -> tuple[IntArray, IntArray]:
    """Two stratified halves of the training rows; with ``groups``, each group in one half
    (``StratifiedGroupKFold``): the OOD detector fitted on a group's rows in A made B's rows
    of that group look familiar, and the threshold set on them let new groups' rows through
    as OOD three times as often as promised (0.14 against 0.05 on a panel of people)."""
    rows = np.arange(len(y))
    if groups is None or np.unique(groups).size < 2:
        a, b = train_test_split(rows, test_size=0.5, stratify=y, random_state=seed + 17)
    else:
        split = StratifiedGroupKFold(2, shuffle=True, random_state=seed + 17)
        a, b = next(split.split(rows, y, groups))
    check_disjoint(calibration_fit=a, threshold_holdout=b)
    return np.sort(a), np.sort(b)
