"""Wire schemas: the JSON API's models generated from the bundle's schema, and feedback bodies;
the V2 bodies are in ``_v2_schemas.py`` (imported here under their old names).

The request model of ``POST /predict`` is built with :func:`pydantic.create_model` from the
bundle's columns, so ``/openapi.json`` and ``/docs`` show every column with what it accepts
(the model's own input contract, :func:`prudent.data.validate_frame`, decides).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    create_model,
)

from prudent._json import plain_scalar
from prudent.api._v2_schemas import DocumentedRequest as DocumentedRequest  # _v2 reads it here
from prudent.api._v2_schemas import (
    InferenceRequest,
    InferenceResponse,
    ModelMetadata,
    ServerMetadata,
)
from prudent.data import (
    ACCEPTS,
    MAX_MAGNITUDE,
    MISSING_WORDS,
    ColumnSpec,
    Role,
    Schema,
    string_pattern,
)
from prudent.models import ColumnKind, OutputField, output_fields

__all__ = [
    "UNION_TAGS",
    "ErrorBody",
    "FeedbackBatch",
    "FeedbackItem",
    "FeedbackRequest",
    "FeedbackResponse",
    "FieldError",
    "InferenceRequest",
    "InferenceResponse",
    "ModelMetadata",
    "ServerMetadata",
    "feedback_pairs",
    "predict_models",
]

Label = Annotated[str | int | float | bool, Field(description="A class label.")]
StrictQuery = Annotated[bool, Query(include_in_schema=False)]
"""``?strict=true``: refuse fields that are not model inputs instead of ignoring them.

