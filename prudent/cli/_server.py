"""The uvicorn side of ``prudent serve``, imported only when a service is started.

On SIGTERM the service stops being ready at once, requests already started finish, the
prediction log is flushed and closed, and the process exits within ``shutdown_timeout_s`` (8 s
by default). On SIGHUP one worker swaps in the bundle folder's current contents (as
``POST /admin/reload``); with ``--workers N`` uvicorn's supervisor replaces the workers one by
one instead. Kept apart from the commands (``_serve``) so that every other command starts
without uvicorn, pydantic-settings or the HTTP stack.
"""

from __future__ import annotations

import asyncio
import copy
import errno
import logging
import signal
import socket
import threading
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from prudent.api import StartingApp
from prudent.config import Settings
from prudent.errors import ConfigError

__all__ = [
    "build_service",
    "listen",
    "log_config",
    "run_app",
    "run_workers",
    "starting_app_from_env",
]


class _DrainingServer(uvicorn.Server):
    """uvicorn's server, telling the app to stop being ready as soon as a signal arrives, and
    to reload its bundle on SIGHUP."""

    def __init__(self, config: uvicorn.Config, on_exit: Any, on_hangup: Any) -> None:
        super().__init__(config)
        self._on_exit = on_exit
        self._on_hangup = on_hangup

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_exit()
        super().handle_exit(sig, frame)

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        main = threading.current_thread() is threading.main_thread()
        if main:
            loop.add_signal_handler(signal.SIGHUP, self._on_hangup)
        try:
            await super().serve(sockets)
        finally:
            if main:
                loop.remove_signal_handler(signal.SIGHUP)


def listen(host: str, port: int) -> list[socket.socket]:
    """Bind the service's address now, as uvicorn would (every address ``host`` names).

    uvicorn starts an app (which loads the bundle and creates the log database) before it
    binds; ``prudent serve`` binds first, so that a port in use ends it in one line, before
    anything is loaded or created (not after a false "ready").

    Parameters
    ----------
    host, port
        The address to listen on.

    Returns
    -------
    list of socket.socket
        Bound, not yet listening; uvicorn listens on them.

    Raises
    ------
    ConfigError
        The port is in use, or the address cannot be bound (named, with the system's reason).
    """
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(
            f"host {host!r} is not an address this machine can listen on ({exc.strerror}); "
            "give one with --host, such as 127.0.0.1."
        ) from None
    bound: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(found):
            _bind(bound, family, kind, proto, address)
        if not bound:
            raise OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address")
    except OSError as exc:
        for sock in bound:
            sock.close()
        raise ConfigError(_bind_refusal(host, port, exc)) from None
    return bound


def _bind(bound: list[socket.socket], family: int, kind: int, proto: int, address: Any) -> None:
    """Bind one address as asyncio's ``create_server`` does, appending the socket to
    ``bound``; an address of a family not enabled here (IPv6 in a container) is left out."""
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRNOTAVAIL:
            return
        raise
    bound.append(sock)


def _bind_refusal(host: str, port: int, exc: OSError) -> str:
    """The one line that says why ``host:port`` cannot be listened on, and the fix."""
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is in use; stop what listens there, or choose another "
            "port with --port (or PRUDENT_PORT)."
        )
    hint = " (ports below 1024 need privileges)" if exc.errno == errno.EACCES else ""
    return f"cannot listen on port {port} of {host}: {exc.strerror}{hint}; check --host and --port."


def _announce(settings: Settings) -> None:
    """uvicorn's own "running on" line, which it leaves out for sockets bound before it."""
    url = f"http://{settings.host}:{settings.port}"
    if ":" in settings.host:
        url = f"http://[{settings.host}]:{settings.port}"
    logging.getLogger("uvicorn.error").info("Uvicorn running on %s (Press CTRL+C to quit)", url)


def run_app(app: Any, settings: Settings, sockets: list[socket.socket] | None = None) -> None:
    """Serve ``app`` with uvicorn in this process until SIGTERM or SIGINT.

    The app stops being ready as soon as the signal arrives; requests already started get up to
    ``settings.shutdown_timeout_s`` to finish; then the log is flushed and closed. SIGHUP
    reloads the bundle.

    Parameters
    ----------
    app
        The ASGI app built by :func:`prudent.api.create_app`, or a :class:`StartingApp` that
        builds it once listening.
    settings
        Host, port and shutdown timeout.
    sockets
        The sockets :func:`listen` bound; bound here (before the app starts) when None.

    Raises
    ------
    ConfigError
        The address cannot be listened on (a port in use): before the app starts.
    PrudentError
        When a ``StartingApp`` could not build the service (bad tokens file, …).
    """
    if sockets is None:
        sockets = listen(settings.host, settings.port)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout_s)),
        log_level="info",
        log_config=log_config(),
    )
    hooks = app if isinstance(app, StartingApp) else app.state.prudent
    server = _DrainingServer(config, hooks.drain, hooks.reload_soon)
    if isinstance(app, StartingApp):
        app.on_failure = lambda: setattr(server, "should_exit", True)
    _announce(settings)
    server.run(sockets=sockets)
    if isinstance(app, StartingApp) and app.error is not None:
        raise app.error


def run_workers(settings: Settings) -> None:
    """Serve with ``settings.workers`` processes under uvicorn's supervisor until stopped.

    Each worker builds the service from the ``PRUDENT_*`` environment
    (:func:`starting_app_from_env`), which the caller has set to equal ``settings``. The
    supervisor binds the address itself, before any worker starts; call :func:`listen` first
    (and close its sockets) for a one-line refusal of a port in use.

    Parameters
    ----------
    settings
        Host, port, number of workers and shutdown timeout.
    """
    uvicorn.run(
        "prudent.cli._server:starting_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout_s)),
        log_config=log_config(),
    )


def build_service(settings: Settings) -> Any:
    """Build the whole service (:func:`prudent.api.create_app`), skops imported first.

    Importing ``skops.io`` the way the command line does (:func:`prudent._compat.import_skops_io`)
    before the app and the bundle spares the service's start skops' import of every
    scikit-learn module (and through it torch and dask) and SciPy's rewriting of docstrings:
    about 5.5 s of the 12 s of CPU a tabular bundle took to become ready. prudent checks each
    bundle's types against its own rule and passes them to skops, so nothing trusted changes.

    Parameters
    ----------
    settings
        The service's settings.

    Returns
    -------
    fastapi.FastAPI
        The app.
    """
    from prudent._compat import import_skops_io

    import_skops_io()
    from prudent.api import create_app

    return create_app(settings)


def starting_app_from_env() -> StartingApp:
    """A :class:`StartingApp` building the service from ``PRUDENT_*`` (uvicorn ``--factory``).

    Returns
    -------
    StartingApp
        Live at once; the service takes over once built.
    """
    return StartingApp(lambda: build_service(Settings.load()))


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration plus prudent's loggers (applied in every worker).

    Returns
    -------
    dict
        A :func:`logging.config.dictConfig` configuration.
    """
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["prudent"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
