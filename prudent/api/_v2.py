"""Routes of the Open Inference Protocol (KServe V2 REST); each parses, delegates, formats."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from prudent.api._errors import error_body
from prudent.api._inputs import check_tensor_names, model_inputs
from prudent.api._schemas import (
    DocumentedRequest,
    ErrorBody,
    InferenceResponse,
    ModelMetadata,
    ServerMetadata,
    StrictQuery,
)
from prudent.api._v2_codec import encode_response, output_metadata, parse_request
from prudent.api._v2_outputs import wanted_outputs
from prudent.data import ACCEPTS, MISSING_WORDS, Role, Schema
from prudent.serve import Service

__all__ = ["BODY_ERRORS", "ERRORS", "V2_SCHEMAS", "add_v2_routes", "service_of"]

_ERROR_TEXT: dict[int | str, str] = {
    400: "Bad input (any route): the body names the field and lists every value at fault.",
    401: "No valid bearer token.",
    403: "The token's roles do not allow this route.",
    404: "Unknown model, version or prediction id.",
    413: "The body is over the size limit.",
    429: "The token is past its rate limit (see Retry-After).",
    503: "Not ready, or overloaded (see Retry-After).",
    504: "The deadline passed.",
    "4XX": "Another client error.",
}
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text} for code, text in _ERROR_TEXT.items()
}
BODY_ERRORS = ERRORS | {
    415: {
        "model": ErrorBody,
        "description": "The body's Content-Type or Content-Encoding is not one this reads.",
    }
}
"""The errors of a route that reads a body."""
_DATATYPE = {Role.numeric: "FP64", Role.boolean: "BOOL"}


def service_of(request: Request) -> Service:
    """The :class:`Service` of the app answering ``request``."""
    service: Service = request.app.state.prudent
    return service


async def live() -> dict[str, bool]:
    """Whether the process answers (always, while it runs)."""
    return {"live": True}


async def ready(request: Request) -> Response:
    """200 once the bundle is loaded, smoke-tested and the log writable; else 503 with why."""
    health = await asyncio.to_thread(service_of(request).health)
    if health.ready:
        return JSONResponse({"ready": True})
    return JSONResponse(error_body(f"Not ready: {health.reason.rstrip('.')}.", ready=False), 503)


async def server_metadata() -> ServerMetadata:
    """The server's name, version and protocol extensions."""
    from prudent import __version__

    return ServerMetadata(name="prudent", version=__version__, extensions=["binary_tensor_data"])


def _input_tensors(schema: Schema) -> list[dict[str, Any]]:
    """One input per column, with its role, what it accepts and how a value is missing."""
    missing = "null (JSON), NaN (FP), or the strings " + ", ".join(repr(w) for w in MISSING_WORDS)
    return [
        {
            "name": c.name,
            "datatype": _DATATYPE.get(c.role, "BYTES"),
            "shape": [-1],
            "parameters": {
                "role": c.role.value,
                "accepts": f"{ACCEPTS[c.role]}; any datatype whose values read so (BYTES "
                "strings as in a CSV file)",
                "missing": f"{missing} in any case; an input left out is missing in every row",
            },
        }
        for c in schema.features
    ]


async def model_metadata(name: str, request: Request, version: str | None = None) -> ModelMetadata:
    """The model's inputs (one per column, with what each accepts) and outputs."""
    predictor = service_of(request).predictor_for(name, version)
    outputs = output_metadata(predictor.classes)
    return ModelMetadata.model_validate(
        {
            "name": name,
            "versions": [predictor.bundle.version],
            "platform": "prudent",
            "inputs": _input_tensors(predictor.bundle.schema),
            "outputs": [{"name": n, "datatype": d, "shape": [-1]} for n, d in outputs],
        }
    )


async def model_ready(name: str, request: Request, version: str | None = None) -> Response:
    """200 when this model can predict now, else 503 (404 for another model)."""
    service_of(request).predictor_for(name, version)
    return await ready(request)


async def infer(
    name: str, request: Request, version: str | None = None, strict: StrictQuery = False
) -> Response:
    """Predict the rows of the input tensors; log them; answer JSON or binary tensors.

    Values are read as ``Bundle.predict`` reads them (see each input's ``parameters`` in the
    model metadata): a tensor of any datatype whose values read as the column's role, null in
    JSON tensors for a missing value. Inputs that are not the model's are ignored and named in
    the ``X-Prudent-Ignored-Fields`` header; ``?strict=true`` refuses them instead.
    """
    service = service_of(request)
    predictor = service.predictor_for(name, version)
    parsed = parse_request(await request.body(), request.headers, service.settings.max_body_bytes)
    check_tensor_names(parsed.header, predictor.bundle.schema, predictor.classes)
    # a bad outputs list is refused before any row is scored, logged or queued for review
    wanted_outputs(parsed.header, [n for n, _ in output_metadata(predictor.classes)])
    frame, headers = model_inputs(parsed.frame, predictor.bundle.schema, strict=strict)
    batch = await predictor.predict_records(frame)
    model = (predictor.model_name, batch.model_version)
    response = encode_response(parsed, batch, model)
    response.headers.update(headers)
    return response


async def version_metadata(name: str, version: str, request: Request) -> ModelMetadata:
    """:func:`model_metadata` of one version."""
    return await model_metadata(name, request, version)


async def version_ready(name: str, version: str, request: Request) -> Response:
    """:func:`model_ready` of one version."""
    return await model_ready(name, request, version)


async def version_infer(
    name: str, version: str, request: Request, strict: StrictQuery = False
) -> Response:
    """:func:`infer` on one version."""
    return await infer(name, request, version, strict)


def add_v2_routes(app: FastAPI) -> None:
    """Add the V2 routes to ``app``."""
    tags: list[str | Any] = ["Open Inference Protocol (V2)"]

    def route(path: str, endpoint: Any, method: str = "GET", **options: Any) -> None:
        app.add_api_route(f"/v2{path}", endpoint, methods=[method], tags=tags, **options)

    health: dict[int | str, dict[str, Any]] = {503: ERRORS[503]}
    route("/health/live", live, responses=health)
    route("/health/ready", ready, responses=health)
    route("", server_metadata, responses=ERRORS)
    body = {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/InferenceRequest"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
    v = "/models/{name}/versions/{version}"
    for path, metadata, is_ready, predict in (
        ("/models/{name}", model_metadata, model_ready, infer),
        (v, version_metadata, version_ready, version_infer),
    ):
        route(path, metadata, responses=ERRORS)
        route(f"{path}/ready", is_ready, responses=ERRORS)
        route(
            f"{path}/infer",
            predict,
            "POST",
            responses={**BODY_ERRORS, 200: {"model": InferenceResponse}},
            openapi_extra=body,
        )


V2_SCHEMAS: dict[str, type[BaseModel]] = {"InferenceRequest": DocumentedRequest}
"""Models referenced by the V2 routes' documentation that no signature declares."""
