"""Open Inference Protocol (KServe V2) requests, in JSON and in Triton's binary tensor extension.

A binary request is a JSON header of ``Inference-Header-Content-Length`` bytes followed by the
raw data of every input whose parameters give a ``binary_data_size``, in input order: numbers
as little-endian arrays, booleans as one byte each, and ``BYTES`` elements each preceded by
their length as a 4-byte little-endian integer. A response is binary the same way for the
outputs the request asks so (``binary_data`` per output, or ``binary_data_output``): the
response and the outputs are encoded in ``_v2_outputs.py``, whose names this module re-exports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from prudent.api._body import decompress
from prudent.api._errors import ApiError, field_path, said
from prudent.api._v2_outputs import encode_bytes, encode_response, output_metadata, output_tensors
from prudent.api._v2_schemas import PARAM_TAGS, InferenceRequest, RequestInput
from prudent.errors import FieldProblem

__all__ = [
    "DTYPES",
    "V2Request",
    "encode_bytes",
    "encode_response",
    "output_metadata",
    "output_tensors",
    "parse_request",
]

DTYPES: dict[str, str] = {
    "BOOL": "|b1",
    "UINT8": "<u1",
    "UINT16": "<u2",
    "UINT32": "<u4",
    "UINT64": "<u8",
    "INT8": "<i1",
    "INT16": "<i2",
    "INT32": "<i4",
    "INT64": "<i8",
    "FP16": "<f2",
    "FP32": "<f4",
    "FP64": "<f8",
}
"""V2 datatype → numpy dtype; ``BYTES`` holds strings (UTF-8)."""
HEADER = "inference-header-content-length"


def _bad(message: str, field: str | None = None) -> ApiError:
    return ApiError(400, message, field=field)


@dataclass(frozen=True)
class V2Request:
    """A decoded inference request: its JSON header and the input columns as a table."""

    header: InferenceRequest
    frame: pd.DataFrame


def parse_request(body: bytes, headers: Mapping[str, str], limit: int) -> V2Request:
    """Decode a V2 inference request (JSON or binary, optionally gzip/deflate compressed).

    Parameters
    ----------
    body
        The raw request body.
    headers
        The request headers (``Inference-Header-Content-Length``, ``Content-Encoding``).
    limit
        Largest decompressed body accepted.

    Returns
    -------
    V2Request

    Raises
    ------
    ApiError
        400 naming the input at fault (bad JSON, shape/data length mismatch, unknown datatype,
        binary sizes that do not add up), 413 or 415 for the body itself.
    """
    body = decompress(body, headers.get("content-encoding"), limit)
    length = headers.get(HEADER)
    if length is not None and (not length.isdigit() or int(length) > len(body)):
        raise _bad(f"{HEADER} is {length!r}, but the body holds {len(body)} bytes.", HEADER)
    split = len(body) if length is None else int(length)
    try:
        header = InferenceRequest.model_validate_json(body[:split])
    except ValidationError as exc:
        first = exc.errors()[0]
        where = field_path(first["loc"], PARAM_TAGS)
        raise _bad(f"Field {where!r}: {said(first)}.", where) from None
    binary = memoryview(body)[split:]
    columns: dict[str, np.ndarray[Any, Any]] = {}
    offset = 0
    wrong: list[ApiError] = []
    for tensor in header.inputs:
        if tensor.name in columns:
            raise _bad(f"Input {tensor.name!r} is given twice.", tensor.name)
        try:
            columns[tensor.name], offset = _decode(tensor, binary, offset)
        except ApiError as exc:
            if not exc.problems:  # the request's framing: nothing after it can be read
                raise
            wrong.append(exc)  # values of the wrong type: keep going, report every input
    if wrong:
        raise _every(wrong)
    if offset != len(binary):
        raise _bad(
            f"The binary part holds {len(binary)} bytes, but the inputs' binary_data_size add "
            f"up to {offset}.",
            HEADER,
        )
    rows = {len(v) for v in columns.values()}
    if len(rows) > 1:
        sizes = {k: len(v) for k, v in columns.items()}
        raise _bad(f"Every input must hold the same number of rows, but they hold {sizes}.")
    return V2Request(header, pd.DataFrame(columns))


def _every(errors: list[ApiError]) -> ApiError:
    """One answer naming every input whose values have the wrong type."""
    if len(errors) == 1:
        return errors[0]
    message = f"{len(errors)} inputs hold values of the wrong type: " + " ".join(
        str(e.detail) for e in errors
    )
    problems = [p for e in errors for p in e.problems]
    return ApiError(400, message, field=errors[0].field, problems=problems[:100])


def _rows(tensor: RequestInput) -> int:
    shape = tensor.shape
    if len(shape) == 2 and shape[1] != 1:
        raise _bad(
            f"Input {tensor.name!r} has shape {shape}, but each input is one column: give "
            "shape [rows] or [rows, 1].",
            tensor.name,
        )
    return shape[0]


def _decode(tensor: RequestInput, binary: memoryview, offset: int) -> tuple[Any, int]:
    n = _rows(tensor)
    size = (tensor.parameters or {}).get("binary_data_size")
    if size is None:
        if tensor.data is None:
            raise _bad(f"Input {tensor.name!r} has neither data nor binary_data_size.", tensor.name)
        return _from_json(tensor, _flatten(tensor.data), n), offset
    if tensor.data is not None:  # which one would be read? the client meant one of them
        raise _bad(
            f"Input {tensor.name!r} gives both data and binary_data_size; give its values one way.",
            tensor.name,
        )
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _bad(
            f"Input {tensor.name!r}: binary_data_size must be a count of bytes.", tensor.name
        )
    chunk = binary[offset : offset + size]
    if len(chunk) != size:
        raise _bad(
            f"Input {tensor.name!r} declares {size} bytes of binary data, but only {len(chunk)} "
            "remain in the body.",
            tensor.name,
        )
    return _from_binary(tensor, chunk, n), offset + size


def _flatten(data: list[Any]) -> list[Any]:
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat


def _from_json(tensor: RequestInput, flat: list[Any], n: int) -> np.ndarray[Any, Any]:
    name, kind = tensor.name, tensor.datatype
    if len(flat) != n:
        raise _bad(f"Input {name!r} has shape {tensor.shape} but {len(flat)} values.", name)
    if kind == "BYTES":
        wrong = [(i, v) for i, v in enumerate(flat) if v is not None and not isinstance(v, str)]
        expected = "strings (or null for a missing value)"
    elif kind == "BOOL":
        wrong = [(i, v) for i, v in enumerate(flat) if not isinstance(v, bool)]
        expected = "true or false"
    elif kind.startswith("FP"):
        wrong = [
            (i, v) for i, v in enumerate(flat) if v is not None and type(v) not in (int, float)
        ]
        expected = "numbers (or null for a missing value)"
    else:
        wrong = [(i, v) for i, v in enumerate(flat) if type(v) is not int]
        expected = "integers"
    if wrong:
        problems = [FieldProblem(name, f"{kind}: {expected}", repr(v)[:200], i) for i, v in wrong]
        raise ApiError(
            400,
            f"Input {name!r} is {kind}, so its values must be {expected}; got {wrong[0][1]!r}.",
            field=name,
            problems=problems[:100],
        )
    if kind == "BYTES":
        return np.asarray(flat, dtype=object)
    try:
        with np.errstate(over="ignore"):  # a finite number FP16 cannot hold: said below
            values = np.asarray([np.nan if v is None else v for v in flat], dtype=DTYPES[kind])
    except (OverflowError, ValueError):
        raise _bad(f"Input {name!r} holds a value out of the range of {kind}.", name) from None
    if kind.startswith("FP"):
        over = [i for i, (v, x) in enumerate(zip(flat, values, strict=True))
                if v is not None and math.isfinite(v) and not math.isfinite(x)]  # fmt: skip
        if over:
            largest = float(np.finfo(DTYPES[kind]).max)
            raise _bad(
                f"Input {name!r} holds {flat[over[0]]!r} (row {over[0]}), out of the range of "
                f"{kind} (at most {largest:g} in size); send it as "
                f"{'FP32 or FP64' if kind == 'FP16' else 'FP64'}.",
                name,
            )
        return values.astype(np.float64)
    return values


def _from_binary(tensor: RequestInput, chunk: memoryview, n: int) -> np.ndarray[Any, Any]:
    name, kind = tensor.name, tensor.datatype
    if kind == "BYTES":
        return _split_bytes(name, bytes(chunk), n)
    dtype = np.dtype(DTYPES[kind])
    if len(chunk) != n * dtype.itemsize:
        raise _bad(
            f"Input {name!r} is {n} values of {kind} ({n * dtype.itemsize} bytes), but its "
            f"binary_data_size is {len(chunk)}.",
            name,
        )
    values: np.ndarray[Any, Any] = np.frombuffer(chunk, dtype=np.uint8 if kind == "BOOL" else dtype)
    if kind == "BOOL":
        return np.asarray(values != 0)
    return values.astype(np.float64) if kind.startswith("FP") else values.copy()


def _split_bytes(name: str, data: bytes, n: int) -> np.ndarray[Any, Any]:
    out: list[str] = []
    pos = 0
    while pos < len(data):
        if pos + 4 > len(data):
            raise _bad(f"Input {name!r}: a BYTES element is cut inside its 4-byte length.", name)
        size = int.from_bytes(data[pos : pos + 4], "little")
        element = data[pos + 4 : pos + 4 + size]
        if len(element) != size:
            raise _bad(
                f"Input {name!r}: a BYTES element is cut short ({size} bytes declared).", name
            )
        try:
            out.append(element.decode("utf-8"))
        except UnicodeDecodeError:
            raise _bad(f"Input {name!r}: element {len(out)} is not UTF-8 text.", name) from None
        pos += 4 + size
    if len(out) != n:
        raise _bad(f"Input {name!r} has shape [{n}] but {len(out)} BYTES elements.", name)
    return np.asarray(out, dtype=object)
