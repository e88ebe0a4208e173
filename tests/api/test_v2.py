"""The Open Inference Protocol against a real uvicorn process, with tritonclient in both modes."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import tritonclient.http as triton

import prudent
from prudent.bundle import Bundle
from prudent.store import SqlPredictionLog
from tests.api._server import Server, start_server
from tests.api.conftest import Tokens
from tests.fixtures import fit_bundle
from tests.serve._bundles import input_rows


@pytest.fixture(scope="module")
def server(
    mixed_dir: Path, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``prudent serve`` of the mixed bundle, with tokens, on a free port."""
    running = start_server(
        mixed_dir, tmp_path_factory.mktemp("v2"), "--tokens", str(tokens.path), "--name", "iris"
    )
    yield running
    running.stop()
    output = running.output
    assert all(secret not in output for secret in tokens.secrets.values())
    assert "authorization" not in output.lower()


def _inputs(rows: pd.DataFrame, bundle: Bundle, binary: bool) -> list[Any]:
    out = []
    for spec in bundle.schema.features:
        values = rows[spec.name].to_numpy()
        if spec.role.value == "numeric":
            kind, array = "FP64", values.astype(np.float64)
        elif spec.role.value == "boolean":
            kind, array = "BOOL", values.astype(bool)
        else:
            kind, array = "BYTES", values.astype(object)
        tensor = triton.InferInput(spec.name, [len(rows)], kind)
        tensor.set_data_from_numpy(array, binary_data=binary)
        out.append(tensor)
    return out


def _text(values: np.ndarray[Any, Any]) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_v2_tritonclient_matches_the_library_on_100_rows(
    server: Server, mixed_bundle: Bundle, tokens: Tokens, binary: bool
) -> None:
    client = triton.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    auth = tokens.header("app")
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("iris", headers=auth)
    rows = input_rows("mixed", 100, seed=7)
    names = ["prediction", "decision", "prediction_id", "prediction_set"]
    names += [f"proba_{c}" for c in mixed_bundle.classes]
    outputs = [triton.InferRequestedOutput(n, binary_data=binary) for n in names]
    result = client.infer(
        "iris",
        _inputs(rows, mixed_bundle, binary),
        outputs=outputs,
        headers=auth,
        request_id="req-7",
    )
    expected = mixed_bundle.predict(rows)
    assert result.get_response()["id"] == "req-7"
    assert _text(result.as_numpy("prediction")) == [str(v) for v in expected["prediction"]]
    assert _text(result.as_numpy("decision")) == list(expected["decision"])
    assert [json.loads(v) for v in _text(result.as_numpy("prediction_set"))] == list(
        expected["prediction_set"]
    )
    for c in mixed_bundle.classes:
        np.testing.assert_array_equal(result.as_numpy(f"proba_{c}"), expected[f"proba_{c}"])
    ids = _text(result.as_numpy("prediction_id"))
    assert len(set(ids)) == 100
    with SqlPredictionLog.open(f"sqlite:///{server.folder / 'log.db'}") as log:
        assert log.get(ids[42]).prediction == str(expected["prediction"][42])


def test_v2_default_outputs_are_all_binary_with_tritonclient_defaults(
    server: Server, mixed_bundle: Bundle, tokens: Tokens
) -> None:
    client = triton.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    rows = input_rows("mixed", 5, seed=8)
    result = client.infer("iris", _inputs(rows, mixed_bundle, True), headers=tokens.header("app"))
    outputs = {o["name"]: o for o in result.get_response()["outputs"]}
    assert all("binary_data_size" in o["parameters"] for o in outputs.values())
    assert result.as_numpy("is_ood").dtype == np.bool_
    expected = mixed_bundle.predict(rows)
    np.testing.assert_array_equal(result.as_numpy("confidence"), expected["confidence"])
    ids = result.get_response()["parameters"]["prediction_ids"].split(",")
    assert ids == _text(result.as_numpy("prediction_id"))


