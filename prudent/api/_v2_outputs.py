"""Open Inference Protocol (KServe V2) outputs: every output's name and datatype, the tensors
of a served batch, and the response, JSON or in Triton's binary tensor extension (each output
binary where the request asks: ``binary_data`` per output, or ``binary_data_output``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
from starlette.responses import Response

from prudent.api._errors import ApiError
from prudent.api._v2_schemas import InferenceRequest
from prudent.models import ColumnKind, output_fields
from prudent.serve import PredictionBatch

if TYPE_CHECKING:
    from prudent.api._v2_codec import V2Request

__all__ = ["encode_bytes", "encode_response", "output_metadata", "output_tensors"]


def encode_bytes(values: list[str]) -> bytes:
    """Serialise strings as V2 binary ``BYTES``: each a 4-byte little-endian length, then UTF-8.

    Examples
    --------
    >>> encode_bytes(["ab", ""])
    b'\\x02\\x00\\x00\\x00ab\\x00\\x00\\x00\\x00'
    """
    parts = []
    for v in values:
        raw = v.encode("utf-8")
        parts.append(len(raw).to_bytes(4, "little") + raw)
    return b"".join(parts)


_V2_TYPES: dict[ColumnKind, str] = {
    ColumnKind.LABEL: "BYTES",
    ColumnKind.NUMBER: "FP64",
    ColumnKind.FLAG: "BOOL",
    ColumnKind.LABELS: "BYTES",
    ColumnKind.TEXT: "BYTES",
}
"""The V2 datatype of each kind of output column (text ``""`` stands for none)."""


def output_metadata(classes: list[Any]) -> list[tuple[str, str]]:
    """Every output's ``(name, datatype)``: the output table's columns, then ``prediction_id``.

    Examples
    --------
    >>> output_metadata(["no", "yes"])[:3]
    [('prediction', 'BYTES'), ('confidence', 'FP64'), ('proba_no', 'FP64')]
    >>> output_metadata(["no", "yes"])[-1]
    ('prediction_id', 'BYTES')
    """
    return [(f.name, _V2_TYPES[f.kind]) for f in output_fields(classes)] + [
        ("prediction_id", "BYTES")
    ]


def _tensor(kind: ColumnKind, values: Any) -> Any:
    if kind is ColumnKind.NUMBER:
        return np.asarray(values, dtype=np.float64)
    if kind is ColumnKind.FLAG:
        return np.asarray(values, dtype=bool)
    if kind is ColumnKind.LABELS:
        return [json.dumps(v) for v in values]
    return ["" if v is None else str(v) for v in values]


def output_tensors(batch: PredictionBatch) -> dict[str, tuple[str, Any]]:
    """Return every output as ``name → (datatype, values)`` from a served batch."""
    p = batch.predictions
    out: dict[str, tuple[str, Any]] = {}
    for f in output_fields(p.classes):
        out[f.name] = (_V2_TYPES[f.kind], _tensor(f.kind, f.plain(p)))
    out["prediction_id"] = ("BYTES", list(batch.ids))
    return out


def _json_data(kind: str, values: Any) -> list[Any]:
    if kind == "FP64":
        return [None if np.isnan(v) else float(v) for v in values]
    if kind == "BOOL":
        return [bool(v) for v in values]
    return list(values)


def _binary_data(kind: str, values: Any) -> bytes:
    if kind == "BYTES":
        return encode_bytes(values)
    if kind == "BOOL":
        return np.asarray(values, dtype=np.uint8).tobytes()
    return np.asarray(values, dtype="<f8").tobytes()


def wanted_outputs(header: InferenceRequest, names: list[str]) -> list[tuple[str, bool]]:
    """The outputs the request asks for (all by default) among ``names``, each with whether
    it is sent as binary data.

    Raises
    ------
    ApiError
        400 naming an output that does not exist, or the classification extension.
    """
    asked = (header.parameters or {}).get("binary_data_output", False)
    default = _flag(asked, "binary_data_output")
    if header.outputs is None:
        return [(n, default) for n in names]
    wanted = []
    for out in header.outputs:
        if out.name not in names:
            message = f"Output {out.name!r} does not exist; the outputs are {names}."
            raise ApiError(400, message, field=out.name)
        params = out.parameters or {}
        if params.get("class_count", 0) not in (0, False):
            message = "The classification extension (class_count) is not supported."
            raise ApiError(400, message, field=out.name)
        wanted.append((out.name, _flag(params.get("binary_data", default), out.name)))
    return wanted


def _flag(value: object, where: str) -> bool:
    """A ``binary_data`` (or ``binary_data_output``) parameter: ``true`` or ``false`` only.

    ``"yes"`` or ``1`` was read as false, and the output came back as JSON with nothing said.

    Examples
    --------
    >>> _flag(True, "p"), _flag(False, "p")
    (True, False)
    >>> _flag("yes", "p")
    Traceback (most recent call last):
    prudent.api._errors.ApiError: 400: Parameter binary_data of 'p' is 'yes', but must be true \
or false.
    """
    if isinstance(value, bool):
        return value
    what = "binary_data_output" if where == "binary_data_output" else f"binary_data of {where!r}"
    raise ApiError(400, f"Parameter {what} is {value!r}, but must be true or false.", field=where)


def encode_response(request: V2Request, batch: PredictionBatch, model: tuple[str, str]) -> Response:
    """Build the V2 response for a served batch, binary where the request asks.

    Parameters
    ----------
    request
        The decoded request (its ``id`` is echoed, its ``outputs`` chosen).
    batch
        The served predictions.
    model
        ``(model name, model version)``.

    Returns
    -------
    starlette.responses.Response
        JSON, or the JSON header followed by binary data with ``Inference-Header-Content-Length``.
    """
    tensors = output_tensors(batch)
    outputs, blobs = [], []
    for name, binary in wanted_outputs(request.header, list(tensors)):
        kind, values = tensors[name]
        entry: dict[str, Any] = {"name": name, "shape": [len(batch.ids)], "datatype": kind}
        if binary:
            blobs.append(_binary_data(kind, values))
            entry["parameters"] = {"binary_data_size": len(blobs[-1])}
        else:
            entry["data"] = _json_data(kind, values)
        outputs.append(entry)
    body: dict[str, Any] = {"model_name": model[0], "model_version": model[1]}
    if request.header.id is not None:
        body["id"] = request.header.id
    body["parameters"] = {"prediction_ids": ",".join(batch.ids)}
    body["outputs"] = outputs
    text = json.dumps(body, allow_nan=False, separators=(",", ":")).encode("utf-8")
    if not blobs:
        return Response(text, media_type="application/json")
    headers = {"Inference-Header-Content-Length": str(len(text))}
    return Response(text + b"".join(blobs), media_type="application/octet-stream", headers=headers)
