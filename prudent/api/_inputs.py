"""The model's inputs out of a request's columns: extra fields dropped and named, or refused.

The V2 API calls :func:`model_inputs` on the table it decoded, the JSON API
:func:`record_inputs` on its records; then the predictor, whose ``Bundle.predict`` reads the
values with :func:`prudent.data.validate_frame` — the same contract as the library and
``prudent predict``.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from prudent.api._errors import ApiError
from prudent.api._schemas import InferenceRequest
from prudent.api._text import check_texts
from prudent.api._v2_codec import output_metadata
from prudent.data import Schema, input_columns, refuse_look_alikes
from prudent.errors import FieldProblem, SchemaError
from prudent.serve import Records

__all__ = [
    "IGNORED_COUNT_HEADER",
    "IGNORED_HEADER",
    "IGNORED_HEADER_CHARS",
    "MIN_NAME_CHARS",
    "check_tensor_names",
    "model_inputs",
    "record_inputs",
]

IGNORED_HEADER = "X-Prudent-Ignored-Fields"
"""Answer header: a JSON list of the request's fields that are not model inputs (ignored),
the first ones that fit in :data:`IGNORED_HEADER_CHARS` characters."""
IGNORED_COUNT_HEADER = "X-Prudent-Ignored-Count"
"""Answer header beside it: how many fields were ignored, all of them."""
IGNORED_HEADER_CHARS = 4096
"""Longest list of ignored fields the answer's header holds: servers and proxies refuse or cut
answers whose headers pass 8-16 KB, and a request may give thousands of fields of up to 256
characters each (a header of 2.6 MB for 10,000 of them)."""
MIN_NAME_CHARS = 256
"""Longest tensor name a V2 request may give, unless the model's own names are longer."""


