"""R-HOT-SWAP and R-BUNDLE-INTEGRITY on reload, against a real ``prudent serve`` process.

The service serves a symbolic link; a deploy points it at another bundle and asks for a reload
(``POST /admin/reload`` or SIGHUP). The new bundle is loaded and smoke-tested before it
replaces the old one; an invalid one is refused and the old one kept.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

import prudent
from tests.api._server import Server, start_server
from tests.serve._bundles import input_rows


@pytest.fixture(scope="module")
def other_dir(numeric_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second valid bundle with the numeric bundle's inputs and classes, another hash."""
    bundle = prudent.load(numeric_dir)
    bundle.model.ood.fpr = float(bundle.model.ood.fpr) + 1e-6  # a fit-time setting: no effect
    path = bundle.save(tmp_path_factory.mktemp("other") / "bundle")
    assert prudent.load(path).version != prudent.load(numeric_dir).version
    return path


def _point(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` atomically (how a deploy switches bundles)."""
    fresh = link.with_name(f".{link.name}.new")
    fresh.unlink(missing_ok=True)
    fresh.symlink_to(target)
    os.replace(fresh, link)


def _metric(server: Server, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = httpx.get(f"{server.url}/metrics", timeout=5).text
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def _version(path: Path) -> str:
    return prudent.load(path).version


def _served_hashes(server: Server) -> set[str]:
    info = _metric(server, "prudent_bundle_info")
    return {dict(labels)["version"] for labels, value in info.items() if value == 1}


def _load(url: str, stop: threading.Event, seen: list[tuple[int, str]], seed: int) -> None:
    rows = input_rows("numeric", 20, seed=seed).to_dict(orient="records")
    with httpx.Client(base_url=url, timeout=10) as client:
        for i in range(1000):
            if stop.is_set():
                return
            answer = client.post("/predict", json={"records": rows[i % 16 : i % 16 + 1 + i % 4]})
            version = answer.json().get("model_version", "") if answer.status_code == 200 else ""
            seen.append((answer.status_code, version))


def _wait(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_reload_swaps_the_bundle_under_load_without_a_failed_response(
    numeric_dir: Path, other_dir: Path, tmp_path: Path
) -> None:
    link = tmp_path / "current"
    _point(link, numeric_dir)
    old, new = _version(numeric_dir), _version(other_dir)
    server = start_server(link, tmp_path / "run", "--no-auth")
    stop, seen = threading.Event(), []  # type: ignore[var-annotated]
    clients = [threading.Thread(target=_load, args=(server.url, stop, seen, k)) for k in range(3)]
    try:
        for c in clients:
            c.start()
        _wait(lambda: len(seen) >= 20)
        _point(link, other_dir)
        answer = httpx.post(f"{server.url}/admin/reload", timeout=30)
        swapped_at = len(seen)
        _wait(lambda: len(seen) >= swapped_at + 20)
        stop.set()
        for c in clients:
            c.join(30)
        hashes = _served_hashes(server)
        reloads = _metric(server, "prudent_bundle_reloads_total")
    finally:
        stop.set()
        server.stop()
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"model_name": "prudent", "version": new, "previous_version": old}
    assert {code for code, _ in seen} == {200}, (seen, server.output[-3000:])  # none failed
    # requests already started finish on the old bundle: at most one per client
    assert seen[0][1] == old and {v for _, v in seen[swapped_at + len(clients) :]} == {new}
    assert hashes == {new}
    assert reloads == {(("outcome", "swapped"),): 1.0}
    assert f"Hot swap: now serving bundle {new} (was {old})." in server.output


def test_reload_refuses_a_bad_bundle_and_keeps_serving_then_sighup_swaps(
    numeric_dir: Path, other_dir: Path, mixed_dir: Path, tmp_path: Path
) -> None:
    tampered = shutil.copytree(other_dir, tmp_path / "tampered")
    data = bytearray((tampered / "model.skops").read_bytes())
    data[len(data) // 2] ^= 0x01
    (tampered / "model.skops").write_bytes(bytes(data))
    link = tmp_path / "current"
    _point(link, numeric_dir)
    old, new = _version(numeric_dir), _version(other_dir)
    rows = {"records": input_rows("numeric", 2).to_dict(orient="records")}
    server = start_server(link, tmp_path / "run", "--no-auth")
    try:
        refusals = {}
        for name, target in (("tampered", tampered), ("other schema", mixed_dir)):
            _point(link, target)
            refusals[name] = httpx.post(f"{server.url}/admin/reload", timeout=30)
            assert httpx.get(f"{server.url}/v2/health/ready").status_code == 200
            served = httpx.post(f"{server.url}/predict", json=rows, timeout=10)
            assert served.status_code == 200 and served.json()["model_version"] == old
            assert _served_hashes(server) == {old}
        _point(link, other_dir)
        server.process.send_signal(signal.SIGHUP)
        _wait(lambda: _served_hashes(server) == {new})
        after = httpx.post(f"{server.url}/predict", json=rows, timeout=10)
        reloads = _metric(server, "prudent_bundle_reloads_total")
    finally:
        server.stop()
    assert refusals["tampered"].status_code == 422
    assert "does not match its SHA-256" in refusals["tampered"].json()["error"]
    assert "input schema differs" in refusals["other schema"].json()["error"]
    assert refusals["other schema"].status_code == 422
    assert "Reload refused; still serving" in server.output
    assert after.status_code == 200 and after.json()["model_version"] == new
    assert reloads == {(("outcome", "refused"),): 2.0, (("outcome", "swapped"),): 1.0}
