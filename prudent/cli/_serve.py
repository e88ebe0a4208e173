"""The service commands: ``prudent serve`` and ``prudent feedback``; ``token`` is in ``_token``.

``register(app)`` adds them to the main Typer app. ``serve`` runs uvicorn (``_server``, imported
only then, like the settings' pydantic-settings: the help shows the defaults from
:mod:`prudent._defaults`, so that no other command imports the server stack).
"""

from __future__ import annotations

import logging
import logging.config
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from prudent import _defaults
from prudent.cli._logdb import check_log_exists
from prudent.errors import ConfigError, DataError, FeedbackError

if TYPE_CHECKING:
    from prudent.config import Settings
    from prudent.feedback import LabelOutcome

__all__ = ["export_settings", "register"]

Opt = typer.Option
logger = logging.getLogger("prudent.cli")


def export_settings(settings: Settings) -> dict[str, str]:
    """Return the environment that makes ``Settings.load()`` in a worker equal ``settings``.

    Examples
    --------
    >>> from prudent.config import Settings
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


def _default(field: str) -> str:
    """``[default: …]`` for help text, from the setting's default (escaped for rich markup)."""
    value = getattr(_defaults, field.upper())
    return f"\\[default: {value}; env PRUDENT_{field.upper()}]"


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
    from prudent.config import Settings

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
    _run(settings, registry)


def _run(settings: Settings, registry: Path | None) -> None:
    """Start the service (uvicorn, one process or ``settings.workers``) until it is stopped."""
    from prudent.api import StartingApp
    from prudent.cli._server import build_service, listen, log_config, run_app
    from prudent.config import is_loopback

    logging.config.dictConfig(log_config())
    sockets = listen(settings.host, settings.port)  # a port in use: refused before anything
    if registry is not None and settings.burn_in_interval > 0:
        from prudent.cli._registry import watch_burn_in

        watch_burn_in(registry, settings.log_db, settings.burn_in_interval)
    if not is_loopback(settings.host):
        logger.warning("Listening on %s: the service is reachable from the network.", settings.host)
    if settings.workers == 1:
        run_app(StartingApp(lambda: build_service(settings)), settings, sockets)
        return
    for sock in sockets:
        sock.close()  # uvicorn's supervisor binds the address again, before any worker starts
    if settings.log_db.startswith("sqlite"):
        logger.warning(
            "%d workers share one SQLite file; use PostgreSQL to scale writes.", settings.workers
        )
    _run_workers(settings)


def _run_workers(settings: Settings) -> None:
    """uvicorn's supervisor over ``settings.workers`` processes, which share the metrics folder
    (a temporary one unless given) and read their settings from the environment."""
    from prudent.cli._server import run_workers

    folder = None
    if settings.prometheus_multiproc_dir is None:
        folder = tempfile.mkdtemp(prefix="prudent-metrics-")
        settings = settings.model_copy(update={"prometheus_multiproc_dir": Path(folder)})
    os.environ.update(export_settings(settings))
    try:
        run_workers(settings)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def feedback(
    bundle: Annotated[
        Path,
        typer.Argument(
            help="Bundle directory (its classes; an older model's prediction is checked "
            "against that model's, as the log records them)."
        ),
    ],
    labels: Annotated[Path, typer.Argument(help="Table with columns prediction_id,label.")],
    log_db: Annotated[str | None, Opt("--log-db", help=_LOG_DB)] = None,
    source: Annotated[str, Opt(help="Recorded as who gave the labels.")] = "cli",
) -> None:
    """Attach true labels from a file to logged predictions, row by row.

    Prints how many were stored, duplicates, corrections, unknown ids and refused labels, then
    each refused row and why; exits 1 when a row was refused (the others are stored).
    """
    from prudent.bundle import load
    from prudent.config import Settings
    from prudent.data import read_table
    from prudent.feedback import PredictionClasses, ingest_labels, outcome_counts
    from prudent.store import SqlPredictionLog

    settings = Settings.load(log_db=log_db)
    model = load(bundle)
    table = read_table(labels, text=("prediction_id", "label"))  # as written: "01" is not 1
    missing = [c for c in ("prediction_id", "label") if c not in table.columns]
    if missing:
        raise DataError(
            f"Labels file '{labels}' lacks column(s) {missing}; it needs prediction_id,label."
        )
    check_log_exists(settings.log_db, FeedbackError)
    pairs = list(zip(table["prediction_id"], table["label"], strict=True))
    with SqlPredictionLog.open(settings.log_db, synchronous=settings.synchronous) as log:
        if log.count(model_version=model.version) == 0:
            raise FeedbackError(
                f"The prediction log {settings.log_db} holds no prediction of bundle "
                f"{model.version} ('{bundle}'); pass the --log-db that `prudent serve` used."
            )
        classes = PredictionClasses(log, model.version, model.classes)
        outcomes = ingest_labels(log, pairs, source=source, classes_of=classes)
    counts = outcome_counts(outcomes)
    counts["stored"] = counts.pop("created", 0)
    kinds = ("stored", "duplicate", "correction", "unknown", "refused")
    Console(highlight=False).print(", ".join(f"{counts.get(k, 0)} {k}" for k in kinds))
    _exit_on_failures(outcomes)


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
