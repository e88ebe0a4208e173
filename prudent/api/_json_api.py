"""Routes of the plain JSON API (``/predict``, ``/feedback``) and ``/metrics``."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from prudent.api._body import JsonBodyRoute
from prudent.api._errors import ApiError, status_of
from prudent.api._inputs import record_inputs
from prudent.api._schemas import (
    ApiModels,
    FeedbackBatch,
    FeedbackRequest,
    FeedbackResponse,
    StrictQuery,
    feedback_pairs,
)
from prudent.api._text import check_texts
from prudent.api._v2 import BODY_ERRORS, ERRORS, service_of
from prudent.data import validate_frame
from prudent.feedback import LabelOutcome, PredictionClasses, ingest_labels, outcome_counts
from prudent.models._explain import explain_predictions
from prudent.serve import CONTENT_TYPE, Rows, as_frame, render_metrics

__all__ = ["add_json_routes"]


def _records(body_records: list[Any]) -> list[dict[str, Any]]:
    """The records as dicts of the fields received (a left-out key stays out)."""
    return [
        r.model_dump(by_alias=True, exclude_unset=True) if isinstance(r, BaseModel) else r
        for r in body_records
    ]


ExplainQuery = Annotated[
    bool,
    Query(
        description="Add each row's top contributions ('explanation'), where the model gives them."
    ),
]


async def predict(
    body: Any,
    request: Request,
    strict: bool = False,
    explain: bool = False,
    *,
    limits_checked: bool = False,
) -> Response:
    """Predict the records; answer the same fields as ``prudent predict`` plus ``prediction_id``.

    A record's values are read as in the training file: numbers and booleans may be strings
    (``"3.5"``, ``"yes"``), a missing value is null, a left-out key or ``""``/``NA``/``null``…
    Keys that are not model inputs are ignored and named in the ``X-Prudent-Ignored-Fields``
    header (a JSON list); ``?strict=true`` refuses them instead. Every bad value is listed in
    the 400 answer's ``errors``. Every prediction is committed to the log before this answers.
    ``?explain=true`` adds each row's ``explanation`` (see ``Bundle.predict(explain=True)``).
    """
    service = service_of(request)
    predictor = service.predictor_for(service.settings.model_name)
    schema = predictor.bundle.schema
    records = _records(body.records)
    given, headers = record_inputs(records, schema, strict=strict)
    batch = await predictor.predict_records(given, limits_checked=limits_checked)
    rows = batch.rows()
    if explain:
        found = await asyncio.to_thread(_explanations, predictor.bundle, given, batch.predictions)
        for row, explanation in zip(rows, found, strict=True):
            row["explanation"] = explanation
    answer = {
        "id": body.id,
        "model_name": batch.model_name,
        "model_version": batch.model_version,
        "predictions": rows,
    }
    return JSONResponse(answer, headers=headers)


def _explanations(bundle: Any, given: Rows, predictions: Any) -> list[Any]:
    """Each row's top contributions, or ``None`` per row when the primary gives none."""
    frame = as_frame(given)
    X = validate_frame(frame, bundle.schema)[0]
    found = explain_predictions(bundle.model, X, predictions)
    return found if found is not None else [None] * len(frame)


async def feedback(body: FeedbackRequest, request: Request) -> FeedbackResponse:
    """Record true labels row by row: 200 with each one's status — ``created``, ``duplicate``
    (the same label again; nothing stored), ``correction`` (a different label, stored with its
    time; the earlier one is kept), ``unknown`` (no such prediction id) or ``refused`` (a label
    not among the classes of the model that made that prediction, or a review case held by
    another reviewer), the refused ones with ``field`` and ``error``; the other rows are
    stored. When no row is stored: 404 for an unknown id, 400 for a label, 403 for a held case
    (the first row's refusal), with every row in ``errors``. A body that does not match the
    published schema is 400 as a whole."""
    service = service_of(request)
    predictor = service.predictor_for(service.settings.model_name)
    pairs = feedback_pairs(body)
    where = "items.{i}.{name}" if isinstance(body, FeedbackBatch) else "{name}"  # as sent
    check_texts(
        (where.format(i=i, name=name), None, value)
        for i, pair in enumerate(pairs)
        for name, value in zip(("prediction_id", "label"), pair, strict=True)
    )
    outcomes = await asyncio.to_thread(
        ingest_labels,
        predictor.log,
        pairs,
        source=str(request.state.principal),
        classes_of=PredictionClasses(predictor.log, predictor.bundle.version, predictor.classes),
    )
    for o in outcomes:
        service.metrics.feedback.labels(status=o.status).inc()
    if all(o.error is not None for o in outcomes):
        raise _refusal(outcomes)
    items = [_item(o) for o in outcomes]
    return FeedbackResponse.model_validate({"items": items, "counts": outcome_counts(outcomes)})


def _item(outcome: LabelOutcome) -> dict[str, Any]:
    r, problem = outcome.result, outcome.problem
    item: dict[str, Any] = {"prediction_id": outcome.prediction_id, "status": outcome.status}
    if r is not None:
        return (
            item
            | {"label": r.label, "previous_label": r.previous_label}
            | {"received_at": r.received_at}
        )
    assert problem is not None
    return item | {"label": outcome.label, "field": problem.field, "error": problem.expected}


def _refusal(outcomes: list[LabelOutcome]) -> ApiError:
    """Every row was refused: the first refusal's status, every row's problem in ``errors``."""
    first = outcomes[0]
    assert first.error is not None and first.problem is not None
    problems = [o.problem for o in outcomes if o.problem is not None]
    message = str(first.error)
    if len(outcomes) > 1:
        message += f" (every one of the {len(outcomes)} labels was refused, listed in errors)"
    return ApiError(status_of(first.error), message, field=first.problem.field, problems=problems)


async def metrics(request: Request) -> Response:
    """The metrics, in the Prometheus text format."""
    service = service_of(request)
    text = render_metrics(service.metrics.registry, service.settings.prometheus_multiproc_dir)
    return Response(text, media_type=CONTENT_TYPE)


def add_json_routes(app: FastAPI, models: ApiModels) -> None:
    """Add the JSON routes to ``app``, with the bundle's request models."""
    tags: list[str | Any] = ["JSON API"]

    async def predict_route(
        body: Any, request: Request, strict: StrictQuery = False, explain: ExplainQuery = False
    ) -> Response:
        return await predict(body, request, strict, explain, limits_checked=models.checks_limits)

    async def feedback_route(body: Any, request: Request) -> FeedbackResponse:
        return await feedback(body, request)

    predict_route.__annotations__ |= {"body": models.predict_request}
    predict_route.__doc__ = predict.__doc__
    feedback_route.__annotations__ = feedback.__annotations__ | {"body": models.feedback_request}
    feedback_route.__doc__ = feedback.__doc__
    app.router.add_api_route(
        "/predict",
        predict_route,
        methods=["POST"],
        tags=tags,
        responses={**BODY_ERRORS, 200: {"model": models.predict_response}},
        response_class=JSONResponse,
        route_class_override=JsonBodyRoute,
    )
    app.router.add_api_route(
        "/feedback",
        feedback_route,
        methods=["POST"],
        tags=tags,
        responses=BODY_ERRORS,
        route_class_override=JsonBodyRoute,
    )
    app.add_api_route(
        "/metrics",
        metrics,
        methods=["GET"],
        responses={**ERRORS, 200: {"content": {"text/plain": {}}}},
        response_class=Response,
        tags=["Monitoring"],
    )
