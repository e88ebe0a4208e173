"""The serve benchmark's load generators count what a real HTTP server on 127.0.0.1 answered:
plain sockets, wrk's report and httpx each give the requests the server saw, refusals
included."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from benchmarks import bench_serve
from tests.conftest import require


class _Counting(BaseHTTPRequestHandler):
    """Answers each POST: 200, or 503 for every fourth (a saturated service)."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the service's clients use
    seen: ClassVar[list[int]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            self.seen.append(1)
            status = 503 if len(self.seen) % 4 == 0 else 200
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Counting.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("generator", bench_serve.LOAD_GENERATORS)
def test_each_load_generator_reports_what_the_server_answered(
    generator: str, server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if generator == "wrk":
        require("wrk", shutil.which("wrk") is not None, "wrk is missing (apt-get install wrk)")
    monkeypatch.setenv(bench_serve.LOAD_ENV, generator)
    monkeypatch.setattr(bench_serve, "THROUGHPUT_SECONDS", 1.0)
    assert bench_serve.load_generator() == generator
    load = bench_serve._load(server, b'{"records": [{}]}', 3, tmp_path)
    seen = len(_Counting.seen)
    assert 20 < load.requests <= seen <= load.requests + 3  # in flight when it stopped
    assert abs(load.refused - load.requests // 4) <= 3
    assert load.rate * 1.0 == pytest.approx(load.requests - load.refused, rel=0.1)
    assert 0 < load.latency["p50_ms"] <= load.latency["p99_ms"] < 1000


def test_an_unknown_load_generator_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(bench_serve.LOAD_ENV, "ab")
    with pytest.raises(ValueError, match="sockets, wrk, httpx"):
        bench_serve.load_generator()
