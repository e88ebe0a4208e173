"""How the JSON routes read a body: its Content-Encoding, keys given twice, labels of no class."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import prudent
from prudent.api._body import loads_unique
from prudent.api._errors import ApiError
from tests.api._server import Server, start_server
from tests.api.conftest import Tokens
from tests.serve._bundles import input_rows

MAX_BODY = 65_536


@pytest.fixture(scope="module")
def server(
    mixed_dir: Path, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``prudent serve`` of the mixed bundle, with tokens and a 64 kB body limit."""
    running = start_server(
        mixed_dir,
        tmp_path_factory.mktemp("bodies"),
        "--tokens",
        str(tokens.path),
        env={"PRUDENT_MAX_BODY_BYTES": str(MAX_BODY)},
    )
    yield running
    running.stop()


def _records(n: int = 2) -> list[dict[str, Any]]:
    return list(input_rows("mixed", n, seed=4).to_dict(orient="records"))


def _post(server: Server, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    headers = {"Content-Type": "application/json"} | headers
    return httpx.post(f"{server.url}{path}", content=body, headers=headers, timeout=30)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_body_is_read_through_its_content_encoding(
    server: Server, tokens: Tokens, encoding: str
) -> None:
    plain = json.dumps({"records": _records()}).encode()
    body = gzip.compress(plain) if encoding == "gzip" else zlib.compress(plain)
    headers = tokens.header("app") | {"Content-Encoding": encoding}
    answer = _post(server, "/predict", body, headers)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["predictions"]) == 2


@pytest.mark.parametrize(("path", "token"), [("/predict", "app"), ("/feedback", "reviewer")])
def test_an_encoding_not_read_is_415_not_ignored(
    server: Server, tokens: Tokens, path: str, token: str
) -> None:
    body = {"records": _records()} if path == "/predict" else {"prediction_id": "x", "label": 1}
    headers = tokens.header(token) | {"Content-Encoding": "br"}
    answer = _post(server, path, json.dumps(body).encode(), headers)
    assert answer.status_code == 415
    assert answer.json() == {
        "error": "Content-Encoding 'br' is not supported; use gzip, deflate or none.",
        "field": "Content-Encoding",
    }


def test_a_body_that_does_not_inflate_or_inflates_too_far_is_refused(
    server: Server, tokens: Tokens
) -> None:
    headers = tokens.header("app") | {"Content-Encoding": "gzip"}
    broken = _post(server, "/predict", b"\x1f\x8b not gzip", headers)
    assert broken.status_code == 400
    assert broken.json()["error"].startswith("The gzip body does not decompress")
    bomb = gzip.compress(b'{"records": [' + b" " * (MAX_BODY * 4) + b"]}")
    assert len(bomb) < MAX_BODY
    answer = _post(server, "/predict", bomb, headers)
    assert answer.status_code == 413
    assert answer.json()["error"] == (
        f"The decompressed body is over {MAX_BODY} bytes (PRUDENT_MAX_BODY_BYTES); send fewer "
        "rows per request."
    )


def test_a_record_that_gives_a_key_twice_is_400_naming_it(server: Server, tokens: Tokens) -> None:
    first, second = _records()
    key = next(iter(second))
    doubled = json.dumps(second)[:-1] + f', "{key}": 99999}}'  # json would keep 99999
    body = f'{{"records": [{json.dumps(first)}, {doubled}]}}'
    answer = _post(server, "/predict", body.encode(), tokens.header("app"))
    assert answer.status_code == 400, answer.text
    assert answer.json() == {
        "error": f"Record 1 gives {key!r} twice; give each field once.",
        "field": f"records.1.{key}",
    }


def test_feedback_that_gives_a_key_twice_is_400(server: Server, tokens: Tokens) -> None:
    body = b'{"prediction_id": "x", "label": "a", "label": "b"}'
    answer = _post(server, "/feedback", body, tokens.header("reviewer"))
    assert answer.status_code == 400
    assert answer.json()["error"] == "The body gives 'label' twice; give each field once."


def test_loads_unique_names_where_the_key_is_given_twice() -> None:
    assert loads_unique('{"a": {"b": 1}, "c": [1, {"d": 2}]}') == {
        "a": {"b": 1},
        "c": [1, {"d": 2}],
    }
    with pytest.raises(ApiError, match=r"Item 2 gives 'label' twice"):
        loads_unique('{"items": [{}, {}, {"label": 1, "label": 2}]}')
    with pytest.raises(ApiError, match=r"The object at a\.0 gives 'x' twice"):
        loads_unique('{"a": [{"x": 1, "x": 1}]}')


@pytest.mark.parametrize(("label", "given"), [(None, "null"), (["a", "b"], "['a', 'b']")])
@pytest.mark.parametrize("batch", [False, True], ids=["one", "items"])
def test_a_label_of_no_scalar_is_one_error_naming_the_classes(
    server: Server, tokens: Tokens, mixed_dir: Path, label: Any, given: str, batch: bool
) -> None:
    item = {"prediction_id": "p1", "label": label}
    body = {"items": [item]} if batch else item
    answer = _post(server, "/feedback", json.dumps(body).encode(), tokens.header("reviewer"))
    assert answer.status_code == 400
    answered = answer.json()
    field = "items.0.label" if batch else "label"
    classes = [str(c) for c in prudent.load(mixed_dir).classes]
    assert answered["error"] == (
        f"Field {field!r}: should be a class of the model that made the prediction (the served "
        f"model's: {classes}) as a string, number or boolean, not {given}."
    )
    assert answered["field"] == field
    assert len(answered["errors"]) == 1
