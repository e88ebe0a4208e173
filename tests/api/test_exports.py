"""The public surfaces of prudent.api and prudent.serve: sorted (ruff RUF022), complete."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

INTERNAL = {
    "prudent.api": {
        "AuthMiddleware",
        "JsonBodyRoute",
        "decompress",
        "loads_unique",
        "BodyLimitMiddleware",
        "MediaTypeMiddleware",
        "RequestMetricsMiddleware",
        "BODY_TYPES",
        "BODY_ERRORS",
        "MIN_NAME_CHARS",
        "check_tensor_names",
        "route_of",
        "error_body",
        "install_error_handlers",
        "V2Request",
        "DTYPES",
        "output_tensors",
        "output_metadata",
        "encode_response",
        "parse_request",
        "add_v2_routes",
        "add_json_routes",
        "add_admin_routes",
        "AlertLoop",
        "sql_log_url",
        "ReloadResponse",
        "service_of",
        "ERRORS",
        "V2_SCHEMAS",
        "ApiModels",
        "ErrorBody",
        "FeedbackBatch",
        "FeedbackItem",
        "FeedbackRequest",
        "FeedbackResponse",
        "InferenceRequest",
        "InferenceResponse",
        "ModelMetadata",
        "ServerMetadata",
        "UNION_TAGS",
        "PARAM_TAGS",
        "field_path",
        "said",
        "api_models",
        "feedback_model",
        "feedback_pairs",
        "FieldError",
        "model_inputs",
        "record_inputs",
        "EXPECTED_TEXT",
        "check_texts",
        "text_flaw",
        "predict_models",
        "find_token",
        "Role",
        "add_login_routes",
        "add_review_routes",
        "add_static_route",
        "csrf_token",
        "html_response",
        "logout_form",
        "page_html",
        "read_form",
        "static_file",
        "safe_next",
        "Flash",
        "case_html",
        "empty_html",
        "review_body",
        "add_dashboard_routes",
        "Board",
        "dashboard_body",
        "figure_text",
        "point",
        "COLOURS",
        "Point",
        "Series",
        "line_chart",
    },
    "prudent.serve": {
        "build_records",
        "logged_inputs",
        "rows_frame",
        "LogRows",
        "SMOKE_FILE",
        "Batcher",
        "Batch",
        "ChildSpec",
        "Reply",
        "ShadowProcess",
        "ChildHandle",
        "child_main",
        "child_context",
        "send_within",
        "load_in_child",
        "start_child",
        "ModelSpec",
        "ModelProcessLost",
        "ModelProcessLate",
        "model_main",
    },
}


def _isort_style(name: str) -> tuple[int, str]:
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


@pytest.mark.parametrize("name", ["prudent.api", "prudent.serve"])
def test_exports_are_sorted_and_cover_the_modules(name: str) -> None:
    package = importlib.import_module(name)
    assert package.__all__ == sorted(package.__all__, key=_isort_style)
    exported = set()
    for info in pkgutil.iter_modules(package.__path__):
        exported |= set(getattr(importlib.import_module(f"{name}.{info.name}"), "__all__", ()))
    assert exported - INTERNAL[name] == set(package.__all__)
    assert all(getattr(package, n) is not None for n in package.__all__)
