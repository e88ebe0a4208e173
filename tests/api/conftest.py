"""Fixtures of the HTTP tests: real bundles, a tokens file, in-process and real servers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import prudent
from prudent.api import add_token, create_app
from prudent.bundle import Bundle
from prudent.config import Settings


@pytest.fixture(scope="session")
def numeric_bundle(numeric_dir: Path) -> Bundle:
    """The numeric bundle, loaded."""
    return prudent.load(numeric_dir)


@pytest.fixture(scope="session")
def mixed_bundle(mixed_dir: Path) -> Bundle:
    """The mixed bundle, loaded."""
    return prudent.load(mixed_dir)


@dataclass(frozen=True)
class Tokens:
    """A tokens file and the tokens it was made with (name → secret)."""

    path: Path
    secrets: dict[str, str]

    def header(self, name: str) -> dict[str, str]:
        """The Authorization header of token ``name``."""
        return {"Authorization": f"Bearer {self.secrets[name]}"}


@pytest.fixture(scope="session")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Tokens:
    """Tokens: app (predict), reviewer and reviewer2 (review), root (admin), limited (predict,
    1 request/s, burst 2), both (predict and review)."""
    path = tmp_path_factory.mktemp("auth") / "tokens.yaml"
    made = {
        "app": add_token(path, "app", ["predict"]),
        "reviewer": add_token(path, "reviewer", ["review"]),
        "reviewer2": add_token(path, "reviewer2", ["review"]),
        "root": add_token(path, "root", ["admin"]),
        "limited": add_token(path, "limited", ["predict"], rate_limit=1.0, burst=2),
        "both": add_token(path, "both", ["predict", "review"]),
    }
    return Tokens(path, made)


def wait_ready(client: TestClient, timeout: float = 60.0) -> None:
    """Poll readiness until 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get("/v2/health/ready")
        if response.status_code == 200:
            return
        time.sleep(0.05)
    raise TimeoutError(f"not ready: {response.json()}")


def make_client(bundle: Bundle, tmp_path: Path, tokens: Tokens | None, **settings: Any) -> Any:
    """A TestClient context manager over ``create_app`` serving ``bundle`` (loaded)."""
    auth: dict[str, Any] = {"tokens_file": tokens.path} if tokens else {"no_auth": True}
    config = Settings(
        bundle=bundle.path, log_db=f"sqlite:///{tmp_path / 'log.db'}", **auth, **settings
    )
    return TestClient(create_app(config, bundle=bundle), raise_server_exceptions=False)


def serve_ready(
    bundle: Bundle, tmp_path: Path, tokens: Tokens | None, **settings: Any
) -> Iterator[TestClient]:
    """Serve ``bundle`` in process, wait until ready, yield the client (``yield from`` it)."""
    with make_client(bundle, tmp_path, tokens, **settings) as c:
        wait_ready(c)
        yield c


@pytest.fixture
def client(numeric_bundle: Bundle, tmp_path: Path, tokens: Tokens) -> Iterator[TestClient]:
    """An in-process service of the numeric bundle with tokens, ready."""
    with make_client(numeric_bundle, tmp_path, tokens) as c:
        wait_ready(c)
        yield c
