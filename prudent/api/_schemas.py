"""Wire schemas: the JSON API's models generated from the bundle's schema, feedback and V2 bodies.

The request model of ``POST /predict`` is built with :func:`pydantic.create_model` from the
bundle's columns, so ``/openapi.json`` and ``/docs`` show every column with its type, and a
missing or extra column, a wrong type or a non-finite number is refused naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, create_model

from prudent.data import Role, Schema
from prudent.models import ColumnKind, OutputField, output_fields

__all__ = [
    "UNION_TAGS",
    "ErrorBody",
    "FeedbackBatch",
    "FeedbackItem",
    "FeedbackRequest",
    "FeedbackResponse",
    "InferenceRequest",
    "InferenceResponse",
    "ModelMetadata",
    "ServerMetadata",
    "feedback_pairs",
    "predict_models",
]

Datatype = Literal[
    "BOOL",
    "UINT8",
    "UINT16",
    "UINT32",
    "UINT64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "FP16",
    "FP32",
    "FP64",
    "BYTES",
]
Label = Annotated[str | int | float | bool, Field(description="A class label.")]
Param = str | bool | int | float
FiniteFloat = Annotated[float, Field(allow_inf_nan=False, strict=True)]


class ErrorBody(BaseModel):
    """Every error answer: what went wrong, and the field at fault when there is one."""

    error: str
    field: str | None = None


# -- the plain JSON API -----------------------------------------------------------------------
def _column_type(role: Role, dtype: str, max_chars: int) -> Any:
    text = Annotated[str, Field(max_length=max_chars, strict=True)]
    if role is Role.numeric:
        return FiniteFloat | None
    if role is Role.boolean:
        return Annotated[bool, Field(strict=True)] | None
    if role is Role.datetime:
        return datetime | None
    if dtype.startswith(("int", "float", "uint")):
        return text | FiniteFloat | None
    return text | None


@dataclass(frozen=True)
class ApiModels:
    """The bundle-specific wire models of the JSON API."""

    predict_request: type[BaseModel]
    predict_response: type[BaseModel]
    feedback_request: Any


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
    return ApiModels(request, response, feedback_model(classes))


def feedback_model(classes: list[Any] | None) -> Any:
    """The body of ``POST /feedback``: one label or ``items``; labels must be ``classes``.

    Examples
    --------
    >>> from pydantic import TypeAdapter
    >>> body = TypeAdapter(feedback_model(["no", "yes"]))
    >>> body.validate_python({"items": [{"prediction_id": "p", "label": "yes"}]}).items[0].label
    'yes'
    """
    label: Any = Label
    if classes:
        allowed = list(dict.fromkeys([*classes, *(str(c) for c in classes)]))
        label = Literal[tuple(allowed)]
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
    >>> request.model_validate({"records": [{"age (years)": 41}]}).records[0].model_dump(
    ...     by_alias=True)
    {'age (years)': 41.0}
    """
    record: Any = dict[str, Any]
    if schema is not None:
        fields: dict[str, Any] = {
            f"c{i}": (
                Annotated[_column_type(c.role, c.dtype, max_chars), Field(alias=c.name)],
                ...,
            )
            for i, c in enumerate(schema.features)
        }
        record = create_model(
            "PredictRecord", __config__=ConfigDict(extra="forbid", populate_by_name=False), **fields
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


class FeedbackItem(BaseModel):
    """The true label of one prediction."""

    model_config = ConfigDict(extra="forbid")
    prediction_id: str = Field(min_length=1, max_length=64)
    label: Label


class FeedbackBatch(BaseModel):
    """Several labels, stored all or none."""

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
    stored), or ``correction`` (a different label, stored with its time; the earlier one kept)."""

    prediction_id: str
    label: str
    status: Literal["created", "duplicate", "correction"]
    previous_label: str | None = None
    received_at: datetime


class FeedbackResponse(BaseModel):
    """The outcome of every label, in order, and how many of each status."""

    items: list[FeedbackResult]
    counts: dict[str, int]


# -- the Open Inference Protocol (KServe V2) --------------------------------------------------
class RequestInput(BaseModel):
    """One input tensor: a column of the model."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=256)
    shape: list[Annotated[int, Field(ge=0)]] = Field(min_length=1, max_length=2)
    datatype: Datatype
    parameters: dict[str, Param] | None = None
    data: list[Any] | None = None


class DocumentedInput(RequestInput):
    """One input tensor of a JSON request (``data`` required: only the binary form omits it)."""

    data: list[Any]


class RequestOutput(BaseModel):
    """An output the client wants (and whether as binary data)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=256)
    parameters: dict[str, Param] | None = None


class InferenceRequest(BaseModel):
    """A V2 inference request (JSON header of the binary form)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, max_length=128)
    parameters: dict[str, Param] | None = None
    inputs: list[RequestInput] = Field(min_length=1, max_length=1024)
    outputs: list[RequestOutput] | None = Field(None, max_length=1024)


class DocumentedRequest(InferenceRequest):
    """A V2 inference request in JSON (the binary form is documented as octet-stream)."""

    inputs: list[DocumentedInput] = Field(min_length=1, max_length=1024)  # type: ignore[assignment]


class ResponseOutput(BaseModel):
    """One output tensor; ``data`` is absent when the tensor travels as binary data."""

    name: str
    shape: list[int]
    datatype: str
    parameters: dict[str, Param] | None = None
    data: list[Any] | None = None


class InferenceResponse(BaseModel):
    """A V2 inference response (JSON header of the binary form)."""

    model_name: str
    model_version: str | None = None
    id: str | None = None
    parameters: dict[str, Param] | None = None
    outputs: list[ResponseOutput]


class ServerMetadata(BaseModel):
    """``GET /v2``."""

    name: str
    version: str
    extensions: list[str]


class TensorMetadata(BaseModel):
    """Name, datatype and shape of a model input or output."""

    name: str
    datatype: str
    shape: list[int]


class ModelMetadata(BaseModel):
    """``GET /v2/models/{name}``."""

    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]
