"""The model's inputs out of a request's columns: extra fields dropped and named, or refused.

Both APIs call :func:`model_inputs` on the table they decoded, then the predictor, whose
``Bundle.predict`` reads the values with :func:`prudent.data.validate_frame` — the same
contract as the library and ``prudent predict``.
"""

from __future__ import annotations

import json

import pandas as pd

from prudent.data import Schema, input_columns

__all__ = ["IGNORED_HEADER", "model_inputs"]

IGNORED_HEADER = "X-Prudent-Ignored-Fields"
"""Answer header: a JSON list of the request's fields that are not model inputs (ignored)."""


def model_inputs(
    frame: pd.DataFrame, schema: Schema, *, strict: bool = False
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Keep the model's inputs of ``frame``; name the fields ignored in an answer header.

    Parameters
    ----------
    frame
        The request's rows, one column per field received.
    schema
        The bundle's schema.
    strict
        Refuse fields that are not model inputs instead of ignoring them.

    Returns
    -------
    tuple of (pandas.DataFrame, dict)
        The input columns (the predictor logs them), and the answer headers to add.

    Raises
    ------
    SchemaError
        With ``strict``, every field that is not an input (listed in ``problems``); no input
        field at all.

    Examples
    --------
    >>> from prudent.data import ColumnSpec, Role
    >>> schema = Schema((ColumnSpec("age", Role.numeric, "float64"),), target="y")
    >>> kept, headers = model_inputs(pd.DataFrame({"age": ["3"], "y": ["no"]}), schema)
    >>> list(kept.columns), headers
    (['age'], {'X-Prudent-Ignored-Fields': '["y"]'})
    """
    columns = input_columns(list(frame.columns), schema, strict=strict)
    if not columns.ignored:
        return frame, {}
    header = json.dumps(list(columns.ignored), ensure_ascii=True)
    return frame.drop(columns=list(columns.ignored)), {IGNORED_HEADER: header}
