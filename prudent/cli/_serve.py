"""The service commands: ``prudent serve`` and ``prudent feedback``; ``token`` is in ``_token``.

``register(app)`` adds them to the main Typer app. ``serve`` runs uvicorn; on SIGTERM the
service stops being ready at once, requests already started finish, the prediction log is
flushed and closed, and the process exits within ``shutdown_timeout_s`` (8 s by default). On
SIGHUP one worker swaps in the bundle folder's current contents (as ``POST /admin/reload``);
with ``--workers N`` uvicorn's supervisor replaces the workers one by one instead.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import logging.config
import os
import shutil
import signal
import socket
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
import uvicorn
from rich.console import Console
from uvicorn.config import LOGGING_CONFIG

from prudent.api import StartingApp
from prudent.config import Settings, is_loopback
from prudent.errors import ConfigError, DataError, FeedbackError

if TYPE_CHECKING:
    from prudent.feedback import LabelOutcome

__all__ = ["export_settings", "register", "run_app", "starting_app_from_env"]

Opt = typer.Option
logger = logging.getLogger("prudent.cli")


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
        log_config=_log_config(),
    )
    hooks = app if isinstance(app, StartingApp) else app.state.prudent
    server = _DrainingServer(config, hooks.drain, hooks.reload_soon)
    if isinstance(app, StartingApp):
        app.on_failure = lambda: setattr(server, "should_exit", True)
    server.run()
    if isinstance(app, StartingApp) and app.error is not None:
        raise app.error


def _build(settings: Settings) -> Any:
    from prudent.api import create_app

    return create_app(settings)


def starting_app_from_env() -> StartingApp:
    """A :class:`StartingApp` building the service from ``PRUDENT_*`` (uvicorn ``--factory``).

    Returns
    -------
    StartingApp
        Live at once; the service takes over once built.
    """
    return StartingApp(lambda: _build(Settings.load()))


def export_settings(settings: Settings) -> dict[str, str]:
    """Return the environment that makes ``Settings.load()`` in a worker equal ``settings``.

    Examples
    --------
    >>> env = export_settings(Settings(bundle="model", port=9000))
    >>> env["PRUDENT_PORT"], env["PRUDENT_BUNDLE"]
    ('9000', 'model')
    """
    env = {}
    for name, value in settings.model_dump(exclude_none=True).items():
        key = "PROMETHEUS_MULTIPROC_DIR" if name == "prometheus_multiproc_dir" else name
        text = str(value).lower() if isinstance(value, bool) else str(value)
        env[key if key.isupper() else f"PRUDENT_{name.upper()}"] = text
    return env


def _log_config() -> dict[str, Any]:
    """uvicorn's logging configuration plus prudent's loggers (applied in every worker)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["prudent"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _default(field: str) -> str:
    """``[default: …]`` for help text, from the setting's default (escaped for rich markup)."""
    return f"\\[default: {Settings.model_fields[field].default}; env PRUDENT_{field.upper()}]"


_LOG_DB = f"Prediction log URL. {_default('log_db')}"


_SHADOW = (
    "Also score every request with this version (v3 or @challenger of --registry; a bundle "
    "folder without it), off the response path: its answers are logged under the same "
    "prediction ids, never served (compare: prudent registry shadow)."
)


def _shadow_path(shadow: str, registry: Path | None) -> Path:
    """The folder of ``--shadow``: a registry version, or a bundle folder."""
    if registry is not None:
        from prudent.retrain import Registry

        return Registry(registry).version(shadow).path
    path = Path(shadow)
    if not (path / "manifest.json").is_file():
        raise ConfigError(
            f"--shadow {shadow!r} is not a bundle folder (no manifest.json); give a bundle "
            "folder, or a version (v3, @challenger) with --registry DIR."
        )
    return path


def serve(
    bundle: Annotated[Path | None, typer.Argument(help="Bundle directory to serve.")] = None,
    registry: Annotated[
        Path | None, Opt(help="Serve this registry's champion; follow it when it moves.")
    ] = None,
    host: Annotated[str | None, Opt(help=f"Address to listen on. {_default('host')}")] = None,
    port: Annotated[int | None, Opt(help=f"TCP port. {_default('port')}")] = None,
    workers: Annotated[int | None, Opt(help=f"Server processes. {_default('workers')}")] = None,
    log_db: Annotated[str | None, Opt("--log-db", help=_LOG_DB)] = None,
    name: Annotated[
        str | None, Opt(help=f"Model name in /v2/models/NAME. {_default('model_name')}")
    ] = None,
    tokens: Annotated[
        Path | None, Opt(help="Tokens file (create with `prudent token add`).")
    ] = None,
    no_auth: Annotated[
        bool, Opt("--no-auth", metavar="", help="No tokens; only on 127.0.0.1.")
    ] = False,
    shadow: Annotated[str | None, Opt(help=_SHADOW, show_default=False)] = None,
) -> None:
    """Serve a bundle over HTTP: Open Inference Protocol (V2) and a JSON API, logged durably.

    Other settings come from PRUDENT_* environment variables (see prudent.config.Settings).
    """
    shadow_path = None if shadow is None else _shadow_path(shadow, registry)
    if registry is not None:
        from prudent.cli._registry import follow_champion

        if bundle is not None:
            raise ConfigError("Give a bundle or --registry DIR, not both.")
        bundle = follow_champion(registry)
    if bundle is None:
        raise ConfigError("Give the bundle folder to serve, or --registry DIR.")
    settings = Settings.load(
        bundle=bundle,
        host=host,
        port=port,
        workers=workers,
        log_db=log_db,
        model_name=name,
        tokens_file=tokens,
        no_auth=no_auth or None,
        shadow=shadow_path,
    )
    logging.config.dictConfig(_log_config())
    if registry is not None and settings.burn_in_interval > 0:
        from prudent.cli._registry import watch_burn_in

        watch_burn_in(registry, settings.log_db, settings.burn_in_interval)
    if not is_loopback(settings.host):
        logger.warning("Listening on %s: the service is reachable from the network.", settings.host)
    if settings.workers == 1:
        run_app(StartingApp(lambda: _build(settings)), settings)
        return
    if settings.log_db.startswith("sqlite"):
        logger.warning(
            "%d workers share one SQLite file; use PostgreSQL to scale writes.", settings.workers
        )
    folder = None
    if settings.prometheus_multiproc_dir is None:
        folder = tempfile.mkdtemp(prefix="prudent-metrics-")
        settings = settings.model_copy(update={"prometheus_multiproc_dir": Path(folder)})
    os.environ.update(export_settings(settings))
    try:
        uvicorn.run(
            "prudent.cli._serve:starting_app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout_s)),
            log_config=_log_config(),
        )
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def feedback(
    bundle: Annotated[Path, typer.Argument(help="Bundle directory (for its classes).")],
    labels: Annotated[Path, typer.Argument(help="Table with columns prediction_id,label.")],
    log_db: Annotated[str | None, Opt("--log-db", help=_LOG_DB)] = None,
    source: Annotated[str, Opt(help="Recorded as who gave the labels.")] = "cli",
) -> None:
    """Attach true labels from a file to logged predictions, row by row.

    Prints how many were stored, duplicates, corrections, unknown ids and refused labels, then
    each refused row and why; exits 1 when a row was refused (the others are stored).
    """
    from prudent.bundle import load
    from prudent.data import read_table
    from prudent.feedback import ingest_labels, outcome_counts
    from prudent.store import SqlPredictionLog

    settings = Settings.load(log_db=log_db)
    model = load(bundle)
    table = read_table(labels)
    missing = [c for c in ("prediction_id", "label") if c not in table.columns]
    if missing:
        raise DataError(
            f"Labels file '{labels}' lacks column(s) {missing}; it needs prediction_id,label."
        )
    _check_log_exists(settings.log_db)
    pairs = list(zip(table["prediction_id"], table["label"], strict=True))
    with SqlPredictionLog.open(settings.log_db, synchronous=settings.synchronous) as log:
        if log.count(model_version=model.version) == 0:
            raise FeedbackError(
                f"The prediction log {settings.log_db} holds no prediction of bundle "
                f"{model.version} ('{bundle}'); pass the --log-db that `prudent serve` used."
            )
        outcomes = ingest_labels(log, pairs, source=source, allowed_labels=model.classes)
    counts = outcome_counts(outcomes)
    counts["stored"] = counts.pop("created", 0)
    kinds = ("stored", "duplicate", "correction", "unknown", "refused")
    Console(highlight=False).print(", ".join(f"{counts.get(k, 0)} {k}" for k in kinds))
    _exit_on_failures(outcomes)


def _check_log_exists(url: str) -> None:
    """Refuse a SQLite log file that does not exist (opening would create an empty one)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database or ""
    sqlite_file = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if sqlite_file and not Path(database).is_file():
        raise FeedbackError(
            f"No prediction log at '{database}' (--log-db {url}); run this where "
            "`prudent serve` logged, or pass its --log-db."
        )


def _exit_on_failures(outcomes: list[LabelOutcome]) -> None:
    """List the unknown and refused ids, then why (first 20 of each), and exit 1 if any."""
    err = Console(stderr=True, highlight=False)
    refused = [o for o in outcomes if o.error is not None]
    for kind in ("unknown", "refused"):
        ids = [o.prediction_id for o in refused if o.status == kind]
        if ids:
            more = f" and {len(ids) - 20} more" if len(ids) > 20 else ""
            err.print(f"{kind} prediction_id(s): {', '.join(ids[:20])}{more}")
    for o in refused[:20]:
        err.print(f"row {o.row + 1}: {o.error}")
    if refused:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``serve``, ``feedback`` and ``token`` commands to ``app``."""
    from prudent.cli._token import register as register_token_commands

    app.command("serve")(serve)
    app.command("feedback")(feedback)
    register_token_commands(app)