Left out of the published schema on purpose: it makes extra record keys, which the schema
allows, an error — a condition JSON Schema cannot state; the routes' descriptions document it.
"""


class FieldError(BaseModel):
    """One value or field that does not fit: where, what was expected, what was received."""

    row: int | str | None = Field(None, description="The record (0-based) or row, when one.")
    field: str
    expected: str
    received: str


class ErrorBody(BaseModel):
    """Every error answer: what went wrong, the field at fault when there is one, and — for
    bad input — every value at fault in ``errors`` (all of them, not only the first)."""

    error: str
    field: str | None = None
    errors: list[FieldError] | None = None


# -- the plain JSON API -----------------------------------------------------------------------
_MISSING_DOC = (
    "Missing: null, or the strings " + ", ".join(repr(w) for w in MISSING_WORDS) + " in any case."
)


def _scalar(max_chars: int) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > max_chars:
            raise ValueError(
                f"a string of at most {max_chars} characters (PRUDENT_MAX_STRING_CHARS), "
                f"not {len(value)}"
            )
        if value is not None and not isinstance(value, str | bool | int | float):
            raise ValueError(f"should be a string, number, boolean or null, not {value!r:.80}")
        return value

    return check


_COMMA_DOC = (
    "Numbers written as text may use a decimal comma, as the training file did: "
    '"14,23" is 14.23 and "1.065,5" is 1065.5.'
)
NO_NUL = "^[^\\u0000]*$"
"""The published pattern of free text: no NUL character, which the service refuses
(:mod:`prudent.api._text`); only published, the check itself names the field."""


def _column_type(spec: ColumnSpec, max_chars: int) -> Any:
    """A record field: any JSON scalar for pydantic; the published schema says what it accepts.

    The JSON schema is exactly what the model accepts (strings by the pattern the coercion
    itself uses); pydantic lets every scalar through so that one function decides, and reports
    every bad value at once.
    """
    role = spec.role
    text: dict[str, Any] = {"type": "string", "maxLength": max_chars}
    text["pattern"] = string_pattern(role, spec.decimal) or NO_NUL
    kinds: list[dict[str, Any]] = [text]
    if role is Role.numeric:
        bound = {"exclusiveMinimum": -MAX_MAGNITUDE, "exclusiveMaximum": MAX_MAGNITUDE}
        kinds += [{"type": "number", **bound}, {"type": "boolean"}]
    elif role is Role.boolean:
        kinds += [{"type": "boolean"}, {"enum": [0, 1]}]
    elif role is not Role.datetime:
        kinds += [{"type": "number"}, {"type": "boolean"}]
    about = f"{ACCEPTS[role]}. {_MISSING_DOC}"
    if spec.decimal == ",":
        about += f" {_COMMA_DOC}"
    schema = {"anyOf": [*kinds, {"type": "null"}], "description": about}
    return Annotated[Any, AfterValidator(_scalar(max_chars)), WithJsonSchema(schema)]


@dataclass(frozen=True)
class ApiModels:
    """The bundle-specific wire models of the JSON API."""

    predict_request: type[BaseModel]
    predict_response: type[BaseModel]
    feedback_request: Any
    checks_limits: bool = False
    """The request model itself refuses what ``serve.InputLimits`` refuses (too many records,
    a string too long in an input field): built from a readable schema."""


def api_models(
    schema: Schema | None, classes: list[Any] | None, *, max_rows: int, max_chars: int
) -> ApiModels:
    """Build the JSON API's models for a bundle: columns and classes appear in the schema.

    Parameters
    ----------
    schema, classes
        The bundle's schema and classes; ``None`` when they could not be read (then the
        records and labels are free-form).
    max_rows, max_chars
        As in :func:`predict_models`.

    Returns
    -------
    ApiModels
    """
    request, response = predict_models(schema, classes, max_rows=max_rows, max_chars=max_chars)
    return ApiModels(request, response, feedback_model(classes), schema is not None)


_LabelText = Annotated[str, WithJsonSchema({"type": "string", "pattern": NO_NUL})]
"""A label as text: published without NUL, which the service refuses (the log cannot keep it)."""


def feedback_model(classes: list[Any] | None) -> Any:
    """The body of ``POST /feedback``: one label or ``items``.

    A label is not limited to the served ``classes`` by the schema: each is checked against
    the classes of the model that made its prediction (an older model's may differ), and
    one outside them refuses that item only. The served classes are the labels' examples.

    Examples
    --------
    >>> from pydantic import TypeAdapter
    >>> body = TypeAdapter(feedback_model(["no", "yes"]))
    >>> body.validate_python({"items": [{"prediction_id": "p", "label": "maybe"}]}).items[0].label
    'maybe'
    """
    label: Any = Annotated[Label, _one_label(None)]
    if classes:
        plain = [plain_scalar(c) for c in classes]  # numpy's bool has no JSON schema
        label = Annotated[
            _LabelText | int | float | bool,
            Field(
                description="A class of the model that made the prediction (one of the "
                f"served model's: {[str(c) for c in plain]}, unless an older model made it); "
                "another label refuses this item only.",
                examples=plain,
            ),
            _one_label(classes),
        ]
    item = create_model("FeedbackItem", __base__=FeedbackItem, label=(label, ...))
    batch = create_model(
        "FeedbackBatch",
        __base__=FeedbackBatch,
        items=(list[item], Field(min_length=1, max_length=10_000)),  # type: ignore[valid-type]
    )
    return Annotated[
        Annotated[item, Tag("FeedbackItem")] | Annotated[batch, Tag("FeedbackBatch")],
        Discriminator(_feedback_form),
    ]


_RECORD_DOC = (
    "One row: a key per model input. A key left out is a missing value, but a record holds "
    "at least one input (null for a missing value); other keys are ignored and named in the "
    "X-Prudent-Ignored-Fields answer header (or refused with ?strict=true)."
)


def predict_models(
    schema: Schema | None, classes: list[Any] | None, *, max_rows: int, max_chars: int
) -> tuple[type[BaseModel], type[BaseModel]]:
    """Build the request and response models of ``POST /predict`` for a bundle.

    Parameters
    ----------
    schema
        The bundle's schema; ``None`` when it could not be read (records are then free-form).
    classes
        The bundle's classes (one ``proba_<class>`` field each).
    max_rows
        Most records in one request.
    max_chars
        Longest string value.

    Returns
    -------
    tuple of (type, type)
        ``PredictRequest`` and ``PredictResponse``.

    Examples
    --------
    >>> from prudent.data import ColumnSpec, Role, Schema
    >>> schema = Schema((ColumnSpec("age (years)", Role.numeric, "float64"),), target="y")
    >>> request, _ = predict_models(schema, ["no", "yes"], max_rows=10, max_chars=100)
    >>> request.model_validate({"records": [{"age (years)": "41"}]}).records[0].model_dump(
    ...     by_alias=True)
    {'age (years)': '41'}
    """
    record: Any = dict[str, Any]
    if schema is not None:
        fields: dict[str, Any] = {
            f"c{i}": (Annotated[_column_type(c, max_chars), Field(alias=c.name)], None)
            for i, c in enumerate(schema.features)
        }
        record = create_model(
            "PredictRecord",
            __config__=ConfigDict(
                extra="allow",
                populate_by_name=False,
                json_schema_extra={
                    "description": _RECORD_DOC,
                    "anyOf": [{"required": [c.name]} for c in schema.features],
                },
            ),
            **fields,
        )
    request = create_model(
        "PredictRequest",
        __config__=ConfigDict(extra="forbid"),
        id=(str | None, Field(None, max_length=128, description="Echoed in the answer.")),
        records=(list[record], Field(min_length=1, max_length=max_rows)),
    )
    prediction: Any = prediction_model(classes or [])
    response = create_model(
        "PredictResponse",
        id=(str | None, None),
        model_name=(str, ...),
        model_version=(str, ...),
        predictions=(list[prediction], ...),
    )
    return request, response


_WIRE_TYPES: dict[ColumnKind, Any] = {
    ColumnKind.LABEL: Label | None,
    ColumnKind.NUMBER: float | None,
    ColumnKind.FLAG: bool,
    ColumnKind.LABELS: list[Label],
    ColumnKind.TEXT: str,
}
"""The JSON type of each kind of output column."""


def _wire_type(f: OutputField) -> Any:
    column = f.column
    kind = Literal[column.choices] if column.choices else _WIRE_TYPES[f.kind]
    return kind | None if column.nullable else kind


def prediction_model(classes: list[Any]) -> type[BaseModel]:
    """The model of one predicted row: ``prediction_id``, then the output table's columns.

    Examples
    --------
    >>> list(prediction_model(["no", "yes"]).model_json_schema(by_alias=True)["properties"])[:4]
    ['prediction_id', 'prediction', 'confidence', 'proba_no']
    """
    fields: dict[str, Any] = {
        f"f{i}": (_wire_type(f), Field(alias=f.name, description=f.column.description))
        for i, f in enumerate(output_fields(classes))
    }
    return create_model(
        "Prediction",
        __config__=ConfigDict(populate_by_name=False),
        prediction_id=(str, Field(description="The id under which the row is logged.")),
        **fields,
    )


def _one_label(classes: list[Any] | None) -> BeforeValidator:
    """A label given as one scalar, else one error at ``label`` that says what is expected
    (pydantic's union would give four, ``label.str`` … ``label.bool``).

    Examples
    --------
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(Annotated[Label, _one_label(["no", "yes"])]).validate_python(None)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for ...
      Value error, should be a class of the model that made the prediction (the served model's: ['no', 'yes']) as a string, number or boolean, not null ...
    """  # noqa: E501
    served = f" (the served model's: {[str(plain_scalar(c)) for c in classes]})" if classes else ""

    def check(value: Any) -> Any:
        if isinstance(value, str | int | float | bool):
            return value
        given = "null" if value is None else f"{value!r:.80}"
        raise ValueError(
            f"should be a class of the model that made the prediction{served} as a string, "
            f"number or boolean, not {given}"
        )

    return BeforeValidator(check)


class FeedbackItem(BaseModel):
    """The true label of one prediction."""

    model_config = ConfigDict(extra="forbid")
    prediction_id: str = Field(min_length=1, max_length=64, json_schema_extra={"pattern": NO_NUL})
    label: Annotated[Label, _one_label(None)]


class FeedbackBatch(BaseModel):
    """Several labels, each judged on its own (a refused one keeps no other out)."""

    model_config = ConfigDict(extra="forbid")
    items: list[FeedbackItem] = Field(min_length=1, max_length=10_000)


def _feedback_form(value: Any) -> str:
    return "FeedbackBatch" if isinstance(value, dict) and "items" in value else "FeedbackItem"


FeedbackRequest = Annotated[
    Annotated[FeedbackItem, Tag("FeedbackItem")] | Annotated[FeedbackBatch, Tag("FeedbackBatch")],
    Discriminator(_feedback_form),
]
"""One label (``prediction_id`` and ``label``) or several (``items``), any labels."""
UNION_TAGS = frozenset({"FeedbackItem", "FeedbackBatch"})
"""Names pydantic puts in an error's location to say which form of a body it checked."""


def feedback_pairs(body: FeedbackItem | FeedbackBatch) -> list[tuple[str, object]]:
    """The ``(prediction_id, label)`` pairs of a feedback request, in order.

    Examples
    --------
    >>> feedback_pairs(FeedbackItem(prediction_id="p1", label="yes"))
    [('p1', 'yes')]
    """
    items = body.items if isinstance(body, FeedbackBatch) else [body]
    return [(i.prediction_id, i.label) for i in items]


class FeedbackResult(BaseModel):
    """What one label did: ``created`` (first label), ``duplicate`` (same label again, nothing
    stored), ``correction`` (a different label, stored with its time; the earlier one kept),
    ``unknown`` (no prediction has that id) or ``refused`` (``error`` says why, ``field``
    which field is at fault)."""

    prediction_id: str
    label: Label
    status: Literal["created", "duplicate", "correction", "unknown", "refused"]
    previous_label: str | None = None
    received_at: datetime | None = None
    field: str | None = None
    error: str | None = None


class FeedbackResponse(BaseModel):
    """The outcome of every label, in order, and how many of each status (200 when at least one
    label is stored or was already there)."""

    items: list[FeedbackResult]
    counts: dict[str, int]
