"""A table written with decimal commas: every face reads its numbers as its file did.

The CSV reader read ``14,23`` as 14.23 at fit time; the schema keeps the column's decimal
mark, so that ``Bundle.predict``, the JSON API (and the schema it publishes) and the V2 API
read the same text alike, where they refused it ("should be numeric"). A table written with
decimal points keeps reading ``1,234`` as 1234.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import prudent
from prudent.bundle import Bundle
from prudent.data import ColumnSpec, Role, Schema, read_table, validate_frame
from prudent.errors import SchemaError
from tests.api.conftest import Tokens, serve_ready

KEYS = ["prediction", "confidence", "decision", "ood_score"]


def _table(n: int = 400) -> pd.DataFrame:
    """Two numbers, the label a known function of the first (noisy): hi when x > 10."""
    rng = np.random.default_rng(7)
    x = rng.normal(10, 3, n).round(2)
    z = rng.normal(1500, 400, n).round(1)
    y = np.where(x + rng.normal(0, 1, n) > 10, "hi", "lo")
    return pd.DataFrame({"x": x, "z": z, "y": y})


def _comma_csv(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` as a spreadsheet in much of Europe saves it: ';' between fields, ',' marks."""
    frame.to_csv(path, sep=";", decimal=",", index=False)
    return path


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    folder = tmp_path_factory.mktemp("comma")
    source = _comma_csv(_table(), folder / "train.csv")
    first = source.read_text().splitlines()[1]  # the first data row: x;z;y
    assert first.count(";") == 2 and "," in first and "." not in first
    return prudent.fit(source, target="y", time_limit=10, progress=False)


@pytest.fixture(scope="module")
def client(
    bundle: Bundle, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    yield from serve_ready(bundle, tmp_path_factory.mktemp("serve"), tokens, deadline_ms=120_000)


WRITTEN = {"x": ["14,23", "1,5", "3.5", "-0,25", "12"], "z": ["1.065,5", "1500", "1,2", None, "NA"]}
NUMBERS = {"x": [14.23, 1.5, 3.5, -0.25, 12.0], "z": [1065.5, 1500.0, 1.2, np.nan, np.nan]}


def test_the_schema_keeps_the_decimal_mark_of_the_training_file(bundle: Bundle) -> None:
    assert {c.name: c.decimal for c in bundle.schema.features} == {"x": ",", "z": ","}
    again = Schema.from_dict(bundle.schema.to_dict())
    assert again.features == bundle.schema.features


@pytest.mark.parametrize("rows", [5, 500])  # a served request is read value by value
def test_the_library_reads_decimal_commas_as_the_file_did(bundle: Bundle, rows: int) -> None:
    written = pd.DataFrame(
        {k: np.resize(np.array(v, dtype=object), rows) for k, v in WRITTEN.items()}
    )
    numbers = pd.DataFrame({k: np.resize(np.array(v), rows) for k, v in NUMBERS.items()})
    got = validate_frame(written, bundle.schema)[0]
    pd.testing.assert_frame_equal(got, numbers, check_dtype=False)
    assert bundle.predict(written)[KEYS].equals(bundle.predict(numbers)[KEYS])
    with pytest.raises(SchemaError, match="Column 'x' should be numeric, but holds '14,2,3'"):
        validate_frame(written.assign(x="14,2,3"), bundle.schema)


def test_the_json_api_and_its_published_schema_take_decimal_commas(
    client: TestClient, tokens: Tokens, bundle: Bundle
) -> None:
    records = pd.DataFrame(WRITTEN).astype(object).where(pd.DataFrame(WRITTEN).notna(), None)
    records = records.to_dict("records")
    body = {"records": records}
    doc = client.get("/openapi.json", headers=tokens.header("app")).json()
    schema = doc["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    validator = jsonschema_rs.Draft202012Validator(
        {"components": doc["components"], **schema["schema"]}
    )
    assert validator.is_valid(body)
    assert not validator.is_valid({"records": [{"x": "14,2,3"}]})
    response = client.post("/predict", json=body, headers=tokens.header("app"))
    assert response.status_code == 200, response.text
    answers = [tuple(p[k] for k in KEYS) for p in response.json()["predictions"]]
    expected = bundle.predict(pd.DataFrame(NUMBERS))[KEYS]
    assert answers == [tuple(r) for r in expected.itertuples(index=False)]


def test_v2_takes_decimal_commas_in_bytes(
    client: TestClient, tokens: Tokens, bundle: Bundle
) -> None:
    inputs: list[dict[str, Any]] = [
        {"name": "x", "shape": [2], "datatype": "BYTES", "data": ["14,23", "1,5"]},
        {"name": "z", "shape": [2], "datatype": "BYTES", "data": ["1.065,5", "1500"]},
    ]
    response = client.post(
        "/v2/models/prudent/infer", json={"inputs": inputs}, headers=tokens.header("app")
    )
    assert response.status_code == 200, response.text
    out = {o["name"]: o["data"] for o in response.json()["outputs"]}
    expected = bundle.predict(pd.DataFrame({"x": [14.23, 1.5], "z": [1065.5, 1500.0]}))
    assert list(zip(*(out[k] for k in KEYS), strict=True)) == [
        tuple(r) for r in expected[KEYS].itertuples(index=False)
    ]


def test_a_file_written_with_decimal_points_keeps_commas_for_thousands(tmp_path: Path) -> None:
    frame = _table(60)
    frame.to_csv(tmp_path / "points.csv", index=False)
    read = read_table(tmp_path / "points.csv")
    assert not read.attrs
    schema = Schema(columns=(ColumnSpec("x", Role.numeric, "float64"),), target="y")
    got = validate_frame(pd.DataFrame({"x": ["1,234", "12.5"]}), schema)[0]
    assert got["x"].tolist() == [1234.0, 12.5]
    with pytest.raises(SchemaError, match="Column 'x' should be numeric, but holds '14,23'"):
        validate_frame(pd.DataFrame({"x": ["14,23"]}), schema)
