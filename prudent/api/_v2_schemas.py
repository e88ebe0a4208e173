"""The Open Inference Protocol (KServe V2) wire schemas: the inference request and response,
their tensors, and the server and model metadata."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "PARAM_TAGS",
    "InferenceRequest",
    "InferenceResponse",
    "ModelMetadata",
    "ServerMetadata",
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
Param = str | bool | int | float
PARAM_TAGS = frozenset({"str", "bool", "int", "float"})
"""The names pydantic puts last in an error's location to say which type of :data:`Param` it
tried (``parameters.x.str``)."""

_NAME_DOC = (
    "A name of the model's (GET /v2/models/{name}): at most 256 characters, or as many as the "
    "model's longest input or output name (a column name of its training file)."
)


class RequestInput(BaseModel):
    """One input tensor: a column of the model."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description=_NAME_DOC)
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

    name: str = Field(min_length=1, description=_NAME_DOC)
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
    """Name, datatype and shape of a model input or output; an input's ``parameters`` say
    its role, what it accepts and how a missing value is written."""

    name: str
    datatype: str
    shape: list[int]
    parameters: dict[str, str] | None = None


class ModelMetadata(BaseModel):
    """``GET /v2/models/{name}``."""

    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]
