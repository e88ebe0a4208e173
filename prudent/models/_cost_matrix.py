"""The cost matrix a user gives (``--costs``): read, and checked before any data or fit.

:func:`parse_costs` reads ``'0,1;10,0'`` or nested numbers; :func:`check_costs` refuses a
matrix no fit can use; :func:`check_cost_classes` checks its size against the classes once
the table is read. The policy that applies it is
:class:`~prudent.models._thresholds.CostPolicy`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from prudent.errors import ConfigError

__all__ = ["check_cost_classes", "check_costs", "parse_costs"]


def parse_costs(value: Any) -> tuple[tuple[float, ...], ...] | None:
    """A cost matrix from ``'0,1;10,0'`` (as ``--costs``) or nested numbers, checked by
    :func:`check_costs` before any data is read.

    Raises
    ------
    ConfigError
        A value is not a number, or the matrix is one no fit can use (:func:`check_costs`).

    Examples
    --------
    >>> parse_costs("0,1;10,0")
    ((0.0, 1.0), (10.0, 0.0))
    >>> parse_costs([[0, 1], [10, 0]])
    ((0.0, 1.0), (10.0, 0.0))
    """
    if value is None:
        return None
    rows_in = value.split(";") if isinstance(value, str) else value
    try:
        rows = tuple(
            tuple(float(v) for v in (r.split(",") if isinstance(r, str) else r)) for r in rows_in
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"costs (--costs) {value!r} is not a matrix of numbers like '0,1;10,0'."
        ) from exc
    check_costs(rows, shown=value)
    return rows


def check_costs(rows: tuple[tuple[float, ...], ...], shown: Any = None) -> None:
    """Refuse a cost matrix no fit can use, whatever the table: one that is not square with
    at least 2 classes, or holds a cost that is negative or not finite, or a right answer
    (the diagonal) that costs anything, or one where no error costs anything.

    ``shown`` is the value as the user wrote it, for the message (default: ``rows``).

    Raises
    ------
    ConfigError
        Naming the matrix, the entry at fault (row: true class, column: predicted, from 1)
        and what it must be.

    Examples
    --------
    >>> check_costs(((0.0, 1.0), (10.0, 0.0)))
    >>> check_costs(((0.0, -1.0), (1.0, 0.0)), shown="0,-1;1,0")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    prudent.errors.ConfigError: costs (--costs) '0,-1;1,0' holds -1.0 at row 1, column 2; ...
    >>> check_costs(((0.0, 0.0), (0.0, 0.0)), shown="0,0;0,0")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    prudent.errors.ConfigError: costs (--costs) '0,0;0,0' costs nothing for any error, ...
    """
    name = f"costs (--costs) {rows if shown is None else shown!r}"
    widths = sorted({len(r) for r in rows})
    if len(rows) < 2 or widths != [len(rows)]:
        raise ConfigError(
            f"{name} must be square: one row and one column per class (at least 2), but it "
            f"has {len(rows)} row(s) of {' or '.join(map(str, widths)) or 0} value(s)."
        )
    for i, row in enumerate(rows):
        for j, cost in enumerate(row):
            at = f"{name} holds {cost} at row {i + 1}, column {j + 1}"
            if not (math.isfinite(cost) and cost >= 0):
                raise ConfigError(
                    f"{at}; every cost must be a finite number >= 0 (the cost of predicting "
                    "the column's class when the row's class is true)."
                )
            if i == j and cost != 0:
                raise ConfigError(f"{at}; the diagonal must be 0 (a right answer costs nothing).")
    if not any(cost > 0 for row in rows for cost in row):
        raise ConfigError(
            f"{name} costs nothing for any error, so every label would be as good as any other; "
            "give each wrong answer its cost (e.g. '0,1;1,0' for two classes, equal costs)."
        )


def check_cost_classes(costs: tuple[tuple[float, ...], ...] | None, classes: Sequence[Any]) -> None:
    """Refuse a cost matrix whose size is not the number of ``classes`` (once they are known,
    when the table is read, not after the fit).

    Raises
    ------
    ConfigError
        Naming both sizes and the classes, in the order the matrix follows.

    Examples
    --------
    >>> check_cost_classes(((0.0, 1.0), (1.0, 0.0)), ["a", "b"])
    >>> check_cost_classes(((0.0, 1.0), (1.0, 0.0)), ["a", "b", "c"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    prudent.errors.ConfigError: costs (--costs) has 2 rows and columns, but the target has 3 ...
    """
    if costs is None or len(costs) == len(classes):
        return
    names = ", ".join(map(str, classes[:10])) + (", ..." if len(classes) > 10 else "")
    raise ConfigError(
        f"costs (--costs) has {len(costs)} rows and columns, but the target has "
        f"{len(classes)} classes ({names}); give one row and one column per class, in this "
        "order."
    )
