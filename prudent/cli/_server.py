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
import signal
import socket
import threading
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from prudent.api import StartingApp
from prudent.config import Settings

__all__ = ["build_service", "log_config", "run_app", "run_workers", "starting_app_from_env"]


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


def run_app(app: Any, settings: Settings) -> None:
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

    Raises
    ------
    PrudentError
        When a ``StartingApp`` could not build the service (bad tokens file, …).
    """
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
    server.run()
    if isinstance(app, StartingApp) and app.error is not None:
        raise app.error


def run_workers(settings: Settings) -> None:
    """Serve with ``settings.workers`` processes under uvicorn's supervisor until stopped.

    Each worker builds the service from the ``PRUDENT_*`` environment
    (:func:`starting_app_from_env`), which the caller has set to equal ``settings``.

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
