"""Bad input of every kind gets a 4xx JSON answer naming the field: never a 500 or a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from prudent.api import ERROR_STATUS, status_of
from prudent.api._schemas import api_models
from prudent.bundle import Bundle
from prudent.errors import InputLimitError, PrudentError
from prudent.serve import InputLimits
from tests.api.conftest import Tokens, make_client, wait_ready
from tests.serve._bundles import input_rows

LIMITS = {"max_rows": 5, "max_string_chars": 20, "max_body_bytes": 16_384}


@pytest.fixture(scope="module")
def mixed(
    mixed_bundle: Bundle, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The mixed bundle served with small limits."""
    with make_client(mixed_bundle, tmp_path_factory.mktemp("errors"), tokens, **LIMITS) as c:
        wait_ready(c)
        yield c
        assert _count_500(c, tokens) == 0


def _count_500(client: TestClient, tokens: Tokens) -> float:
    text = client.get("/metrics", headers=tokens.header("root")).text
    return sum(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "prudent_requests_total"
        and s.labels["code"].startswith("5")
        and s.labels["code"] != "503"
    )


def _record(**changes: Any) -> dict[str, Any]:
    row = input_rows("mixed", 1, seed=11).to_dict(orient="records")[0]
    return row | changes


def _post(client: TestClient, tokens: Tokens, path: str, body: Any) -> Any:
    if isinstance(body, bytes):
        headers = tokens.header("app") | {"content-type": "application/json"}
        return client.post(path, content=body, headers=headers)
    return client.post(path, json=body, headers=tokens.header("app"))


BAD_PREDICT = [
    (
        "wrong type",
        {"records": [_record(**{"petal_width_(cm)": "wide"})]},
        "petal_width_(cm)",
    ),
    ("bool as text", {"records": [_record(wide_sepal="perhaps")]}, "wide_sepal"),
    ("bool as 2", {"records": [_record(wide_sepal=2)]}, "wide_sepal"),
    ("nested value", {"records": [_record(petal_size={"a": 1})]}, "petal_size"),
    ("too many rows", {"records": [_record()] * 6}, "records"),
    ("long string", {"records": [_record(petal_size="x" * 21)]}, "petal_size"),
    ("empty records", {"records": []}, "records"),
    ("no records", {"rows": []}, "records"),
    ("long id", {"id": "i" * 129, "records": [_record()]}, "id"),
    ("not an object", [1, 2], "body"),
    ("infinity", b'{"records": [{"sepal_length_(cm)": Infinity}]}', "sepal_length_(cm)"),
    ("inf string", {"records": [_record(**{"sepal_length_(cm)": "inf"})]}, "sepal_length_(cm)"),
]


