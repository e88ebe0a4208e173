"""One prediction path: the library, `prudent predict`, the JSON API and the V2 API agree."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from prudent.bundle import Bundle
from prudent.cli._app import app as cli
from prudent.models import output_columns
from tests.api.conftest import Tokens, make_client, wait_ready
from tests.serve._bundles import input_rows


def test_library_cli_json_and_v2_give_identical_outputs(
    mixed_bundle: Bundle, mixed_dir: Path, tokens: Tokens, tmp_path: Path
) -> None:
    rows = input_rows("mixed", 40, seed=12)
    library = mixed_bundle.predict(rows)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    run = CliRunner().invoke(
        cli,
        ["predict", str(mixed_dir), str(tmp_path / "rows.csv"), "--out", str(tmp_path / "out.csv")],
    )
    assert run.exit_code == 0, run.output
    from_cli = pd.read_csv(tmp_path / "out.csv")
    with make_client(mixed_bundle, tmp_path, tokens) as c:
        wait_ready(c)
        from_json = _json_api(c, tokens, rows)
        from_v2 = _v2_api(c, tokens, rows, mixed_bundle)
    for name, table in (("cli", from_cli), ("json", from_json), ("v2", from_v2)):
        for column in library.columns:
            got, want = table[column].to_numpy(), library[column].to_numpy()
            if library[column].dtype == np.float64:
                np.testing.assert_array_equal(got.astype(float), want, err_msg=f"{name} {column}")
            else:
                assert _text(got) == _text(want), (name, column)
    assert list(library.columns) == output_columns(mixed_bundle.classes)
    for table in (from_cli, from_json, from_v2):
        assert set(table.columns) - {"prediction_id"} == set(library.columns)


def _text(values: np.ndarray) -> list[str]:
    """Values as text; a missing one (None, NaN, or V2's empty string) as ``""``."""
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def _json_api(client: TestClient, tokens: Tokens, rows: pd.DataFrame) -> pd.DataFrame:
    body = {"records": rows.to_dict(orient="records")}
    answer = client.post("/predict", json=body, headers=tokens.header("app")).json()
    table = pd.DataFrame(answer["predictions"]).fillna(np.nan)
    table["prediction_set"] = [json.dumps(v) for v in table["prediction_set"]]
    return table


def _v2_api(client: TestClient, tokens: Tokens, rows: pd.DataFrame, bundle: Bundle) -> pd.DataFrame:
    kinds = {"numeric": "FP64", "boolean": "BOOL"}
    inputs = [
        {
            "name": s.name,
            "shape": [len(rows)],
            "datatype": kinds.get(s.role.value, "BYTES"),
            "data": rows[s.name].tolist(),
        }
        for s in bundle.schema.features
    ]
    answer = client.post(
        "/v2/models/prudent/infer", json={"inputs": inputs}, headers=tokens.header("app")
    )
    assert answer.status_code == 200, answer.text
    return pd.DataFrame(
        {
            o["name"]: [np.nan if v is None else v for v in o["data"]]
            for o in answer.json()["outputs"]
        }
    )
