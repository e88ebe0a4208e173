"""The body's media type, on every route that reads one, against a real ``prudent serve``.

A body of a type its route does not read is 415 naming the type expected and the one received
(it was 400 "Field 'body': Input should be a valid dictionary…" on the JSON API, and the V2
API parsed any type); a body sent without ``Content-Type`` is read as the route's own type,
as Triton's clients send none (it was that same 400 on the JSON API).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from prudent.api import PUBLIC_ROUTES, ROUTE_ROLES
from prudent.api._middleware import BODY_TYPES
from tests.api._server import Server, start_server
from tests.api.conftest import Tokens
from tests.serve._bundles import input_rows


@pytest.fixture(scope="module")
def server(
    mixed_dir: Path, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``prudent serve`` of the mixed bundle, with tokens, on a free port."""
    running = start_server(
        mixed_dir, tmp_path_factory.mktemp("media"), "--tokens", str(tokens.path)
    )
    yield running
    running.stop()


def _records(n: int = 2) -> dict[str, list[dict[str, object]]]:
    return {"records": input_rows("mixed", n, seed=4).to_dict(orient="records")}


def _tensors() -> dict[str, object]:
    row = input_rows("mixed", 1, seed=4).to_dict(orient="records")[0]
    kinds = {"petal_size": "BYTES", "wide_sepal": "BOOL"}
    return {
        "inputs": [
            {"name": k, "shape": [1], "datatype": kinds.get(k, "FP64"), "data": [v]}
            for k, v in row.items()
        ]
    }


ROUTES = [
    ("/predict", "app", "application/json"),
    ("/feedback", "reviewer", "application/json"),
    ("/v2/models/prudent/infer", "app", "application/json or application/octet-stream"),
    ("/review/label", "reviewer", "application/x-www-form-urlencoded"),
]


@pytest.mark.parametrize(("path", "token", "expected"), ROUTES, ids=[r[0] for r in ROUTES])
@pytest.mark.parametrize("sent", ["text/plain", "application/xml; charset=utf-8"])
def test_a_body_of_another_media_type_is_415_naming_both(
    server: Server, tokens: Tokens, path: str, token: str, expected: str, sent: str
) -> None:
    headers = tokens.header(token) | {"Content-Type": sent}
    answer = httpx.post(f"{server.url}{path}", content=json.dumps(_records()), headers=headers)
    assert answer.status_code == 415
    assert answer.headers["content-type"] == "application/json"
    first = expected.split(" or ")[0]
    assert answer.json() == {
        "error": f"POST {path} takes a body of Content-Type {expected}, but the request's is "
        f"{sent.split(';')[0]!r}; send it as {first}.",
        "field": "Content-Type",
    }


def test_a_wrong_media_type_still_needs_a_token_first(server: Server) -> None:
    headers = {"Content-Type": "text/plain"}
    answer = httpx.post(f"{server.url}/predict", content=b"{}", headers=headers)
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "content_type", [None, "application/json; charset=utf-8", "application/vnd.api+json"]
)
def test_a_json_body_without_its_media_type_is_read_as_json(
    server: Server, tokens: Tokens, content_type: str | None
) -> None:
    headers = tokens.header("app") | ({"Content-Type": content_type} if content_type else {})
    for path, body in (("/predict", _records()), ("/v2/models/prudent/infer", _tensors())):
        answer = httpx.post(
            f"{server.url}{path}", content=json.dumps(body), headers=headers, timeout=30
        )
        assert answer.status_code == 200, (path, answer.text)
        answered = answer.json()
        assert len(answered.get("predictions", [])) == 2 or answered["outputs"][0]["shape"] == [1]


def test_every_route_that_reads_a_body_is_in_the_media_type_table() -> None:
    """Every POST route (the role table holds every route of the app: test_auth) reads a body,
    except the reload, which reads none."""
    posts = {route for route in {*ROUTE_ROLES, *PUBLIC_ROUTES} if route[0] == "POST"}
    assert posts - set(BODY_TYPES) == {("POST", "/admin/reload")}
    assert set(BODY_TYPES) <= posts
