"""The one table from errors to HTTP statuses, and the handlers that answer JSON only.

Every non-2xx answer is ``application/json`` with ``{"error": "..."}`` (and ``"field"`` when one
is at fault); bad input is 400 on every route, with every value at fault listed in ``"errors"``
(row, field, expected, received); no traceback ever leaves the process. An unexpected
exception is a bug: it is logged here with its traceback and answered 500 with a generic
message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from prudent import errors as e
from prudent._json import long_integer
from prudent.api._schemas import UNION_TAGS

__all__ = [
    "ERROR_STATUS",
    "ApiError",
    "error_body",
    "field_path",
    "install_error_handlers",
    "said",
    "status_of",
]

logger = logging.getLogger("prudent.api")

ERROR_STATUS: dict[type[Exception], int] = {
    e.SchemaError: 400,
    e.InputLimitError: 400,
    e.DataError: 400,
    e.ConfigError: 400,
    e.UnknownPredictionError: 404,
    e.UnknownModelError: 404,
    e.RegistryError: 409,
    e.ReloadRefusedError: 422,
    e.FeedbackConflictError: 403,
    e.FeedbackError: 400,
    e.OverloadedError: 503,
    e.DeadlineExceededError: 504,
    e.ServiceError: 503,
    e.StoreError: 503,
    e.BundleError: 503,
    e.NotFittedError: 503,
    e.PrudentError: 500,
}
"""Status of each prudent error; the most specific class in an error's MRO wins.

400 bad input on every route, a label not among the classes included (the body names the
field and lists every value at fault) · 403 a review case held by another reviewer · 404 unknown
prediction id, model or model version · 409 a registry refused a change (an unknown
version, nothing to roll back, a damaged history: the message names the fix) · 422 a hot swap
refused (the old bundle still serves) · 503 overloaded (with ``Retry-After``), not ready, or
the log failing · 504 the deadline passed.
"""

_RETRY_AFTER = {503: "1"}


class ApiError(HTTPException):
    """An HTTP-level refusal raised by the API itself (auth, limits, protocol, routing).

    Parameters
    ----------
    status_code
        The HTTP status.
    message
        The readable reason (what was expected, what was received, the fix).
    field
        The request field at fault, when there is one.
    headers
        Extra response headers (``Retry-After``, ``WWW-Authenticate``).
    problems
        Every value at fault, when there are several (the answer's ``errors``).
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        problems: Sequence[e.FieldProblem] = (),
    ) -> None:
        super().__init__(status_code=status_code, detail=message, headers=dict(headers or {}))
        self.field = field
        self.problems = tuple(problems)


def status_of(error: BaseException) -> int:
    """Return the HTTP status of an error by :data:`ERROR_STATUS` (500 when none applies).

    Examples
    --------
    >>> from prudent.errors import SchemaError, OverloadedError
    >>> status_of(SchemaError("x")), status_of(OverloadedError("busy")), status_of(KeyError())
    (400, 503, 500)
    >>> from prudent.errors import NotReadyError, RegistryError, ReloadRefusedError
    >>> [status_of(c("x")) for c in (NotReadyError, RegistryError, ReloadRefusedError)]
    [503, 409, 422]
    """
    for cls in type(error).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return 500


