"""The key under which a fit's CPU costs are recorded (:func:`~prudent._costs.fit_key`): its
table, options, OOD examples and where its folds run, options read canonically."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pandas as pd

from prudent._costs import fit_key
from prudent.pipeline._parallel import TaskRunner
from prudent.pipeline._spec import FitSpec

__all__: list[str] = []


def _canonical(value: Any) -> Any:
    """An option as the key reads it: numbers as floats, so that ``time_limit=15`` from
    Python and ``--time-limit 15`` (a float) on the command line are the same fit.

    Examples
    --------
    >>> _canonical(15) == _canonical(15.0), _canonical(True), _canonical(((0, 1), (2, 0)))
    (True, True, ((0.0, 1.0), (2.0, 0.0)))
    """
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, tuple | list):
        return tuple(_canonical(v) for v in value)
    return value


def _fit_key(
    frame: pd.DataFrame,
    spec: FitSpec,
    ood_examples: pd.DataFrame | None,
    runner: TaskRunner | None,
) -> str | None:
    """The key of a fit's recorded costs: its table, options, OOD examples and where its
    folds run (:func:`~prudent._costs.fit_key`)."""
    options = [(f.name, _canonical(getattr(spec, f.name))) for f in fields(spec)]
    parts: list[bytes | str] = [repr(options), f"runner {type(runner).__name__}"]
    for table in (frame, ood_examples):
        if table is None:
            parts.append("none")
            continue
        parts.append(repr([(str(c), str(t)) for c, t in table.dtypes.items()]))
        try:
            parts.append(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
        except (TypeError, ValueError, AttributeError, OverflowError):
            # cells pandas cannot hash (e.g. lists): validation names them; nothing is kept
            return None
    return fit_key(*parts)