def check_tensor_names(header: InferenceRequest, schema: Schema, classes: list[Any]) -> None:
    """Refuse a V2 tensor name longer than :data:`MIN_NAME_CHARS` and than every name of the
    model: any column name of the training file is taken, however long.

    Raises
    ------
    ApiError
        400 naming the field (``inputs.4.name``) and the longest name the model has.

    Examples
    --------
    >>> from prudent.data import ColumnSpec, Role
    >>> schema = Schema((ColumnSpec("x" * 300, Role.numeric, "float64"),), target="y")
    >>> tensor = {"name": "x" * 300, "shape": [1], "datatype": "FP64", "data": [1.0]}
    >>> check_tensor_names(InferenceRequest(inputs=[tensor]), schema, ["no", "yes"])
    >>> tensor["name"] += "!"
    >>> check_tensor_names(InferenceRequest(inputs=[tensor]), schema, ["no", "yes"])
    Traceback (most recent call last):
    ...
    prudent.api._errors.ApiError: 400: Field 'inputs.0.name' is 301 characters long, ...
    """
    known = [*schema.feature_names, *(name for name, _ in output_metadata(classes))]
    most = max(MIN_NAME_CHARS, *map(len, known))
    named = [("inputs", i, t.name) for i, t in enumerate(header.inputs)]
    named += [("outputs", i, t.name) for i, t in enumerate(header.outputs or [])]
    for kind, i, name in named:
        if len(name) > most:
            where = f"{kind}.{i}.name"
            raise ApiError(
                400,
                f"Field {where!r} is {len(name)} characters long, but no input or output of "
                f"the model has a name over {most}; name one of them (GET /v2/models/{{name}}).",
                field=where,
            )


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
        field at all; a field named as an input but for case or spaces; an input's text
        holding a NUL or an unpaired surrogate (:func:`prudent.api._text.check_texts`).

    Examples
    --------
    >>> from prudent.data import ColumnSpec, Role
    >>> schema = Schema((ColumnSpec("age", Role.numeric, "float64"),), target="y")
    >>> kept, headers = model_inputs(pd.DataFrame({"age": ["3"], "y": ["no"]}), schema)
    >>> list(kept.columns), headers
    (['age'], {'X-Prudent-Ignored-Fields': '["y"]', 'X-Prudent-Ignored-Count': '1'})
    """
    columns = input_columns(list(frame.columns), schema, strict=strict)
    used = set(schema.feature_names)
    texts = [c for c in frame.columns if c in used and pd.api.types.is_string_dtype(frame[c])]
    check_texts((c, i, v) for c in texts for i, v in enumerate(frame[c].tolist()))
    if not columns.ignored:
        return frame, {}
    return frame.drop(columns=list(columns.ignored)), _ignored_header(columns.ignored)


def record_inputs(
    records: list[dict[str, Any]], schema: Schema, *, strict: bool = False
) -> tuple[Records, dict[str, str]]:
    """:func:`model_inputs` of JSON records, which stay records (the predictor makes the
    table, on the model's thread, with the other requests it scores with them).

    Parameters
    ----------
    records
        The request's records, one dict of the fields received per row.
    schema
        The bundle's schema.
    strict
        Refuse fields that are not model inputs instead of ignoring them.

    Returns
    -------
    tuple of (Records, dict)
        The records read as the model's inputs, and the answer headers to add.

    Raises
    ------
    SchemaError
        As :func:`model_inputs`.

    Examples
    --------
    >>> from prudent.data import ColumnSpec, Role
    >>> schema = Schema((ColumnSpec("age", Role.numeric, "float64"),), target="y")
    >>> given, headers = record_inputs([{"age": "3", "y": "no"}], schema)
    >>> given.columns, headers
    (('age',), {'X-Prudent-Ignored-Fields': '["y"]', 'X-Prudent-Ignored-Count': '1'})
    """
    received = list(dict.fromkeys(key for record in records for key in record))
    refuse_look_alikes(received, schema)  # 'Age' for 'age': no input left out on purpose
    fields = dict.fromkeys([*received, *schema.feature_names])  # the inputs left out: None
    columns = input_columns(list(fields), schema, strict=strict)
    used = set(schema.feature_names)
    _refuse_records_without_inputs(records, schema, used)
    check_texts((k, i, v) for i, r in enumerate(records) for k, v in r.items() if k in used)
    given = Records(records, tuple(schema.feature_names))
    return given, _ignored_header(columns.ignored) if columns.ignored else {}


SHOWN_RECORDS = 20
"""Records without an input listed in one answer, at most."""


def _refuse_records_without_inputs(
    records: list[dict[str, Any]], schema: Schema, inputs: set[str]
) -> None:
    """Refuse records that hold none of the model's inputs: an input left out of a record is
    missing, but a record without any (``{}``, or only other fields) is a client's mistake —
    wrong names, or the wrong model — and its answer would be the model's guess for an empty
    row. Null values are sent on purpose and kept.

    Examples
    --------
    >>> from prudent.data import ColumnSpec, Role
    >>> schema = Schema((ColumnSpec("age", Role.numeric, "float64"),), target="y")
    >>> _refuse_records_without_inputs([{"age": None}, {"age": 3}], schema, {"age"})
    >>> _refuse_records_without_inputs([{"age": 3}, {"Age": 3, "y": "no"}, {}], schema, {"age"})
    Traceback (most recent call last):
    ...
    prudent.errors.SchemaError: 2 records (1, 2) hold none of the model's inputs ['age'] ...
    """
    empty = [i for i, record in enumerate(records) if inputs.isdisjoint(record)]
    if not empty:
        return
    expected = f"at least one of the model's inputs {schema.feature_names}"
    problems = tuple(
        FieldProblem("records", expected, repr(sorted(map(str, records[i]))), i)
        for i in empty[:SHOWN_RECORDS]
    )
    shown = ", ".join(map(str, empty[:5])) + (", …" if len(empty) > 5 else "")
    which = f"{len(empty)} records ({shown}) hold" if len(empty) > 1 else f"Record {shown} holds"
    raise SchemaError(
        f"{which} none of the model's inputs {schema.feature_names} (their fields are in "
        "errors): name each input as the model does, with null for a missing value.",
        field="records",
        problems=problems,
    )


def _ignored_header(ignored: Any) -> dict[str, str]:
    """The headers that name the ignored fields: as many as fit in the header, and their count.

    Examples
    --------
    >>> _ignored_header(["colour", "target"])
    {'X-Prudent-Ignored-Fields': '["colour", "target"]', 'X-Prudent-Ignored-Count': '2'}
    >>> many = _ignored_header([f"field_{i:05d}" for i in range(10_000)])
    >>> len(many[IGNORED_HEADER]) <= IGNORED_HEADER_CHARS, many[IGNORED_COUNT_HEADER]
    (True, '10000')
    """
    names = list(ignored)
    shown = names
    text = json.dumps(shown, ensure_ascii=True)
    if len(text) > IGNORED_HEADER_CHARS:
        cut = [json.dumps(str(n), ensure_ascii=True) for n in names]
        total, kept = 2, 0
        for piece in cut:
            if total + len(piece) + 2 > IGNORED_HEADER_CHARS:
                break
            total, kept = total + len(piece) + 2, kept + 1
        text = json.dumps(names[:kept], ensure_ascii=True)
    return {IGNORED_HEADER: text, IGNORED_COUNT_HEADER: str(len(names))}
