"""One prediction path: the library, `prudent predict`, the JSON API and the V2 API agree,
on generated rows and on rows copied verbatim from a training CSV (strings, gaps, yes/no)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import prudent
from prudent.api import encode_bytes
from prudent.bundle import Bundle
from prudent.cli._app import app as cli
from prudent.data import read_table
from prudent.errors import PrudentWarning
from prudent.models import output_columns
from tests.api.conftest import Tokens, make_client, serve_ready, wait_ready
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
        _assert_same(name, table, library)
    assert list(library.columns) == output_columns(mixed_bundle.classes)
    for table in (from_cli, from_json, from_v2):
        assert set(table.columns) - {"prediction_id"} == set(library.columns)


def _text(values: np.ndarray) -> list[str]:
    """Values as text; a missing one (None, NaN, or V2's empty string) as ``""``; a list (the
    library's prediction set) as its JSON text, as files and V2 hold it."""
    return [
        ""
        if v is None or (isinstance(v, float) and np.isnan(v))
        else json.dumps(v)
        if isinstance(v, list)
        else str(v)
        for v in values
    ]


def _json_api(client: TestClient, tokens: Tokens, rows: pd.DataFrame) -> pd.DataFrame:
    return _json_records(client, tokens, rows.to_dict(orient="records"), ignored=None)


def _v2_api(client: TestClient, tokens: Tokens, rows: pd.DataFrame, bundle: Bundle) -> pd.DataFrame:
    kinds = {"numeric": "FP64", "boolean": "BOOL"}
    inputs = [
        _tensor(s.name, kinds.get(s.role.value, "BYTES"), rows[s.name].tolist())
        for s in bundle.schema.features
    ]
    return _infer(client, tokens, {"inputs": inputs}, ignored=None)


# -- the training file's own values, through every face ----------------------------------------
TITANIC_COLUMNS = ["pclass", "name", "sex", "age", "sibsp", "parch", "fare", "embarked"]


def titanic_frame() -> pd.DataFrame:
    """Titanic from scikit-learn's bundled OpenML test copy (nothing downloaded).

    A yes/no target and a yes/no ``alone`` column, ``age`` with gaps (20%), ``sex`` and
    ``embarked`` categorical (``embarked`` with gaps), ``name`` free text, ``home.dest`` a
    categorical column mostly empty (43%).
    """
    import sklearn

    path = Path(sklearn.__file__).parent / "datasets/tests/data/openml/id_40945"
    with gzip.open(path / "data-v1-dl-16826755.arff.gz", "rt") as f:
        text = f.read()
    head, data = text.split("@data", 1)
    names = [line.split()[1].strip("'") for line in head.splitlines() if line[:10] == "@attribute"]
    raw = pd.read_csv(io.StringIO(data.strip()), header=None, names=names, na_values="?")
    frame = raw[[*TITANIC_COLUMNS, "home.dest"]].copy()
    frame["alone"] = np.where(raw["sibsp"] + raw["parch"] == 0, "yes", "no")
    frame["survived"] = np.where(raw["survived"] == 1, "yes", "no")
    return frame


@dataclass(frozen=True)
class Titanic:
    """A bundle fitted on the Titanic training CSV, and rows copied verbatim from that file."""

    bundle: Bundle
    folder: Path
    rows_csv: Path


@pytest.fixture(scope="module")
def titanic(tmp_path_factory: pytest.TempPathFactory) -> Titanic:
    root = tmp_path_factory.mktemp("titanic")
    titanic_frame().to_csv(root / "train.csv", index=False)
    train = read_table(root / "train.csv")
    with warnings.catch_warnings():  # the label audit rightly finds hard Titanic labels
        warnings.simplefilter("ignore", PrudentWarning)
        fitted = prudent.fit(
            train, target="survived", text=["name"], time_limit=20, candidates=("lightgbm",)
        )
    assert {c.name: c.role.value for c in fitted.schema.features} == {
        **dict.fromkeys(["pclass", "age", "sibsp", "parch", "fare"], "numeric"),
        **dict.fromkeys(["sex", "embarked", "home.dest"], "categorical"),
        "name": "text",
        "alone": "boolean",
    }
    folder = fitted.save(root / "model")
    lines = (root / "train.csv").read_text("utf-8").splitlines()
    gappy = [line for line in lines[1:] if ",," in line or line.endswith(",")]
    full = [line for line in lines[1:] if line not in set(gappy)]
    rows = [lines[0], *gappy[:12], *full[:12]]  # the header and 24 lines, as they are
    (root / "rows.csv").write_text("\n".join(rows) + "\n", "utf-8")
    return Titanic(prudent.load(folder), folder, root / "rows.csv")


def _as_written(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _typed(path: Path) -> pd.DataFrame:
    return read_table(path)


def _cells(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: None if pd.isna(v) else v for k, v in r.items()} for r in frame.to_dict("records")]


def _face_library_typed(t: Titanic, *_: Any) -> pd.DataFrame:
    return t.bundle.predict(_typed(t.rows_csv))


def _face_library_strings(t: Titanic, *_: Any) -> pd.DataFrame:
    return t.bundle.predict(pd.read_csv(t.rows_csv, dtype=str, keep_default_na=False))


def _face_cli(t: Titanic, _client: Any, _tokens: Any, tmp_path: Path) -> pd.DataFrame:
    args = ["predict", str(t.folder), str(t.rows_csv), "--out", str(tmp_path / "out.csv")]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    return pd.read_csv(tmp_path / "out.csv")


def _face_json_strings(t: Titanic, client: TestClient, tokens: Tokens, _: Path) -> pd.DataFrame:
    return _json_records(client, tokens, _as_written(t.rows_csv))


def _face_json_typed(t: Titanic, client: TestClient, tokens: Tokens, _: Path) -> pd.DataFrame:
    return _json_records(client, tokens, _cells(_typed(t.rows_csv)))


def _face_v2_strings(t: Titanic, client: TestClient, tokens: Tokens, _: Path) -> pd.DataFrame:
    records = _as_written(t.rows_csv)
    columns = {k: [r[k] for r in records] for k in records[0]}
    inputs = [_tensor(k, "BYTES", v) for k, v in columns.items()]
    return _infer(client, tokens, {"inputs": inputs})


def _face_v2_typed(t: Titanic, client: TestClient, tokens: Tokens, _: Path) -> pd.DataFrame:
    frame = _typed(t.rows_csv)
    roles = {c.name: c.role.value for c in t.bundle.schema.features}
    inputs = []
    for name in frame.columns:
        values = _cells(frame[[name]])
        data = [v[name] for v in values]
        if roles.get(name) == "numeric":
            inputs.append(_tensor(name, "FP64", data))
        elif roles.get(name) == "boolean":
            inputs.append(_tensor(name, "BOOL", [v == "yes" for v in data]))
        else:
            inputs.append(_tensor(name, "BYTES", data))
    return _infer(client, tokens, {"inputs": inputs})


def _face_v2_binary(t: Titanic, client: TestClient, tokens: Tokens, _: Path) -> pd.DataFrame:
    records = _as_written(t.rows_csv)
    blobs, inputs = [], []
    for name in records[0]:
        blobs.append(encode_bytes([r[name] for r in records]))
        tensor = _tensor(name, "BYTES", None)
        tensor["parameters"] = {"binary_data_size": len(blobs[-1])}
        inputs.append(tensor)
    header = json.dumps({"inputs": inputs}).encode()
    headers = tokens.header("app") | {"Inference-Header-Content-Length": str(len(header))}
    answer = client.post(
        "/v2/models/prudent/infer", content=header + b"".join(blobs), headers=headers
    )
    return _v2_table(answer)


def _tensor(name: str, datatype: str, data: list[Any] | None) -> dict[str, Any]:
    n = 24 if data is None else len(data)
    tensor: dict[str, Any] = {"name": name, "shape": [n], "datatype": datatype}
    if data is not None:
        tensor["data"] = data
    return tensor


def _json_records(
    client: TestClient, tokens: Tokens, records: list[Any], ignored: str | None = "survived"
) -> pd.DataFrame:
    answer = client.post("/predict", json={"records": records}, headers=tokens.header("app"))
    _check(answer, ignored)
    table = pd.DataFrame(answer.json()["predictions"]).fillna(np.nan)
    table["prediction_set"] = [json.dumps(v) for v in table["prediction_set"]]
    return table


def _infer(
    client: TestClient, tokens: Tokens, body: dict[str, Any], ignored: str | None = "survived"
) -> pd.DataFrame:
    answer = client.post("/v2/models/prudent/infer", json=body, headers=tokens.header("app"))
    return _v2_table(answer, ignored)


def _check(answer: Any, ignored: str | None) -> None:
    """A 200 whose header names the target, the one field ignored (when it was sent)."""
    assert answer.status_code == 200, answer.text
    header = answer.headers.get("X-Prudent-Ignored-Fields")
    assert (json.loads(header) if header else None) == ([ignored] if ignored else None)


def _v2_table(answer: Any, ignored: str | None = "survived") -> pd.DataFrame:
    _check(answer, ignored)
    data = {o["name"]: o["data"] for o in answer.json()["outputs"]}
    return pd.DataFrame({k: [np.nan if v is None else v for v in d] for k, d in data.items()})


FACES = {
    "library, strings": _face_library_strings,
    "prudent predict": _face_cli,
    "JSON API, strings": _face_json_strings,
    "JSON API, typed": _face_json_typed,
    "V2 JSON, strings": _face_v2_strings,
    "V2 JSON, typed": _face_v2_typed,
    "V2 binary, strings": _face_v2_binary,
}


@pytest.fixture(scope="module")
def titanic_client(
    titanic: Titanic, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("titanic-log")
    yield from serve_ready(titanic.bundle, folder, tokens, deadline_ms=120_000)  # no backup


@pytest.mark.parametrize("face", list(FACES))
def test_training_file_values_give_identical_outputs_on_every_face(
    titanic: Titanic, titanic_client: TestClient, tokens: Tokens, tmp_path: Path, face: str
) -> None:
    library = _face_library_typed(titanic)
    assert library["prediction"].nunique() == 2  # a real model, not a constant
    table = FACES[face](titanic, titanic_client, tokens, tmp_path)
    assert len(table) == len(library) == 24
    _assert_same(face, table, library)


def _assert_same(name: str, table: pd.DataFrame, library: pd.DataFrame) -> None:
    for column in library.columns:
        got, want = table[column].to_numpy(), library[column].to_numpy()
        if library[column].dtype == np.float64:
            np.testing.assert_array_equal(got.astype(float), want, err_msg=f"{name} {column}")
        else:
            assert _text(got) == _text(want), (name, column)
