"""A request's rows: a table, or the JSON records made into one on the model's thread.

Building a pandas table costs about the same for one row as for a few dozen (its cost is per
column), so the JSON API hands the predictor the records as received (:class:`Records`) and
the micro-batcher builds one table for all the requests it scores together
(:func:`rows_frame`), on the model's thread rather than the event loop's. The V2 API decodes
its tensors into a table directly; both kinds batch together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import pandas as pd

__all__ = ["Records", "Rows", "as_frame", "logged_inputs", "rows_frame"]


@dataclass(frozen=True, eq=False)
class Records:
    """JSON records as received, read as the table of the model's inputs.

    Attributes
    ----------
    records
        One dict per row, keyed by field; only the model's inputs are read, and an input a
        record leaves out is a missing value (None).
    columns
        The model's inputs, in the table's column order.

    Examples
    --------
    >>> rows = Records([{"age": 3, "y": "no"}, {}], ("age", "city"))
    >>> as_frame(rows).to_dict("list")
    {'age': [3.0, nan], 'city': [None, None]}
    >>> logged_inputs(rows)
    [{'age': 3, 'city': None}, {'age': None, 'city': None}]
    """

    records: list[dict[str, Any]]
    columns: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.records)


Rows = pd.DataFrame | Records
"""A request's rows: a table with one column per input, or :class:`Records`."""


def _records_frame(parts: Sequence[Records]) -> pd.DataFrame:
    """One table of every part's records: the inputs the records hold, then the ones none
    holds (None); a key some records leave out is missing there."""
    records = list(chain.from_iterable(p.records for p in parts))
    columns = parts[0].columns
    held = {key for record in records for key in record}
    frame = pd.DataFrame(
        records, columns=[c for c in columns if c in held], index=pd.RangeIndex(len(records))
    )
    absent = {name: None for name in columns if name not in held}
    return frame.assign(**absent) if absent else frame


def as_frame(rows: Rows) -> pd.DataFrame:
    """The rows as a table, one column per input."""
    return _records_frame([rows]) if isinstance(rows, Records) else rows


def rows_frame(parts: Sequence[Rows]) -> pd.DataFrame:
    """The rows of every part in one table, in order (one table built for all the records).

    Parameters
    ----------
    parts
        The requests' rows; records all share one bundle's columns.

    Returns
    -------
    pandas.DataFrame
        With a fresh ``RangeIndex``.
    """
    if parts and all(isinstance(p, Records) for p in parts):
        return _records_frame([p for p in parts if isinstance(p, Records)])
    return pd.concat([as_frame(p) for p in parts], ignore_index=True)


def logged_inputs(rows: Rows) -> list[dict[str, Any]]:
    """The inputs the log stores, one dict per row: the values as received, Python scalars.

    Records keep their JSON values (a left-out input is None); a table gives each row's
    cells, as ``frame.to_dict(orient="records")`` would, in a fraction of its time.
    """
    if isinstance(rows, Records):
        return [{name: r.get(name) for name in rows.columns} for r in rows.records]
    names = [str(c) for c in rows.columns]
    return [dict(zip(names, row, strict=True)) for row in rows.to_numpy(dtype=object).tolist()]
