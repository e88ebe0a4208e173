"""The review page, ``/review``: one case at a time, labelled by keyboard or click.

Each action (label, skip, flag, undo) answers the next case as the ``#case`` fragment when
htmx asks (header ``HX-Request``), or the whole page for a plain form POST. A label goes
through :func:`prudent.feedback.label_case`, that is ``ingest_labels`` as ``POST /feedback``
and ``prudent review label`` (idempotent; another label is a correction with its time).
Undo brings the last labelled case back, so that the next label corrects it; the case it
replaces returns to the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from prudent.api._errors import ApiError
from prudent.api._pages import csrf_token, html_response, logout_form, page_html, read_form
from prudent.api._review_html import Flash, case_html, empty_html, review_body
from prudent.api._text import text_flaw
from prudent.api._v2 import service_of
from prudent.errors import FeedbackError, PrudentError, UnknownPredictionError
from prudent.feedback import (
    NearestRows,
    PredictionClasses,
    case_view,
    label_case,
    set_aside_case,
)
from prudent.serve import Predictor
from prudent.store import CaseStatus, FeedbackResult, ReviewCase

__all__ = ["add_review_routes"]

_SCRIPTS = ("htmx.min.js", "review.js")


def _predictor(request: Request) -> Predictor:
    service = service_of(request)
    return service.predictor_for(service.settings.model_name)


def _nearest_rows(request: Request, predictor: Predictor) -> NearestRows | None:
    """The bundle's labelled evidence rows, read once per bundle version."""
    bundle = predictor.bundle
    cached = getattr(request.app.state, "review_rows", None)
    if cached is None or cached[0] != bundle.version:
        cached = request.app.state.review_rows = (bundle.version, NearestRows.from_bundle(bundle))
    found: NearestRows | None = cached[1]
    return found


def _reviewer(request: Request) -> str:
    return str(request.state.principal)


def _take(predictor: Predictor, reviewer: str, wanted: str | None) -> ReviewCase | None:
    """The case ``wanted`` (claimed again, or shown for correction once labelled), else the
    one this reviewer holds, else the first free one: opening the page again takes no
    second case."""
    log = predictor.log
    if wanted and text_flaw(wanted) is None:  # no id holds a NUL: the log could not be asked
        try:
            case = log.review_case(wanted)
            if case.status is CaseStatus.LABELED:
                return case
            return log.claim(wanted, reviewer)
        except (FeedbackError, UnknownPredictionError):
            pass  # gone, labelled by another or held by another: serve the next one
    return log.claim_next(reviewer, resume=True)


async def _answer(
    request: Request,
    wanted: str | None = None,
    *,
    last: str | None = None,
    flash: Flash | None = None,
) -> Response:
    predictor = _predictor(request)
    reviewer = _reviewer(request)
    case = await asyncio.to_thread(_take, predictor, reviewer, wanted)
    csrf = csrf_token(request)
    if case is None:
        inner = empty_html(csrf, last=last, flash=flash)
    else:
        seen, nearest = predictor.bundle.model.training_values, _nearest_rows(request, predictor)
        view = case_view(case, predictor.bundle.schema, seen, nearest)
        made_by = PredictionClasses(predictor.log, predictor.bundle.version, predictor.classes)
        classes = [str(c) for c in made_by.of(case.record)]
        rows = 0 if seen is None else seen.rows
        inner = case_html(view, classes, csrf, last=last, flash=flash, seen_rows=rows)
    if request.headers.get("hx-request") == "true":
        response = html_response(request, inner)
        if case is not None:
            response.headers["HX-Push-Url"] = f"/review?case={case.record.id}"
        return response
    waiting = await asyncio.to_thread(predictor.log.count_review)
    body = review_body(
        inner,
        reviewer=reviewer,
        waiting=waiting,
        model=predictor.model_name,
        logout=logout_form(request),
    )
    return html_response(request, page_html("Review", body, scripts=_SCRIPTS))


async def review_page(request: Request, case: str | None = None) -> Response:
    """The review page: the case ``case`` when this reviewer may hold it, else the next one."""
    return await _answer(request, case)


async def next_case(request: Request) -> Response:
    """The next free case, claimed for this reviewer (the ``#case`` fragment)."""
    return await _answer(request)


def _case_id(form: dict[str, str], name: str = "prediction_id") -> str:
    value = form.get(name, "").strip()
    if not value:
        raise ApiError(400, f"The form has no {name!r}; reload the page.", field=name)
    return value


async def label(request: Request) -> Response:
    """Label the case (form fields ``prediction_id``, ``label``) and show the next one."""
    form = await read_form(request)
    case_id, given = _case_id(form), form.get("label", "")
    predictor, service = _predictor(request), service_of(request)
    # the classes of the model that made the prediction, as POST /feedback checks them
    made_by = PredictionClasses(predictor.log, predictor.bundle.version, predictor.classes)
    reviewer = _reviewer(request)

    def record() -> FeedbackResult:
        return label_case(predictor.log, case_id, given, reviewer, made_by(case_id))

    try:
        r = await asyncio.to_thread(record)
    except PrudentError:
        service.metrics.feedback.labels(status="refused").inc()
        raise
    service.metrics.feedback.labels(status=r.status.value).inc()
    was = "" if r.previous_label is None else f", was {r.previous_label!r}"
    flash = Flash(f"{case_id}: labelled {r.label!r} ({r.status.value}{was}).")
    return await _answer(request, last=case_id, flash=flash)


async def _set_aside(request: Request, status: CaseStatus) -> Response:
    form = await read_form(request)
    case_id = _case_id(form)
    predictor = _predictor(request)
    await asyncio.to_thread(set_aside_case, predictor.log, case_id, _reviewer(request), status)
    flash = Flash(f"{case_id}: {status.value}.", "note")
    return await _answer(request, last=form.get("last") or None, flash=flash)


async def skip(request: Request) -> Response:
    """Skip the case (it waits for whoever claims it by id) and show the next one."""
    return await _set_aside(request, CaseStatus.SKIPPED)


async def flag(request: Request) -> Response:
    """Flag the case for an administrator and show the next one."""
    return await _set_aside(request, CaseStatus.FLAGGED)


async def undo(request: Request) -> Response:
    """Bring back the last labelled case (field ``last``); its next label is a correction."""
    form = await read_form(request)
    last, current = _case_id(form, "last"), form.get("prediction_id") or None
    predictor, reviewer = _predictor(request), _reviewer(request)
    if current is not None and current != last:
        await asyncio.to_thread(_release_quietly, predictor, current, reviewer)
    flash = Flash(f"{last}: back for correction; its label stands until you pick another.", "note")
    return await _answer(request, last, flash=flash)


def _release_quietly(predictor: Predictor, case_id: str, reviewer: str) -> None:
    with contextlib.suppress(FeedbackError):  # labelled, set aside or taken over meanwhile
        predictor.log.release(case_id, reviewer)


def add_review_routes(app: FastAPI) -> None:
    """Add ``/review`` and its actions to ``app``."""
    options: dict[str, Any] = {"include_in_schema": False, "response_class": Response}
    app.add_api_route("/review", review_page, methods=["GET"], **options)
    app.add_api_route("/review/next", next_case, methods=["GET"], **options)
    for name, endpoint in (("label", label), ("skip", skip), ("flag", flag), ("undo", undo)):
        app.add_api_route(f"/review/{name}", endpoint, methods=["POST"], **options)
