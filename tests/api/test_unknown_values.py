"""The ``unknown_values`` flag in every face: files, the Python result, JSON, V2 and the log.

Real iris rows with a known answer: a negative sepal length (never negative in training), a
petal width of a million, a petal size no training row had, and an ordinary row. Served on a
SQLite and a PostgreSQL log.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

import prudent
from prudent.api import create_app
from prudent.bundle import Bundle
from prudent.config import Settings
from prudent.store import SqlPredictionLog
from tests._postgres import create_database, postgres_url  # noqa: F401  (a fixture)
from tests.api.conftest import wait_ready
from tests.serve._bundles import input_rows

EXPECTED = ["sepal_length_(cm)", "petal_width_(cm)", "petal_size", None]
NOTE = "; unknown values (never seen in training): "


def _rows() -> pd.DataFrame:
    rows = input_rows("mixed", 4)
    rows.loc[0, "sepal_length_(cm)"] = -5.0
    rows.loc[1, "petal_width_(cm)"] = 1e6
    rows.loc[2, "petal_size"] = "enormous"
    return rows


@pytest.fixture(params=["sqlite", "postgresql"])
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.db'}"
    return create_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def client(mixed_bundle: Bundle, log_url: str) -> Iterator[TestClient]:
    settings = Settings(bundle=mixed_bundle.path, log_db=log_url, no_auth=True, model_name="iris")
    with TestClient(create_app(settings, bundle=mixed_bundle)) as c:
        wait_ready(c)
        yield c


def _v2_inputs(rows: pd.DataFrame) -> list[dict[str, Any]]:
    kinds = {"petal_size": "BYTES", "wide_sepal": "BOOL"}
    return [
        {
            "name": c,
            "shape": [len(rows)],
            "datatype": kinds.get(c, "FP64"),
            "data": rows[c].tolist(),
        }
        for c in rows.columns
    ]


def test_json_v2_and_the_log_name_the_unknown_values(client: TestClient, log_url: str) -> None:
    rows = _rows()
    answer = client.post("/predict", json={"records": rows.to_dict(orient="records")})
    assert answer.status_code == 200, answer.text
    got = answer.json()["predictions"]
    assert [p["unknown_values"] for p in got] == EXPECTED
    assert got[0]["reason"].endswith(NOTE + "sepal_length_(cm)") and NOTE not in got[3]["reason"]
    v2 = client.post("/v2/models/iris/infer", json={"inputs": _v2_inputs(rows)})
    assert v2.status_code == 200, v2.text
    outputs = {o["name"]: o for o in v2.json()["outputs"]}
    assert outputs["unknown_values"]["datatype"] == "BYTES"
    assert outputs["unknown_values"]["data"] == [v or "" for v in EXPECTED]
    with SqlPredictionLog.open(log_url) as log:
        for ids in ([p["prediction_id"] for p in got], outputs["prediction_id"]["data"]):
            assert [log.get(i).unknown_values for i in ids] == EXPECTED
            assert log.get(ids[1]).reason.endswith(NOTE + "petal_width_(cm)")


def test_bundle_predict_file_and_typed_result_name_them(
    mixed_bundle: Bundle, tmp_path: Path
) -> None:
    rows = _rows()
    typed = mixed_bundle.predictions(rows)
    assert typed.unknown_values is not None
    assert typed.unknown_values.tolist() == [(c,) if c else () for c in EXPECTED]
    shown = mixed_bundle.predict(rows)["unknown_values"]
    assert [None if pd.isna(v) else v for v in shown] == EXPECTED
    rows.to_csv(tmp_path / "in.csv", index=False)
    mixed_bundle.predict_file(tmp_path / "in.csv", tmp_path / "out.csv")
    written = pd.read_csv(tmp_path / "out.csv")["unknown_values"]
    assert [None if pd.isna(v) else v for v in written] == EXPECTED
    assert "Unknown values: checked on 4 numeric, 2 categorical, 0 text column(s)" in (
        mixed_bundle.summary()
    )


def test_a_bundle_saved_before_training_values_loads_and_says_what_it_lacks(
    mixed_bundle: Bundle, tmp_path: Path
) -> None:
    old = prudent.load(mixed_bundle.path)
    del old.model.__dict__["training_values"]  # saved as an older prudent saved it
    del old.manifest["training_values"]
    old.save(tmp_path / "old")
    loaded = prudent.load(tmp_path / "old")
    assert loaded.model.training_values is None
    out = loaded.predict(_rows())
    assert (
        out["unknown_values"].isna().all()
        and not out["reason"].str.contains(NOTE, regex=False).any()
    )
    assert "Unknown values: not checked — this bundle was saved before prudent kept" in (
        loaded.summary()
    )
