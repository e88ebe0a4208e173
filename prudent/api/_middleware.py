"""Pure ASGI middleware: the request body limit, the body's media type and the request metrics."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prudent.api._auth import route_of
from prudent.api._errors import error_response
from prudent.serve import ServeMetrics

__all__ = ["BODY_TYPES", "BodyLimitMiddleware", "MediaTypeMiddleware", "RequestMetricsMiddleware"]

_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


def _content_length(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            return str(value.decode("latin-1"))
    return None


class BodyLimitMiddleware:
    """Refuse a body over ``max_bytes`` with 413, before reading it whole.

    A declared ``Content-Length`` over the limit is refused before any byte is read; a body
    streamed without one is read chunk by chunk and refused as soon as it passes the limit, so
    at most ``max_bytes`` plus one chunk is ever held. A body within the limit is handed to the
    app unchanged.

    Parameters
    ----------
    app
        The next ASGI app.
    max_bytes
        The largest body accepted.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self, size: str) -> ASGIApp:
        return error_response(
            413,
            f"The request body is {size} bytes, but at most {self.max_bytes} are accepted "
            "(PRUDENT_MAX_BODY_BYTES); send fewer rows per request.",
            headers={"Connection": "close"},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            if not declared.isdigit():
                await error_response(400, f"Content-Length {declared!r} is not a number.")(
                    scope, receive, send
                )
                return
            await self._too_large(declared)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._too_large(f"more than {self.max_bytes}")(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


_JSON = ("application/json",)
_TENSORS = ("application/json", "application/octet-stream")
_FORM = ("application/x-www-form-urlencoded",)
BODY_TYPES: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/predict"): _JSON,
    ("POST", "/feedback"): _JSON,
    ("POST", "/v2/models/{name}/infer"): _TENSORS,
    ("POST", "/v2/models/{name}/versions/{version}/infer"): _TENSORS,
    ("POST", "/login"): _FORM,
    ("POST", "/logout"): _FORM,
    ("POST", "/review/label"): _FORM,
    ("POST", "/review/skip"): _FORM,
    ("POST", "/review/flag"): _FORM,
    ("POST", "/review/undo"): _FORM,
}
"""(method, route template) → the media types its body may be sent as, the first one assumed
when the request gives no ``Content-Type`` (Triton's clients send none). Another is refused with
415 naming both; ``+json`` types count as JSON. Routes that read no body are not listed."""


def _media_type(scope: Scope) -> str | None:
    """The request's ``Content-Type`` without its parameters, lower-case; None when absent."""
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower() or None
    return None


def _accepts(types: tuple[str, ...], media: str) -> bool:
    return media in types or ("application/json" in types and media.endswith("+json"))


class MediaTypeMiddleware:
    """Refuse a body of a media type its route does not read with 415 (see :data:`BODY_TYPES`),
    and read a body sent without ``Content-Type`` as the route's first type."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        route = route_of(scope)
        types = BODY_TYPES.get(route) if route is not None else None
        media = _media_type(scope)
        if types is not None and media is None:
            headers = [*scope.get("headers", ()), (b"content-type", types[0].encode())]
            scope = {**scope, "headers": headers}
        elif types is not None and media is not None and not _accepts(types, media):
            message = (
                f"POST {scope.get('path', '')} takes a body of Content-Type "
                f"{' or '.join(types)}, but the request's is {media!r}; send it as {types[0]}."
            )
            await error_response(415, message, "Content-Type")(scope, receive, send)
            return
        await self.app(scope, receive, send)


class RequestMetricsMiddleware:
    """Count every HTTP answer and time it, by route template, method and status code."""

    def __init__(self, app: ASGIApp, *, metrics: ServeMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route = route_of(scope)
            endpoint = route[1] if route is not None else "unmatched"
            method = route[0] if route is not None and route[0] in _METHODS else "other"
            self.metrics.requests.labels(endpoint, method, str(status)).inc()
            self.metrics.request_duration.labels(endpoint).observe(time.perf_counter() - start)