@pytest.mark.parametrize(("case", "body", "field"), BAD_PREDICT, ids=[c[0] for c in BAD_PREDICT])
def test_predict_bad_input_is_400_naming_the_field(
    mixed: TestClient, tokens: Tokens, case: str, body: Any, field: str
) -> None:
    response = _post(mixed, tokens, "/predict", body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["field"] == field
    assert "Traceback" not in response.text


def test_predict_malformed_json_is_400(mixed: TestClient, tokens: Tokens) -> None:
    response = _post(mixed, tokens, "/predict", b'{"records": [')
    assert response.status_code == 400
    assert response.json()["error"].startswith("The body is not valid JSON")


@pytest.mark.parametrize(
    ("body", "start"),
    [
        ('{"records": [{"petal_size": "Z\u00fcrich"}]}'.encode("latin-1"), "The body is not UTF-8"),
        (b'{"records": [{"petal_size": ' + b"[" * 5000 + b"]" * 5000 + b"}]}", "The body nests"),
        (
            b'{"records": [{"petal_size": 1' + b"0" * 5000 + b"}]}",
            "The body holds a whole number of 5001 digits, more than the 4300",
        ),
    ],
    ids=["latin-1", "nested 5000 deep", "5001 digits"],
)
def test_predict_body_that_cannot_be_parsed_says_why(
    mixed: TestClient, tokens: Tokens, body: bytes, start: str
) -> None:
    response = _post(mixed, tokens, "/predict", body)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(start), response.text


def test_predict_validator_messages_read_without_pydantic_prefix(
    mixed: TestClient, tokens: Tokens
) -> None:
    response = _post(mixed, tokens, "/predict", {"records": [_record(petal_size=[1])]})
    assert response.status_code == 400, response.text
    body = response.json()
    assert "Value error" not in response.text
    assert body["error"] == (
        "Field 'petal_size' of record 0: should be a string, number, boolean or null, not [1]."
    )
    assert body["errors"][0]["expected"] == "should be a string, number, boolean or null, not [1]"


def _tensor(name: str, data: list[Any], datatype: str = "FP64", shape: Any = None) -> dict:
    return {"name": name, "shape": shape or [len(data)], "datatype": datatype, "data": data}


def _v2_body(**replace: dict[str, Any]) -> dict[str, Any]:
    row = _record()
    kinds = {"petal_size": "BYTES", "wide_sepal": "BOOL"}
    tensors = {k: _tensor(k, [v], kinds.get(k, "FP64")) for k, v in row.items()}
    tensors |= replace
    return {"inputs": [t for t in tensors.values() if t]}


BAD_V2 = [
    (
        "unknown datatype",
        _v2_body(petal_size=_tensor("petal_size", ["a"], "STRING")),
        "inputs.4.datatype",
    ),
    (
        "shape mismatch",
        _v2_body(wide_sepal=_tensor("wide_sepal", [True, False], "BOOL", [1])),
        "wide_sepal",
    ),
    (
        "two columns",
        _v2_body(wide_sepal=_tensor("wide_sepal", [True, False], "BOOL", [1, 2])),
        "wide_sepal",
    ),
    ("number as BYTES", _v2_body(petal_size=_tensor("petal_size", [3], "BYTES")), "petal_size"),
    (
        "text as FP64",
        _v2_body(**{"petal_width_(cm)": _tensor("petal_width_(cm)", ["x"])}),
        "petal_width_(cm)",
    ),
    (
        "int out of range",
        _v2_body(**{"petal_width_(cm)": _tensor("petal_width_(cm)", [300], "UINT8")}),
        "petal_width_(cm)",
    ),
    ("too many rows", {"inputs": [_tensor("petal_size", ["a"] * 6, "BYTES")]}, "records"),
    ("long id", {"id": "i" * 129, **_v2_body()}, "id"),
    ("no inputs", {"inputs": []}, "inputs"),
    (
        "bad shape value",
        _v2_body(petal_size=_tensor("petal_size", ["a"], "BYTES", [-1])),
        "inputs.4.shape.0",
    ),
]


@pytest.mark.parametrize(("case", "body", "field"), BAD_V2, ids=[c[0] for c in BAD_V2])
def test_v2_bad_input_is_400_naming_the_field(
    mixed: TestClient, tokens: Tokens, case: str, body: Any, field: str
) -> None:
    response = _post(mixed, tokens, "/v2/models/prudent/infer", body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"parameters": {"x": [1]}}, "parameters.x"),
        ({"parameters": {"str": None}}, "parameters.str"),
    ],
)
def test_v2_parameter_errors_name_the_parameter_without_pydantic_tags(
    mixed: TestClient, tokens: Tokens, parameters: dict[str, Any], field: str
) -> None:
    """The answer read ``Field 'parameters.x.str': Input should be a valid string.``"""
    response = _post(mixed, tokens, "/v2/models/prudent/infer", _v2_body() | parameters)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["field"] == field
    assert body["error"] == f"Field '{field}': Input should be a valid string."


def test_v2_infinity_and_unknown_output_are_400(mixed: TestClient, tokens: Tokens) -> None:
    body = json.dumps(_v2_body(**{"petal_width_(cm)": _tensor("petal_width_(cm)", [1e999])}))
    response = _post(mixed, tokens, "/v2/models/prudent/infer", body.encode())
    assert response.status_code == 400 and "infinite" in response.json()["error"]
    ask = _v2_body() | {"outputs": [{"name": "probability"}]}
    response = _post(mixed, tokens, "/v2/models/prudent/infer", ask)
    assert response.status_code == 400 and response.json()["field"] == "probability"