def test_v2_metadata_lists_columns_and_outputs(
    server: Server, mixed_bundle: Bundle, tokens: Tokens
) -> None:
    client = triton.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    auth = tokens.header("app")
    assert "binary_tensor_data" in client.get_server_metadata(headers=auth)["extensions"]
    meta = client.get_model_metadata("iris", headers=auth)
    kinds = {t["name"]: t["datatype"] for t in meta["inputs"]}
    assert kinds == {
        "sepal_length_(cm)": "FP64",
        "sepal_width_(cm)": "FP64",
        "petal_length_(cm)": "FP64",
        "petal_width_(cm)": "FP64",
        "petal_size": "BYTES",
        "wide_sepal": "BOOL",
    }
    assert {"prediction", "prediction_id", "proba_setosa"} <= {t["name"] for t in meta["outputs"]}
    assert meta["versions"] == [mixed_bundle.version]


def test_v2_health_without_token_and_everything_else_refused(server: Server) -> None:
    assert httpx.get(f"{server.url}/v2/health/live").json() == {"live": True}
    refused = httpx.get(f"{server.url}/v2/models/iris")
    assert refused.status_code == 401 and "bearer token" in refused.json()["error"]


def test_v2_unknown_model_and_version_are_404(server: Server, tokens: Tokens) -> None:
    auth = tokens.header("app")
    body = {"inputs": [{"name": "petal_size", "shape": [1], "datatype": "BYTES", "data": ["x"]}]}
    other = httpx.post(f"{server.url}/v2/models/prudent/infer", json=body, headers=auth)
    assert other.status_code == 404 and "'prudent' is not served here" in other.json()["error"]
    old = httpx.get(f"{server.url}/v2/models/iris/versions/0000/ready", headers=auth)
    assert old.status_code == 404 and "no version '0000'" in old.json()["error"]


def test_v2_binary_body_limits_and_bad_sizes_are_400(server: Server, tokens: Tokens) -> None:
    header = {
        "inputs": [
            {
                "name": "sepal_length_(cm)",
                "shape": [2],
                "datatype": "FP64",
                "parameters": {"binary_data_size": 16},
            }
        ]
    }
    text = json.dumps(header).encode()
    headers = tokens.header("app") | {"Inference-Header-Content-Length": str(len(text))}
    cut = httpx.post(
        f"{server.url}/v2/models/iris/infer", content=text + b"\0" * 8, headers=headers
    )
    assert cut.status_code == 400
    assert cut.json() == {
        "error": "Input 'sepal_length_(cm)' declares 16 bytes of binary data, but only 8 remain "
        "in the body.",
        "field": "sepal_length_(cm)",
    }


