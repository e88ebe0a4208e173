"""The input contract on the HTTP faces: the values of a training file are accepted as they are.

Booleans as yes/no, numbers as strings, every missing spelling, null in V2 BYTES, keys left out,
extra fields ignored (named in a header, refused with ?strict=true), infinities named, every bad
value in one answer, and one status (400) for bad input on /predict, V2 and /feedback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from prudent.api._inputs import IGNORED_COUNT_HEADER, IGNORED_HEADER, IGNORED_HEADER_CHARS
from prudent.bundle import Bundle
from tests.api.conftest import Tokens, serve_ready
from tests.serve._bundles import input_rows

NUMBER, FLAG, SIZE = "sepal_width_(cm)", "wide_sepal", "petal_size"


@pytest.fixture(scope="module")
def mixed(
    mixed_bundle: Bundle, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The mixed bundle served with tokens."""
    folder = tmp_path_factory.mktemp("contract")
    yield from serve_ready(mixed_bundle, folder, tokens, deadline_ms=120_000)  # never the backup


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return input_rows("mixed", 6, seed=21)


def _records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in rows.to_dict("records")]


def _predict(client: TestClient, tokens: Tokens, records: list[Any], query: str = "") -> Any:
    return client.post(f"/predict{query}", json={"records": records}, headers=tokens.header("app"))


def _answers(response: Any) -> list[tuple[Any, ...]]:
    assert response.status_code == 200, response.text
    keys = ("prediction", "confidence", "decision", "ood_score")
    return [tuple(p[k] for k in keys) for p in response.json()["predictions"]]


