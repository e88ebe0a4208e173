"""The app factory: ``create_app(settings)`` builds the whole service; nothing at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from prometheus_client import CollectorRegistry

from prudent.api._admin import add_admin_routes
from prudent.api._alerting import AlertLoop
from prudent.api._auth import PUBLIC_ROUTES, AuthMiddleware
from prudent.api._dashboard import add_dashboard_routes
from prudent.api._errors import install_error_handlers
from prudent.api._json_api import add_json_routes
from prudent.api._login import add_login_routes
from prudent.api._middleware import (
    BodyLimitMiddleware,
    MediaTypeMiddleware,
    RequestMetricsMiddleware,
)
from prudent.api._pages import add_static_route
from prudent.api._review_page import add_review_routes
from prudent.api._schemas import ApiModels, api_models
from prudent.api._tokens import TokenFile
from prudent.api._v2 import V2_SCHEMAS, add_v2_routes
from prudent.config import Settings, is_loopback
from prudent.errors import ConfigError
from prudent.feedback import QueuePolicy, cost_table
from prudent.serve import BackupFn, PrimaryFn, ServeMetrics, Service
from prudent.store import LogStore, utc_now

if TYPE_CHECKING:
    from prudent.bundle import Bundle

__all__ = ["create_app", "create_app_from_env"]

logger = logging.getLogger("prudent.api")

_DESCRIPTION = """Predictions from a prudent bundle, each logged durably before it is answered.

* **Open Inference Protocol (KServe V2)** under `/v2`, JSON or Triton's binary tensor data.
* **JSON API**: `POST /predict` with `{"records": [...]}`; `POST /feedback` with true labels.
* **Admin**: `POST /admin/reload` swaps in a new bundle without dropping a request.
* Every route but `/v2/health/*` needs `Authorization: Bearer <token>`; see `docs/roles.md`.
"""


def _tokens(settings: Settings) -> TokenFile | None:
    if settings.no_auth:
        if not is_loopback(settings.host):
            raise ConfigError("--no-auth is allowed only on a loopback host such as 127.0.0.1.")
        logger.warning("Authentication is OFF (--no-auth): every local caller is admin.")
        return None
    if settings.tokens_file is None:
        raise ConfigError(
            "No tokens file: give --tokens FILE (create tokens with `prudent token add`), or "
            "--no-auth to serve on 127.0.0.1 without authentication."
        )
    return TokenFile(settings.tokens_file)


def _queue_policy(settings: Settings, bundle: Bundle) -> QueuePolicy:
    """The review queue's policy for ``bundle``: by expected cost when it has a cost matrix.

    The service builds it for every bundle it loads, so a hot swap brings the new bundle's
    costs (and a prediction is queued by the policy of the bundle that made it).
    """
    matrix = bundle.manifest.get("spec", {}).get("costs")
    costs = None if matrix is None else cost_table(matrix, bundle.classes)
    return QueuePolicy(audit_share=settings.review_audit_share, costs=costs)


def create_app(
    settings: Settings,
    *,
    bundle: Bundle | None = None,
    log: LogStore | None = None,
    clock: Callable[[], datetime] = utc_now,
    registry: CollectorRegistry | None = None,
    primary: PrimaryFn | None = None,
    backup: BackupFn | None = None,
) -> FastAPI:
    """Build the prediction service.

    Parameters
    ----------
    settings
        What to serve and how (see :class:`prudent.config.Settings`).
    bundle
        A loaded bundle to serve instead of loading ``settings.bundle``.
    log
        An open prediction log to use instead of opening ``settings.log_db`` (the caller
        closes it).
    clock
        Returns the current UTC time (stamped on the log records).
    registry
        Where the metrics are registered; a fresh one by default.
    primary, backup
        Replace the prediction paths (fault-injection seams for tests).

    Returns
    -------
    fastapi.FastAPI
        Loads the bundle in the background when it starts; ready once it is smoke-tested.

    Raises
    ------
    ConfigError
        No bundle, no tokens file without ``no_auth``, or an invalid tokens file.
    """
    tokens = _tokens(settings)
    metrics = ServeMetrics(registry)
    service = Service(
        settings,
        metrics,
        bundle=bundle,
        log=log,
        triage=partial(_queue_policy, settings),
        clock=clock,
        primary=primary,
        backup=backup,
    )
    schema, classes = service.describe()
    models = api_models(
        schema, classes, max_rows=settings.max_rows, max_chars=settings.max_string_chars
    )

    alerting = AlertLoop(settings, metrics, lambda: service.predictor)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.start()
        alerting.start()
        yield
        await asyncio.to_thread(alerting.stop)
        await service.stop()

    from prudent import __version__

    app = FastAPI(
        title="prudent",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.prudent = service
    app.state.tokens = tokens
    _install(app, settings, models, tokens, metrics)
    return app


def _install(
    app: FastAPI,
    settings: Settings,
    models: ApiModels,
    tokens: TokenFile | None,
    metrics: ServeMetrics,
) -> None:
    """Add to ``app`` its error handlers, routes and middleware (the last added runs first),
    and the OpenAPI document of its routes."""
    install_error_handlers(app)
    add_v2_routes(app)
    add_json_routes(app, models)
    add_admin_routes(app)
    add_login_routes(app)
    add_review_routes(app)
    add_dashboard_routes(app)
    add_static_route(app)
    app.add_middleware(MediaTypeMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AuthMiddleware, tokens=tokens)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    app.openapi = lambda: _openapi(app, auth=tokens is not None)  # type: ignore[method-assign]


def _openapi(app: FastAPI, *, auth: bool) -> dict[str, Any]:
    """The OpenAPI document, with the V2 request schema and the bearer-token scheme."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for name, model in V2_SCHEMAS.items():
            body = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(body.pop("$defs", {}))
            schemas[name] = body
        if auth:
            doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            doc["security"] = [{"bearer": []}]
            for path, methods in doc["paths"].items():
                for method, operation in methods.items():
                    if (method.upper(), path) in PUBLIC_ROUTES:
                        operation["security"] = []
        app.openapi_schema = doc
    return app.openapi_schema


def create_app_from_env() -> FastAPI:
    """Build the service from ``PRUDENT_*`` environment variables (for ``uvicorn --factory``).

    Returns
    -------
    fastapi.FastAPI
        ``create_app(Settings.load())``.
    """
    return create_app(Settings.load())
