"""The app ``prudent serve`` listens with from its first moment, while the service is built.

Building the service imports pandas, SQLAlchemy and the model libraries and loads the bundle:
seconds. :class:`StartingApp` answers meanwhile, so that ``/v2/health/live`` is 200 within about
a second of process start (R-V2-HEALTH): every other request gets 503 with ``Retry-After``
(readiness says "starting") until the service, built on a thread, takes over every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

__all__ = ["StartingApp"]

logger = logging.getLogger("prudent.api")

_Scope = dict[str, Any]
_Receive = Callable[[], Any]
_Send = Callable[[dict[str, Any]], Any]


async def _answer(send: _Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
    if status == 503:
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class StartingApp:
    """An ASGI app that is live at once and hands every request to the service once built.

    Parameters
    ----------
    build
        Builds the service's ASGI app (``prudent.api.create_app``); called on a thread.

    Attributes
    ----------
    app
        The service once built, else None.
    error
        Why the service could not be built, else None.
    on_failure
        Called (on the event loop) when building fails; ``run_app`` makes it stop the server.
    """

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self.app: Any = None
        self.error: BaseException | None = None
        self.on_failure: Callable[[], None] = lambda: None
        self._draining = False
        self._stack = contextlib.AsyncExitStack()

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif self.app is not None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await self._early(scope, send)

    async def _early(self, scope: _Scope, send: _Send) -> None:
        path, method = scope.get("path", ""), scope.get("method", "")
        if path == "/v2/health/live" and method in ("GET", "HEAD"):
            await _answer(send, 200, {"live": True})
            return
        why = "shutting down" if self._draining else "starting"
        if self.error is not None:
            why = f"the service could not start: {type(self.error).__name__}: {self.error}"
        body: dict[str, Any] = {"error": f"Not ready: {why}; retry in a moment."}
        await _answer(send, 503, body | ({"ready": False} if path == "/v2/health/ready" else {}))

    async def _lifespan(self, receive: _Receive, send: _Send) -> None:
        await receive()  # lifespan.startup
        building = asyncio.ensure_future(self._start())
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await building
        await self._stack.aclose()
        await send({"type": "lifespan.shutdown.complete"})

    async def _start(self) -> None:
        try:
            app = await asyncio.to_thread(self._build)
            await self._stack.enter_async_context(app.router.lifespan_context(app))
        except Exception as exc:
            self.error = exc
            logger.error("prudent could not start: %s: %s", type(exc).__name__, exc)
            self.on_failure()
            return
        self.app = app
        if self._draining:
            app.state.prudent.drain()

    def drain(self) -> None:
        """Stop being ready at once (a signal arrived); safe from a signal handler."""
        self._draining = True
        if self.app is not None:
            self.app.state.prudent.drain()

    def reload_soon(self) -> None:
        """Swap in the bundle folder's contents in the background (SIGHUP)."""
        if self.app is None:
            logger.warning("SIGHUP while starting: the bundle being loaded is the newest one.")
            return
        self.app.state.prudent.reload_soon()
