"""Reading a request body: its ``Content-Encoding``, and JSON that gives no key twice.

The V2 codec and the JSON routes (through :class:`JsonBodyRoute`) read bodies here, so a gzip
or deflate body is inflated the same way on every route, within the same size limit, and an
encoding this does not read is 415 everywhere.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from prudent.api._errors import ApiError

__all__ = ["JsonBodyRoute", "decompress", "loads_unique"]


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """The body as sent before its ``Content-Encoding`` (gzip, deflate or none).

    Raises
    ------
    ApiError
        415 for another encoding, 400 for a body that does not inflate, 413 for one that
        inflates to more than ``limit`` bytes (read no further than that).

    Examples
    --------
    >>> import gzip
    >>> decompress(gzip.compress(b'{"a": 1}'), "gzip", 100)
    b'{"a": 1}'
    >>> decompress(b"{}", "br", 100)
    Traceback (most recent call last):
    ...
    prudent.api._errors.ApiError: 415: Content-Encoding 'br' is not supported; use gzip, deflate or none.
    """  # noqa: E501
    encoding = (encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise ApiError(
            415,
            f"Content-Encoding {encoding!r} is not supported; use gzip, deflate or none.",
            field="Content-Encoding",
        )
    inflater = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ApiError(400, f"The {encoding} body does not decompress: {exc}.") from None
    if len(out) > limit:
        raise ApiError(
            413,
            f"The decompressed body is over {limit} bytes (PRUDENT_MAX_BODY_BYTES); send fewer "
            "rows per request.",
        )
    return out


class _Doubled(dict[str, Any]):
    """A JSON object that gave ``key`` more than once (its last value kept, as ``json`` does)."""

    key: str


def _doubled(obj: dict[str, Any], pairs: list[tuple[str, Any]]) -> _Doubled:
    doubled = _Doubled(obj)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            doubled.key = key
            break
        seen.add(key)
    return doubled


def _where_doubled(value: Any) -> tuple[tuple[str | int, ...], str] | None:
    """The path to the first object that gives a key twice, and the key; ``None`` when none."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, _Doubled):
            return path, item.key
        if isinstance(item, dict):
            stack.extend(((*path, k), v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(item))))
    return None


def _named(path: tuple[str | int, ...]) -> str:
    """How a message names the object at ``path`` (``Record 0``, ``Item 2``, ``The body``)."""
    if len(path) == 2 and path[0] in ("records", "items") and isinstance(path[1], int):
        return f"{'Record' if path[0] == 'records' else 'Item'} {path[1]}"
    if not path:
        return "The body"
    return "The object at " + ".".join(str(p) for p in path)


def loads_unique(body: bytes | str) -> Any:
    """Parse JSON as :func:`json.loads` does, refusing an object that gives a key twice.

    Raises
    ------
    ApiError
        400 naming the object and the key (``json`` would keep the last value silently).

    Examples
    --------
    >>> loads_unique(b'{"records": [{"a": 1, "b": 2}]}')
    {'records': [{'a': 1, 'b': 2}]}
    >>> loads_unique(b'{"records": [{"a": 1}, {"a": 1, "a": 2}]}')
    Traceback (most recent call last):
    ...
    prudent.api._errors.ApiError: 400: Record 1 gives 'a' twice; give each field once.
    """
    doubled = False

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal doubled
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        doubled = True
        return _doubled(obj, pairs)

    value = json.loads(body, object_pairs_hook=unique)
    found = _where_doubled(value) if doubled else None
    if found is None:
        return value
    path, key = found
    where = ".".join(str(p) for p in (*path, key))
    raise ApiError(400, f"{_named(path)} gives {key!r} twice; give each field once.", field=where)


class _JsonBodyRequest(Request):
    """A request whose body is read through its ``Content-Encoding`` and whose JSON gives no
    key twice (FastAPI reads a route's body through ``body()`` and ``json()``)."""

    async def body(self) -> bytes:
        if not hasattr(self, "_inflated"):
            limit = self.app.state.prudent.settings.max_body_bytes
            encoding = self.headers.get("content-encoding")
            self._inflated = decompress(await super().body(), encoding, limit)
        return self._inflated

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads_unique(await self.body())
        return self._json


class JsonBodyRoute(APIRoute):
    """A route whose JSON body is read by :class:`_JsonBodyRequest` (FastAPI's documented way
    to read a body otherwise: a custom ``APIRoute``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def read_body_here(request: Request) -> Response:
            return await handler(_JsonBodyRequest(request.scope, request.receive))

        return read_body_here