def test_v2_binary_bytes_must_be_utf8(mixed: TestClient, tokens: Tokens) -> None:
    header = _v2_body(petal_size={})
    header["inputs"].append(
        {
            "name": "petal_size",
            "shape": [1],
            "datatype": "BYTES",
            "parameters": {"binary_data_size": 6},
        }
    )
    text = json.dumps(header).encode()
    headers = tokens.header("app") | {"Inference-Header-Content-Length": str(len(text))}
    blob = (2).to_bytes(4, "little") + b"\xff\xfe"
    response = mixed.post("/v2/models/prudent/infer", content=text + blob, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "Input 'petal_size': element 0 is not UTF-8 text."


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_body_over_the_limit_is_413(mixed: TestClient, tokens: Tokens, streamed: bool) -> None:
    body = b'{"records": [' + b" " * 20_000 + b"]}"
    content: Any = iter([body[:8000], body[8000:]]) if streamed else body
    headers = tokens.header("app") | {"content-type": "application/json"}
    response = mixed.post("/predict", content=content, headers=headers)
    assert response.status_code == 413
    assert "at most 16384 are accepted" in response.json()["error"]


def test_unexpected_errors_answer_json_500_without_traceback(
    mixed_bundle: Bundle, tmp_path: Any, tokens: Tokens
) -> None:
    def broken_clock() -> datetime:
        raise ZeroDivisionError("a bug")

    from fastapi.testclient import TestClient as Client

    from prudent.api import create_app
    from prudent.config import Settings

    settings = Settings(
        bundle=mixed_bundle.path, tokens_file=tokens.path, log_db=f"sqlite:///{tmp_path / 'l.db'}"
    )
    app = create_app(settings, bundle=mixed_bundle, clock=broken_clock)
    with Client(app, raise_server_exceptions=False) as c:
        wait_ready(c)
        response = c.post("/predict", json={"records": [_record()]}, headers=tokens.header("app"))
    assert response.status_code == 500
    assert response.json() == {"error": "Internal error; it has been logged. Please report it."}


def test_error_table_maps_every_prudent_error() -> None:
    import prudent.errors as errors

    statuses = {
        n: status_of(getattr(errors, n).__new__(getattr(errors, n))) for n in errors.__all__
    }
    for name in ("DataError", "DataReadError", "SchemaError", "TargetError", "InputLimitError"):
        assert statuses[name] == 400, name
    for name in ("BundleError", "BundleIntegrityError", "BundleVersionError", "StoreError"):
        assert statuses[name] == 503, name
    assert statuses["OverloadedError"] == 503 and statuses["DeadlineExceededError"] == 504
    assert statuses["UnknownPredictionError"] == 404 and statuses["FeedbackError"] == 400
    assert statuses["FeedbackConflictError"] == 403
    assert statuses["RegistryError"] == 409  # a refused registry change is the caller's to fix
    assert status_of(PrudentError("x")) == 500 and status_of(KeyError("x")) == 500
    assert set(ERROR_STATUS) <= {getattr(errors, n) for n in errors.__all__}


def test_the_request_model_refuses_what_the_input_limits_refuse(mixed_bundle: Bundle) -> None:
    """The JSON API skips ``InputLimits.check`` only because its request model refuses the same
    rows first (``ApiModels.checks_limits``); a free-form model (no schema) does not."""
    limits = InputLimits(max_rows=LIMITS["max_rows"], max_string_chars=LIMITS["max_string_chars"])
    models = api_models(
        mixed_bundle.schema,
        mixed_bundle.classes,
        max_rows=limits.max_rows,
        max_chars=limits.max_string_chars,
    )
    assert models.checks_limits
    assert not api_models(None, None, max_rows=5, max_chars=20).checks_limits
    for body, _ in ((b, f) for c, b, f in BAD_PREDICT if c in ("too many rows", "long string")):
        frame = pd.DataFrame(body["records"])
        with pytest.raises(InputLimitError):
            limits.check(frame, mixed_bundle.schema)
        with pytest.raises(ValidationError):
            models.predict_request.model_validate(body)


@pytest.mark.parametrize(
    ("path", "body", "setting"),
    [
        ("/predict", {"records": [_record()] * 6}, "PRUDENT_MAX_ROWS"),
        ("/predict", {"records": [_record(petal_size="x" * 21)]}, "PRUDENT_MAX_STRING_CHARS"),
        (
            "/v2/models/prudent/infer",
            {"inputs": [_tensor("petal_size", ["a"] * 6, "BYTES")]},
            "PRUDENT_MAX_ROWS",
        ),
    ],
    ids=["json rows", "json string", "v2 rows"],
)
def test_a_request_over_a_limit_names_the_setting_that_sets_it(
    mixed: TestClient, tokens: Tokens, path: str, body: Any, setting: str
) -> None:
    """The limits were named by their figures only; a client's operator looks for the
    setting to raise."""
    response = _post(mixed, tokens, path, body)
    assert response.status_code == 400, response.text
    assert setting in response.json()["error"], response.text
