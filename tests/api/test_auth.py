"""Access: tokens on every route but the probes, the role × route table, rate limits, secrets."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Route

from prudent.api import (
    PUBLIC_ROUTES,
    ROUTE_ROLES,
    TokenFile,
    add_token,
    create_app,
    load_tokens,
    revoke_token,
)
from prudent.api._tokens import find_token
from prudent.bundle import Bundle
from prudent.config import Settings
from prudent.errors import ConfigError
from prudent.store import InMemoryPredictionLog
from tests.api._server import start_server
from tests.api.conftest import Tokens, serve_ready, wait_ready
from tests.serve._bundles import input_rows

ROLE_TOKENS = {"predict": "app", "review": "reviewer", "admin": "root"}
ROLES_MD = Path(__file__).parents[2] / "docs" / "roles.md"


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    out = []
    for route in app.routes:
        assert isinstance(route, Route), route
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                out.append((method, route.path))
    return out


def _concrete(path: str) -> str:
    return path.replace("{name}", "prudent").replace("{version}", "v0")


@pytest.fixture(scope="module")
def served(
    numeric_bundle: Bundle, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The numeric bundle served with tokens."""
    yield from serve_ready(numeric_bundle, tmp_path_factory.mktemp("auth"), tokens)


def test_every_route_is_in_the_role_table(served: TestClient) -> None:
    routes = set(_routes(served.app))  # type: ignore[arg-type]
    assert routes == set(ROUTE_ROLES) | PUBLIC_ROUTES


def test_every_route_but_the_probes_needs_a_token(served: TestClient, tokens: Tokens) -> None:
    for method, path in _routes(served.app):  # type: ignore[arg-type]
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
            response = served.request(method, _concrete(path), headers=headers)
            if (method, path) == ("POST", "/login"):  # the sign-in form, posted empty
                assert response.status_code == (401 if "Bearer" in str(headers) else 403)
            elif (method, path) == ("POST", "/logout"):  # no CSRF token: refused, unless bearer
                assert response.status_code == (200 if "Bearer" in str(headers) else 403)
            elif (method, path) in PUBLIC_ROUTES:
                assert response.status_code == (404 if "{name}" in path else 200), path
            else:
                assert response.status_code == 401, (method, path)
                assert response.headers["www-authenticate"] == "Bearer"
                assert "bearer token" in response.json()["error"]


@pytest.mark.parametrize("role", sorted(ROLE_TOKENS))
@pytest.mark.parametrize("route", sorted(ROUTE_ROLES), ids=lambda r: f"{r[0]} {r[1]}")
def test_role_table_is_enforced(
    served: TestClient, tokens: Tokens, role: str, route: tuple[str, str]
) -> None:
    method, path = route
    response = served.request(method, _concrete(path), headers=tokens.header(ROLE_TOKENS[role]))
    if role in ROUTE_ROLES[route]:
        assert response.status_code not in (401, 403), response.text
    else:
        assert response.status_code == 403
        assert f"'{ROLE_TOKENS[role]}' has roles ['{role}']" in response.json()["error"]


def test_roles_md_matches_the_code() -> None:
    table, public = {}, set()
    for line in ROLES_MD.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] not in ("GET", "POST"):
            continue
        key = (cells[0], cells[1].strip("`"))
        if cells[2:] == ["public"] * 3:
            public.add(key)
        else:
            ticks = zip(("predict", "review", "admin"), cells[2:], strict=True)
            table[key] = {role for role, mark in ticks if mark == "✓"}
    assert public == PUBLIC_ROUTES
    assert table == {k: set(v) for k, v in ROUTE_ROLES.items()}


def test_rate_limit_answers_429_and_spares_other_tokens(served: TestClient, tokens: Tokens) -> None:
    codes = [served.get("/v2", headers=tokens.header("limited")).status_code for _ in range(4)]
    assert codes[:2] == [200, 200] and codes[-1] == 429
    refused = served.get("/v2", headers=tokens.header("limited"))
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "past its rate limit of 1 requests per second" in refused.json()["error"]
    assert served.get("/v2", headers=tokens.header("app")).status_code == 200


