"""``prudent serve --registry``: a real service follows the champion through promotions and a
rollback, by hot swap, while a client keeps asking."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import prudent
from prudent.retrain import Registry
from tests.api._server import RUNNER, Server, free_port
from tests.fixtures import example


@pytest.fixture(scope="module")
def other_dir(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle again with a fit-time setting nudged: same inputs and classes, another hash."""
    bundle = prudent.load(bundle_dir)
    bundle.model.ood.fpr = float(bundle.model.ood.fpr) + 1e-6
    return bundle.save(tmp_path_factory.mktemp("other") / "bundle")


def _ask(url: str, stop: threading.Event, seen: list[tuple[int, str]]) -> None:
    rows = example("iris").drop(columns="target").head(5).to_dict(orient="records")
    with httpx.Client(base_url=url, timeout=10) as client:
        while not stop.is_set():
            answer = client.post("/predict", json={"records": rows})
            ok = answer.status_code == 200
            seen.append((answer.status_code, answer.json()["model_version"] if ok else ""))


def _wait(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_serve_registry_follows_the_champion_without_a_failed_request(
    tmp_path: Path, bundle_dir: Path, other_dir: Path
) -> None:
    registry = Registry(tmp_path / "reg", create=True)
    old = registry.register(bundle_dir, by="ann").model_version
    new = registry.register(other_dir, by="ann").model_version
    registry.promote("v1", by="ann")
    port, folder = free_port(), tmp_path / "run"
    folder.mkdir()
    log = f"sqlite:///{folder / 'log.db'}"
    command = [sys.executable, "-c", RUNNER, "serve", "--registry", str(registry.root),
               "--port", str(port), "--log-db", log, "--no-auth"]  # fmt: skip
    with (folder / "server.out").open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=folder,
                                   env=dict(os.environ))  # fmt: skip
    server = Server(process, port, folder)
    stop, seen = threading.Event(), []
    client = threading.Thread(target=_ask, args=(server.url, stop, seen))
    try:
        server.wait_ready()
        client.start()
        _wait(lambda: bool(seen) and seen[-1][1] == old)
        registry.promote("v2", by="ann", reason="better")
        _wait(lambda: seen[-1][1] == new)
        registry.rollback(by="ann", reason="complaints")
        _wait(lambda: seen[-1][1] == old)
    finally:
        stop.set()
        if client.is_alive():
            client.join(30)
        server.stop()
    assert {code for code, _ in seen} == {200}, server.output[-3000:]
    assert f"Hot swap: now serving bundle {new} (was {old})." in server.output
    assert f"Hot swap: now serving bundle {old} (was {new})." in server.output


def test_a_retrained_bundle_with_other_column_statistics_or_dtypes_can_replace_the_served_one(
    bundle_dir: Path,
) -> None:
    import copy

    from prudent.errors import BundleError
    from prudent.serve import check_replacement

    served = prudent.load(bundle_dir)
    manifest = copy.deepcopy(served.manifest)
    manifest["schema"]["columns"][0] |= {"n_unique": 999, "missing_share": 0.5}
    check_replacement(served, prudent.Bundle(served.model, manifest))  # more rows, same inputs
    manifest["schema"]["columns"][0]["dtype"] = "object"  # an integer column with a gap,
    check_replacement(served, prudent.Bundle(served.model, manifest))  # or numbers as text
    role = manifest["schema"]["columns"][0]["role"]
    manifest["schema"]["columns"][0]["role"] = "text" if role != "text" else "categorical"
    with pytest.raises(BundleError, match="input schema differs"):
        check_replacement(served, prudent.Bundle(served.model, manifest))