def error_body(message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    """Return the JSON body of an error answer.

    Examples
    --------
    >>> error_body("Column 'x' is missing.", "x")
    {'error': "Column 'x' is missing.", 'field': 'x'}
    """
    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    return body | extra


def error_response(
    status: int,
    message: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
    problems: Sequence[e.FieldProblem] = (),
) -> JSONResponse:
    """Return a JSON error answer (with ``errors`` when ``problems`` are given)."""
    merged = {**({"Retry-After": _RETRY_AFTER[status]} if status in _RETRY_AFTER else {})}
    extra = {"errors": [p.to_dict() for p in problems]} if problems else {}
    body = error_body(message, field, **extra)
    return JSONResponse(body, status, headers=merged | dict(headers or {}))


def field_path(loc: tuple[Any, ...] | list[Any], members: frozenset[str] = frozenset()) -> str:
    """A pydantic error's location as a dotted field path, without the names pydantic adds.

    The request part (``body``) and then the body's form (:data:`UNION_TAGS`) are left out
    where they lead; ``members`` are the names pydantic puts last to say which type of a union of
    plain values it tried (``parameters.x.str``): left out there.

    Examples
    --------
    >>> field_path(("body", "FeedbackItem", "label"))
    'label'
    >>> field_path(("parameters", "str", "str"), frozenset({"str", "int"}))
    'parameters.str'
    """
    parts = [str(p) for p in loc]
    if parts[:1] and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    if parts[:1] and parts[0] in UNION_TAGS:
        parts = parts[1:]
    if len(parts) > 1 and parts[-1] in members:
        parts.pop()
    return ".".join(parts) or "body"


async def _prudent_error(_request: Request, exc: Exception) -> Response:
    status = status_of(exc)
    if status >= 500 and not isinstance(exc, e.ServiceError | e.StoreError | e.BundleError):
        logger.exception("Unexpected prudent error", exc_info=exc)
    problems = getattr(exc, "problems", ())
    return error_response(status, str(exc), getattr(exc, "field", None), problems=problems)


def _unparsed_body(cause: BaseException | None) -> str | None:
    """Why a body the framework could not parse was refused, for the causes a client can fix.

    Examples
    --------
    >>> _unparsed_body(UnicodeDecodeError("utf-8", b"Z\\xfc", 1, 2, "invalid start byte"))
    'The body is not UTF-8 text (byte 0xfc at position 1); send the JSON encoded as UTF-8.'
    >>> _unparsed_body(ValueError("Exceeds the limit (4300 digits) for integer string "
    ...     "conversion: value has 5001 digits; use sys.set_int_max_str_digits()"))[:60]
    'The body holds a whole number of 5001 digits, more than the '
    >>> _unparsed_body(ValueError("other")) is None
    True
    """
    if isinstance(cause, UnicodeDecodeError):
        byte = cause.object[cause.start : cause.start + 1].hex()
        return (
            f"The body is not UTF-8 text (byte 0x{byte} at position {cause.start}); send the "
            "JSON encoded as UTF-8."
        )
    if isinstance(cause, RecursionError):
        return (
            "The body nests JSON arrays or objects too deeply to read; send records whose "
            "fields hold plain values."
        )
    digits = long_integer(cause)
    if digits is not None:
        return f"The body {digits}."
    return None


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    field = getattr(exc, "field", None)
    message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
    message = (_unparsed_body(exc.__cause__) if exc.status_code == 400 else None) or message
    problems = getattr(exc, "problems", ())
    return error_response(exc.status_code, message, field, exc.headers, problems)


def _problem(error: Mapping[str, Any]) -> e.FieldProblem:
    """A pydantic error as a problem; a record's field is named with its record as the row."""
    path = field_path(tuple(error.get("loc", ())))
    parts = path.split(".")
    row: int | None = None
    if len(parts) >= 3 and parts[0] == "records" and parts[1].isdigit():
        row, path = int(parts[1]), ".".join(parts[2:])
    received = "nothing" if error.get("type") == "missing" else repr(error.get("input"))
    return e.FieldProblem(path, said(error), received[:200], row)


def said(error: Mapping[str, Any]) -> str:
    """A pydantic error's message, without the ``Value error, `` its validators' get."""
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors() or [{"loc": (), "msg": "invalid request"}]
    first = errors[0]
    if first.get("type") == "json_invalid":
        detail = first.get("ctx", {}).get("error", "")
        return error_response(400, f"The body is not valid JSON ({detail}); send a JSON object.")
    problems = [_problem(error) for error in errors[:100]]
    where = f"Field {problems[0].field!r}"
    if problems[0].row is not None:
        where += f" of record {problems[0].row}"
    more = f" (and {len(errors) - 1} more, listed in errors)" if len(errors) > 1 else ""
    message = f"{where}: {said(first)}{_rows_limit(first)}{more}.{_misnamed(errors)}"
    return error_response(400, message, problems[0].field, problems=problems)


def _rows_limit(error: Mapping[str, Any]) -> str:
    """For too many records, the setting that caps them and what to do, else ``""``.

    Examples
    --------
    >>> _rows_limit({"type": "too_long", "loc": ("body", "records")})
    ' (the limit is PRUDENT_MAX_ROWS); split them into several requests'
    """
    if error.get("type") != "too_long" or tuple(error.get("loc", ()))[-1:] != ("records",):
        return ""
    return " (the limit is PRUDENT_MAX_ROWS); split them into several requests"


def _misnamed(errors: Sequence[Any]) -> str:
    """When the body misses one top-level field and holds one it does not take, the hint
    that the second is the first misnamed (``rows`` for ``records``), else ``""``.

    Examples
    --------
    >>> _misnamed([{"type": "missing", "loc": ("body", "records")},
    ...            {"type": "extra_forbidden", "loc": ("body", "rows")}])
    " The body holds 'rows', which is no field here: is it 'records'?"
    """

    def top(kind: str) -> list[str]:
        paths = [field_path(tuple(err.get("loc", ()))) for err in errors if err.get("type") == kind]
        return [path for path in paths if "." not in path]

    missing, extra = top("missing"), top("extra_forbidden")
    if len(missing) != 1 or len(extra) != 1:
        return ""
    return f" The body holds {extra[0]!r}, which is no field here: is it {missing[0]!r}?"


async def _unexpected(_request: Request, exc: Exception) -> Response:
    logger.exception("Unexpected error while answering a request", exc_info=exc)
    return error_response(500, "Internal error; it has been logged. Please report it.")


def install_error_handlers(app: FastAPI) -> None:
    """Make every error answer of ``app`` JSON with an ``error`` key, by the table above."""
    app.add_exception_handler(e.PrudentError, _prudent_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