def test_tokens_file_holds_only_hashes(tokens: Tokens) -> None:
    text = tokens.path.read_text()
    assert not any(secret in text for secret in tokens.secrets.values())
    assert {t.name for t in load_tokens(tokens.path)} == set(tokens.secrets)
    assert tokens.path.stat().st_mode & 0o077 == 0
    assert all(re.fullmatch(r"[0-9a-f]{64}", e["sha256"]) for e in yaml.safe_load(text)["tokens"])


def test_no_auth_only_on_loopback_and_tokens_required(numeric_bundle: Bundle) -> None:
    with pytest.raises(ConfigError, match="no_auth is allowed only on a loopback host"):
        Settings.load(bundle="b", no_auth=True, host="0.0.0.0")
    with pytest.raises(ConfigError, match="No tokens file: give --tokens FILE"):
        create_app(Settings(bundle=numeric_bundle.path))


def test_reviewer_cannot_label_a_case_claimed_by_another(
    mixed_bundle: Bundle, tokens: Tokens, tmp_path: Path
) -> None:
    log = InMemoryPredictionLog()
    settings = Settings(bundle=mixed_bundle.path, tokens_file=tokens.path)
    app = create_app(settings, bundle=mixed_bundle, log=log)
    with TestClient(app) as c:
        wait_ready(c)
        # a flower ten times the usual size is out of distribution: it goes to review
        odd = input_rows("mixed", 1)
        numeric = odd.select_dtypes("number").columns
        odd[numeric] = odd[numeric] * 10
        rows = odd.to_dict(orient="records")
        answer = c.post("/predict", json={"records": rows}, headers=tokens.header("both")).json()
        pid = answer["predictions"][0]["prediction_id"]
        assert answer["predictions"][0]["decision"] == "review"
        log.claim(pid, "reviewer2")
        body = {"prediction_id": pid, "label": "setosa"}
        refused = c.post("/feedback", json=body, headers=tokens.header("reviewer"))
        assert refused.status_code == 403 and "reviewer2" in refused.json()["error"]
        taken = c.post("/feedback", json=body, headers=tokens.header("reviewer2"))
        assert taken.status_code == 200 and taken.json()["items"][0]["status"] == "created"


def test_token_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    first = add_token(path, "first", ["predict"])
    now = [0.0]
    source = TokenFile(path, interval=1.0, clock=lambda: now[0])
    second = add_token(path, "second", ["admin"])
    assert find_token(source.entries(), second) is None  # looked less than a second ago
    now[0] = 1.0
    assert find_token(source.entries(), second) is not None
    path.write_text("tokens: [{name: broken}]\n")  # an invalid edit keeps the tokens in force
    now[0] = 2.0
    assert [t.name for t in source.entries()] == ["first", "second"]
    path.unlink()
    add_token(path, "third", ["predict"])
    now[0] = 3.0
    assert find_token(source.entries(), first) is None and len(source.entries()) == 1


@pytest.mark.slow
def test_revoked_token_gets_401_from_a_running_server(numeric_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    secrets = {name: add_token(path, name, ["predict"]) for name in ("gone", "kept")}
    server = start_server(numeric_dir, tmp_path / "run", "--tokens", str(path))
    try:

        def status(name: str) -> int:
            auth = {"Authorization": f"Bearer {secrets[name]}"}
            return httpx.get(f"{server.url}/v2", headers=auth, timeout=5).status_code

        assert status("gone") == 200 and status("kept") == 200
        revoke_token(path, "gone")
        deadline = time.monotonic() + 10
        while status("gone") == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert status("gone") == 401 and status("kept") == 200
    finally:
        server.stop()