@pytest.mark.parametrize(
    "outputs",
    [
        [{"name": "nope"}],
        [{"name": "prediction", "parameters": {"class_count": 2}}],
        [{"name": "prediction", "parameters": {"binary_data": "yes"}}],  # read as false, once
    ],
)
def test_v2_a_bad_outputs_list_is_refused_before_any_row_is_logged(
    server: Server, tokens: Tokens, outputs: list[dict[str, Any]]
) -> None:
    """The outputs were checked once the rows were scored and committed: the 400 left three
    rows in the log (and a review case) whose ids the client never received."""
    url = f"sqlite:///{server.folder / 'log.db'}"
    with SqlPredictionLog.open(url) as log:
        before = log.count()
    body = {
        "inputs": [{"name": "sepal_length_(cm)", "shape": [3], "datatype": "FP64",
                    "data": [5.0, 6.0, 7.0]}],
        "outputs": outputs,
    }  # fmt: skip
    answer = httpx.post(
        f"{server.url}/v2/models/iris/infer", json=body, headers=tokens.header("app")
    )
    assert answer.status_code == 400 and answer.json()["field"] == outputs[0]["name"]
    with SqlPredictionLog.open(url) as log:
        assert log.count() == before


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        (
            {"data": [5.0, 6.0], "parameters": {"binary_data_size": 16}},
            "sepal_length_(cm)",
            "Input 'sepal_length_(cm)' gives both data and binary_data_size; give its values "
            "one way.",
        ),
        (
            {"datatype": "FP16", "data": [5.0, 70000.0]},
            "sepal_length_(cm)",
            "Input 'sepal_length_(cm)' holds 70000.0 (row 1), out of the range of FP16 (at most "
            "65504 in size); send it as FP32 or FP64.",
        ),
        (
            {"request": {"parameters": {"binary_data_output": "yes"}}},
            "binary_data_output",
            "Parameter binary_data_output is 'yes', but must be true or false.",
        ),
    ],
    ids=["data-and-binary", "fp16-overflow", "binary-output-yes"],
)
def test_v2_requests_that_say_two_things_or_overflow_are_400_naming_why(
    server: Server, tokens: Tokens, change: dict[str, Any], field: str, error: str
) -> None:
    """A tensor with both data and binary_data_size had its data read and its bytes ignored;
    FP16's 70000 was called 'infinite'; binary_data_output "yes" was read as false."""
    tensor = {"name": "sepal_length_(cm)", "shape": [2], "datatype": "FP64", "data": [5.0, 6.0]}
    body = {"inputs": [tensor | {k: v for k, v in change.items() if k != "request"}]}
    body |= change.get("request", {})
    text = json.dumps(body).encode()
    headers = tokens.header("app") | {"Inference-Header-Content-Length": str(len(text))}
    binary = b"\0" * 16 if "binary_data_size" in json.dumps(change) else b""
    answer = httpx.post(
        f"{server.url}/v2/models/iris/infer", content=text + binary, headers=headers
    )
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"error": error, "field": field}


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_v2_a_50_mib_streamed_body_is_refused_early(server: Server, tokens: Tokens) -> None:
    before = _rss_mib(server.process.pid)
    head = (
        "POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        f"Authorization: Bearer {tokens.secrets['app']}\r\nContent-Type: application/json\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (1 << 20, b" " * (1 << 20))
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode())
        try:
            while sent < 50:
                sock.sendall(chunk)
                sent += 1
        except OSError:
            pass  # the server answered and closed before reading the rest
        reply = sock.recv(65536).decode(errors="replace")
    assert reply.startswith("HTTP/1.1 413"), reply[:200]
    assert '{"error":"The request body is more than 1048576 bytes' in reply
    assert _rss_mib(server.process.pid) - before < 20
    assert httpx.get(f"{server.url}/v2/health/live").status_code == 200


LONG = ("petal width, in centimetres, " * 11)[:296] + "(cm)"


@pytest.fixture(scope="module")
def long_names(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Bundle]]:
    """A bundle whose training file named a column with 300 characters, served."""
    frame = prudent.load_example("iris").rename(columns={"petal_width_(cm)": LONG})
    folder = tmp_path_factory.mktemp("long_names")
    bundle = prudent.load(fit_bundle(frame, "target").save(folder / "bundle"))
    running = start_server(bundle.path, folder / "run", "--no-auth")  # type: ignore[arg-type]
    yield running, bundle
    running.stop()


def test_v2_takes_every_column_name_the_training_file_held(
    long_names: tuple[Server, Bundle],
) -> None:
    """A 300-character column name is an input the metadata lists, and the V2 API takes it
    (it answered 400 'String should have at most 256 characters', the JSON API 200); a name
    longer than every name of the model is still refused."""
    server, bundle = long_names
    assert len(LONG) == 300
    client = triton.InferenceServerClient(url=f"127.0.0.1:{server.port}")
    assert LONG in {t["name"] for t in client.get_model_metadata("prudent")["inputs"]}
    frame = prudent.load_example("iris").rename(columns={"petal_width_(cm)": LONG})
    rows = frame.drop(columns="target").sample(10, random_state=3).reset_index(drop=True)
    expected = [str(v) for v in bundle.predict(rows)["prediction"]]
    for binary in (False, True):
        result = client.infer("prudent", _inputs(rows, bundle, binary))
        assert _text(result.as_numpy("prediction")) == expected
    records = {"records": rows.to_dict(orient="records")}
    answer = httpx.post(f"{server.url}/predict", json=records, timeout=30).json()
    assert [str(r["prediction"]) for r in answer["predictions"]] == expected
    tensor = {"name": LONG + "!", "shape": [1], "datatype": "FP64", "data": [1.0]}
    refused = httpx.post(f"{server.url}/v2/models/prudent/infer", json={"inputs": [tensor]})
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "Field 'inputs.0.name' is 301 characters long, but no input or output of the "
        "model has a name over 300; name one of them (GET /v2/models/{name}).",
        "field": "inputs.0.name",
    }