def _library(bundle: Bundle, frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    out = bundle.predict(frame)
    keys = ["prediction", "confidence", "decision", "ood_score"]
    return [tuple(r) for r in out[keys].itertuples(index=False)]


@pytest.mark.parametrize(
    "spelling", [["yes", "No", "TRUE", "false", "1", "0"], ["Y", "n", " T ", "f", 1, 0]]
)
def test_json_api_takes_booleans_as_the_file_writes_them(
    mixed: TestClient, tokens: Tokens, mixed_bundle: Bundle, rows: pd.DataFrame, spelling: list
) -> None:
    flags = [True, False, True, False, True, False]
    records = [r | {FLAG: s} for r, s in zip(_records(rows), spelling, strict=True)]
    expected = _library(mixed_bundle, rows.assign(**{FLAG: flags}))
    assert _answers(_predict(mixed, tokens, records)) == expected


def test_json_api_takes_numbers_as_strings(
    mixed: TestClient, tokens: Tokens, mixed_bundle: Bundle, rows: pd.DataFrame
) -> None:
    records = [{k: str(v) for k, v in r.items()} for r in _records(rows)]
    assert _answers(_predict(mixed, tokens, records)) == _library(mixed_bundle, rows)


@pytest.mark.parametrize(
    "spelling", ["", "NA", "n/a", "nan", "NaN", "null", "None", None, "absent"]
)
def test_json_api_every_missing_spelling_equals_a_missing_value(
    mixed: TestClient, tokens: Tokens, mixed_bundle: Bundle, rows: pd.DataFrame, spelling: Any
) -> None:
    records = _records(rows)
    for column in (NUMBER, FLAG, SIZE):
        if spelling == "absent":
            del records[1][column]
        else:
            records[1][column] = spelling
    frame = rows.astype(object)
    frame.loc[1, [NUMBER, FLAG, SIZE]] = None
    assert _answers(_predict(mixed, tokens, records)) == _library(mixed_bundle, frame)


@pytest.mark.parametrize("placeholder", ["?", "-", "unknown"])
def test_json_api_placeholders_in_numbers_and_booleans_are_missing_values(
    mixed: TestClient, tokens: Tokens, mixed_bundle: Bundle, rows: pd.DataFrame, placeholder: str
) -> None:
    """``?`` where a number or boolean belongs is no value, as in a file: the published schema
    lets it through and the answer is the missing value's."""
    records = _records(rows)
    records[1] |= {NUMBER: placeholder, FLAG: placeholder}
    frame = rows.astype(object)
    frame.loc[1, [NUMBER, FLAG]] = None
    assert _answers(_predict(mixed, tokens, records)) == _library(mixed_bundle, frame)


@pytest.mark.parametrize(("written", "number"), [("$1,234.50", 1234.5), ("12.5%", 12.5)])
def test_json_api_numbers_with_currency_thousands_or_percent_marks_are_numbers(
    mixed: TestClient,
    tokens: Tokens,
    mixed_bundle: Bundle,
    rows: pd.DataFrame,
    written: str,
    number: float,
) -> None:
    """The published schema lets a number written as a spreadsheet writes it through, and the
    answer is the number's."""
    records = _records(rows)
    records[1][NUMBER] = written
    frame = rows.astype(object)
    frame.loc[1, NUMBER] = number
    assert _answers(_predict(mixed, tokens, records)) == _library(mixed_bundle, frame)


def test_json_api_a_key_left_out_of_every_record_is_missing(
    mixed: TestClient, tokens: Tokens, mixed_bundle: Bundle, rows: pd.DataFrame
) -> None:
    records = [{k: v for k, v in r.items() if k != SIZE} for r in _records(rows)]
    expected = _library(mixed_bundle, rows.assign(**{SIZE: None}))
    assert _answers(_predict(mixed, tokens, records)) == expected


def test_extra_fields_are_ignored_named_in_a_header_and_refused_when_strict(
    mixed: TestClient, tokens: Tokens, mixed_bundle: Bundle, rows: pd.DataFrame
) -> None:
    records = [r | {"target": "setosa", "colour": "red"} for r in _records(rows)]
    response = _predict(mixed, tokens, records)
    assert _answers(response) == _library(mixed_bundle, rows)
    assert json.loads(response.headers[IGNORED_HEADER]) == ["target", "colour"]
    assert IGNORED_HEADER not in _predict(mixed, tokens, _records(rows)).headers
    refused = _predict(mixed, tokens, records, "?strict=true")
    assert refused.status_code == 400
    body = refused.json()
    assert body["field"] == "target" and "are not inputs of the model" in body["error"]
    assert [e["field"] for e in body["errors"]] == ["target", "colour"]


def test_thousands_of_extra_fields_are_counted_and_named_as_far_as_a_header_holds(
    mixed: TestClient, tokens: Tokens, mixed_bundle: Bundle, rows: pd.DataFrame
) -> None:
    """2,000 fields of 200 characters made a 410 KB header, which proxies refuse or cut."""
    extra = {f"{i:04d}" + "x" * 196: i for i in range(2000)}
    records = _records(rows)
    response = _predict(mixed, tokens, [records[0] | extra, *records[1:]])
    assert _answers(response) == _library(mixed_bundle, rows)
    named = json.loads(response.headers[IGNORED_HEADER])
    assert len(response.headers[IGNORED_HEADER]) <= IGNORED_HEADER_CHARS
    assert named == list(extra)[: len(named)] and len(named) >= 15
    assert response.headers[IGNORED_COUNT_HEADER] == "2000"


def test_a_field_named_as_an_input_but_for_case_is_refused(
    mixed: TestClient, tokens: Tokens, rows: pd.DataFrame
) -> None:
    records = [
        {(FLAG.upper() if k == FLAG else k): v for k, v in r.items()} for r in _records(rows)
    ]
    response = _predict(mixed, tokens, records)
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == FLAG and "differ only in case or spaces" in body["error"]
    assert body["errors"] == [
        {"row": None, "field": FLAG, "expected": f"the column {FLAG!r}", "received": "'WIDE_SEPAL'"}
    ]


def test_every_bad_value_is_reported_in_one_answer(
    mixed: TestClient, tokens: Tokens, rows: pd.DataFrame
) -> None:
    records = _records(rows)
    records[1][NUMBER] = "wide"
    records[3][NUMBER] = "inf"
    records[4][FLAG] = "perhaps"
    response = _predict(mixed, tokens, records)
    assert response.status_code == 400
    body = response.json()
    assert body["error"].startswith("2 columns hold values the model cannot read")
    assert body["errors"] == [
        {"row": 1, "field": NUMBER, "expected": "a number", "received": "'wide'"},
        {
            "row": 3,
            "field": NUMBER,
            "expected": "a finite number (not an infinity)",
            "received": "'inf'",
        },
        {
            "row": 4,
            "field": FLAG,
            "expected": "a boolean (true/false, yes/no, 1/0)",
            "received": "'perhaps'",
        },
    ]


def test_structural_errors_are_all_listed_too(mixed: TestClient, tokens: Tokens) -> None:
    records = [{SIZE: {"a": 1}}, {NUMBER: [1.0], SIZE: "x" * 20_000}]
    body = _predict(mixed, tokens, records).json()
    assert {(e["row"], e["field"]) for e in body["errors"]} >= {(0, SIZE), (1, NUMBER), (1, SIZE)}
    assert body["field"] == SIZE and "record 0" in body["error"]


def _v2(client: TestClient, tokens: Tokens, inputs: list[dict], query: str = "") -> Any:
    return client.post(
        f"/v2/models/prudent/infer{query}", json={"inputs": inputs}, headers=tokens.header("app")
    )


def _v2_answers(response: Any) -> list[tuple[Any, ...]]:
    assert response.status_code == 200, response.text
    out = {o["name"]: o["data"] for o in response.json()["outputs"]}
    keys = ("prediction", "confidence", "decision", "ood_score")
    return list(zip(*(out[k] for k in keys), strict=True))


def test_v2_bytes_take_null_and_strings_for_every_role(
    mixed: TestClient, tokens: Tokens, mixed_bundle: Bundle, rows: pd.DataFrame
) -> None:
    records = _records(rows)
    inputs = [
        {
            "name": name,
            "shape": [len(rows)],
            "datatype": "BYTES",
            "data": [None if i == 2 else str(r[name]) for i, r in enumerate(records)],
        }
        for name in rows.columns
    ]
    inputs.append({"name": "colour", "shape": [len(rows)], "datatype": "BYTES", "data": ["x"] * 6})
    frame = rows.astype(object)
    frame.loc[2, :] = None
    response = _v2(mixed, tokens, inputs)
    assert _v2_answers(response) == _library(mixed_bundle, frame)
    assert json.loads(response.headers[IGNORED_HEADER]) == ["colour"]
    refused = _v2(mixed, tokens, inputs, "?strict=true")
    assert refused.status_code == 400 and refused.json()["field"] == "colour"


def test_v2_binary_infinity_is_refused_naming_the_input(
    mixed: TestClient, tokens: Tokens, rows: pd.DataFrame
) -> None:
    values = rows[NUMBER].to_numpy(np.float64).copy()
    values[3] = np.inf
    blob = values.astype("<f8").tobytes()
    header = {
        "inputs": [
            {"name": c, "shape": [6], "datatype": "BYTES", "data": [str(v) for v in rows[c]]}
            for c in rows.columns
            if c != NUMBER
        ]
        + [
            {
                "name": NUMBER,
                "shape": [6],
                "datatype": "FP64",
                "parameters": {"binary_data_size": len(blob)},
            }
        ]
    }
    text = json.dumps(header).encode()
    headers = tokens.header("app") | {"Inference-Header-Content-Length": str(len(text))}
    response = mixed.post("/v2/models/prudent/infer", content=text + blob, headers=headers)
    assert response.status_code == 400
    assert response.json()["field"] == NUMBER
    assert response.json()["errors"][0]["row"] == 3
    assert "holds an infinite number" in response.json()["error"]


def test_v2_metadata_says_what_each_input_accepts(mixed: TestClient, tokens: Tokens) -> None:
    meta = mixed.get("/v2/models/prudent", headers=tokens.header("app")).json()
    params = {i["name"]: i["parameters"] for i in meta["inputs"]}
    assert params[FLAG]["role"] == "boolean" and "yes/no" in params[FLAG]["accepts"]
    assert params[NUMBER]["role"] == "numeric" and "numeric string" in params[NUMBER]["accepts"]
    assert "'na'" in params[SIZE]["missing"] and "null" in params[SIZE]["missing"]


def test_bad_input_is_400_on_predict_v2_and_feedback(
    mixed: TestClient, tokens: Tokens, rows: pd.DataFrame
) -> None:
    both = tokens.header("both")
    pid = _predict(mixed, tokens, _records(rows)).json()["predictions"][0]["prediction_id"]
    statuses = {
        "predict value": _predict(mixed, tokens, [{NUMBER: "wide"}]).status_code,
        "predict body": mixed.post("/predict", json={"rows": []}, headers=both).status_code,
        "v2 value": _v2(
            mixed, tokens, [{"name": NUMBER, "shape": [1], "datatype": "BYTES", "data": ["wide"]}]
        ).status_code,
        "feedback label": mixed.post(
            "/feedback", json={"prediction_id": pid, "label": "rose"}, headers=both
        ).status_code,
        "feedback body": mixed.post("/feedback", json={"id": pid}, headers=both).status_code,
        "feedback items": mixed.post(
            "/feedback", json={"items": [{"prediction_id": pid}]}, headers=both
        ).status_code,
    }
    assert set(statuses.values()) == {400}, statuses


FEEDBACK_BODIES = [
    ({"prediction_id": "p", "label": "setosa"}, True),
    ({"items": [{"prediction_id": "p", "label": "setosa"}]}, True),
    ({"prediction_id": "p", "label": "setosa", "items": []}, False),
    ({"prediction_id": "p", "label": "setosa", "note": "x"}, False),
    # a label is checked against the classes of its prediction's model, which the log holds
    ({"items": [{"prediction_id": "p", "label": "rose"}]}, True),
    ({"items": [{"prediction_id": "p", "label": "ro\x00se"}]}, False),
    ({"prediction_id": "p"}, False),
    ({"label": "setosa"}, False),
    ({"prediction_id": "p\x00", "label": "setosa"}, False),  # NUL: the log cannot keep it
    ({"items": [{"prediction_id": "a\x00b", "label": "setosa"}]}, False),
]


@pytest.mark.parametrize(("body", "valid"), FEEDBACK_BODIES)
def test_feedback_accepts_exactly_what_its_published_schema_allows(
    mixed: TestClient, tokens: Tokens, body: dict, valid: bool
) -> None:
    doc = mixed.get("/openapi.json", headers=tokens.header("app")).json()
    schema = doc["paths"]["/feedback"]["post"]["requestBody"]["content"]["application/json"]
    resolver = {"components": doc["components"], **schema["schema"]}
    published = jsonschema_rs.Draft202012Validator(resolver).is_valid(body)
    assert published is valid
    response = mixed.post("/feedback", json=body, headers=tokens.header("both"))
    # valid bodies pass validation and reach the log (an unknown id there is 404)
    assert response.status_code == (404 if valid else 400), response.text


def test_v2_every_input_of_the_wrong_type_is_reported_at_once(
    mixed: TestClient, tokens: Tokens
) -> None:
    inputs = [
        {"name": SIZE, "shape": [2], "datatype": "BYTES", "data": [3, "large"]},
        {"name": FLAG, "shape": [2], "datatype": "BOOL", "data": [True, "yes"]},
        {"name": NUMBER, "shape": [2], "datatype": "FP64", "data": [1.5, 2.5]},
    ]
    response = _v2(mixed, tokens, inputs)
    assert response.status_code == 400
    body = response.json()
    assert body["error"].startswith("2 inputs hold values of the wrong type: Input 'petal_size'")
    assert [(e["row"], e["field"], e["received"]) for e in body["errors"]] == [
        (0, SIZE, "3"),
        (1, FLAG, "'yes'"),
    ]


def test_a_body_that_names_its_rows_otherwise_is_told_the_field(
    mixed: TestClient, tokens: Tokens, rows: pd.DataFrame
) -> None:
    """``{"rows": [...]}`` was answered 'Field 'records': Field required (and 1 more, listed
    in errors)', the extra 'rows' only in the list; the message now pairs them."""
    auth = tokens.header("app")
    response = mixed.post("/predict", json={"rows": _records(rows)[:2]}, headers=auth)
    assert response.status_code == 400
    assert response.json()["error"] == (
        "Field 'records': Field required (and 1 more, listed in errors). The body holds "
        "'rows', which is no field here: is it 'records'?"
    )
    both = mixed.post("/predict", json={"rows": [], "data": []}, headers=auth)
    assert both.status_code == 400 and "is it" not in both.json()["error"]


def test_a_record_without_any_input_is_refused_naming_it(
    mixed: TestClient, tokens: Tokens, mixed_bundle: Bundle, rows: pd.DataFrame
) -> None:
    """An input left out of a record is missing; a record with none of them (``{}``, or only
    fields the model does not read) is a client's mistake, refused with the record named,
    while a record of nulls is sent on purpose and answered."""
    records = _records(rows)
    records[2] = {}
    records[4] = {"colour": "red", "target": "setosa"}
    response = _predict(mixed, tokens, records)
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "records"
    assert body["error"].startswith("2 records (2, 4) hold none of the model's inputs [")
    assert [(e["row"], e["received"]) for e in body["errors"]] == [
        (2, "[]"),
        (4, "['colour', 'target']"),
    ]
    nulls = _records(rows)
    nulls[2] = dict.fromkeys(nulls[2])
    frame = rows.astype(object)
    frame.loc[2, :] = None
    assert _answers(_predict(mixed, tokens, nulls)) == _library(mixed_bundle, frame)


@pytest.mark.parametrize("written", ["+$-14,072.", "-€ +3", "+-3"])
def test_a_number_with_two_signs_is_refused_naming_the_field(
    mixed: TestClient, tokens: Tokens, rows: pd.DataFrame, written: str
) -> None:
    """A sign before and after a currency mark is no number: 400 naming the value, never
    the 500 a float() of the marks' remains gave (found by the schema fuzz, with explain)."""
    records = _records(rows)
    records[2][NUMBER] = written
    for query in ("", "?explain=true"):
        response = _predict(mixed, tokens, records, query)
        assert response.status_code == 400, response.text
        assert response.json()["errors"] == [
            {"row": 2, "field": NUMBER, "expected": "a number", "received": repr(written)}
        ]
