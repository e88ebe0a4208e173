"""The dashboard, ``/``: the model over time, its alerts, the queue and its promises.

The figures are :func:`prudent.monitor.monitor_log`'s, read from the service's own log
database (a SQL log; an in-memory one has no dashboard): windows of an hour over the last two
days by default (``?window=day``, ``?window=500`` for every 500 predictions, ``?hours=N``),
the alerts pending or firing as the service's evaluator last stored them (``alerts.yaml``),
the queue's length, the labels received
lately, and the bundle's promises, measured at fit and in service (all windows pooled).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.responses import Response

from prudent.api._alerting import sql_log_url
from prudent.api._dashboard_html import dashboard_body
from prudent.api._errors import ApiError
from prudent.api._pages import html_response, logout_form, page_html
from prudent.api._v2 import service_of
from prudent.bundle import Promise
from prudent.errors import BundleError, ConfigError
from prudent.feedback import LabelRate, label_rate
from prudent.monitor import (
    AlertState,
    MonitorReport,
    Reference,
    SummaryOptions,
    WindowSpec,
    WindowSummary,
    alert_states,
    load_rules,
    monitor_log,
)
from prudent.serve import Predictor
from prudent.store import utc_now

__all__ = ["Board", "add_dashboard_routes"]

_EVERYTHING = WindowSpec("rows", 10**12)
_MAX_HOURS = 24 * 90
_SHOWN = SummaryOptions(min_count=1, min_labels=1)
"""Every figure is drawn with its interval, so a small window is shown (its interval wide)."""


@dataclass(frozen=True, slots=True)
class Board:
    """What the dashboard shows (see the module docstring)."""

    model: str
    version: str
    report: MonitorReport
    alerts: tuple[AlertState, ...]
    pooled: WindowSummary | None
    waiting: int
    rate: LabelRate
    promises: tuple[Promise, ...]


def _reference(request: Request, predictor: Predictor) -> Reference:
    """The bundle's monitoring reference, built once per bundle version."""
    bundle = predictor.bundle
    cached = getattr(request.app.state, "dashboard_reference", None)
    if cached is None or cached[0] != bundle.version:
        reference = Reference.from_bundle(bundle)
        cached = request.app.state.dashboard_reference = (bundle.version, reference)
    found: Reference = cached[1]
    return found


def _collect(
    predictor: Predictor,
    reference: Reference,
    url: str,
    spec: WindowSpec,
    hours: int,
    rules: Path | None = None,
) -> Board:
    now = utc_now()
    since = now - timedelta(hours=hours)
    report = monitor_log(url, reference, window=spec, since=since, summary_options=_SHOWN)
    pooled = monitor_log(
        url, reference, window=_EVERYTHING, since=since, drift_sample=1, summary_options=_SHOWN
    )
    alerts = alert_states(url, load_rules(rules))
    try:
        promises = predictor.bundle.evidence.trust.promises
    except BundleError:  # evidence of a newer layout: the page shows the service's figures
        promises = []
    return Board(
        model=predictor.model_name,
        version=predictor.bundle.version,
        report=report,
        alerts=tuple(a for a in alerts if a.state in ("pending", "firing")),
        pooled=pooled.windows[-1] if pooled.windows else None,
        waiting=predictor.log.count_review(),
        rate=label_rate(url, now),
        promises=tuple(promises),
    )


def _log_url(predictor: Predictor, configured: str) -> str:
    """The log's URL with its password (the log shows it hidden)."""
    url = sql_log_url(predictor, configured)
    if url is None:
        raise ApiError(503, "The dashboard reads a SQL prediction log; this service has none.")
    return url


def _window(text: str) -> WindowSpec:
    try:
        return WindowSpec.parse(text)
    except ConfigError as exc:
        raise ApiError(400, str(exc), field="window") from exc


async def dashboard(request: Request, window: str = "hour", hours: int = 48) -> Response:
    """The dashboard page (roles ``admin`` and ``review``)."""
    if not 1 <= hours <= _MAX_HOURS:
        raise ApiError(
            400,
            f"hours must be in [1, {_MAX_HOURS}], but {hours} was received; pass e.g. ?hours=48.",
            field="hours",
        )
    service = service_of(request)
    predictor = service.predictor_for(service.settings.model_name)
    url = _log_url(predictor, str(service.settings.log_db))
    reference = await asyncio.to_thread(_reference, request, predictor)
    rules = service.settings.alerts
    board = await asyncio.to_thread(
        _collect, predictor, reference, url, _window(window), hours, rules
    )
    body = dashboard_body(board, hours=hours, logout=logout_form(request))
    return html_response(request, page_html(f"prudent · {board.model}", body))


def add_dashboard_routes(app: FastAPI) -> None:
    """Add ``GET /`` to ``app``."""
    app.add_api_route(
        "/", dashboard, methods=["GET"], include_in_schema=False, response_class=Response
    )
