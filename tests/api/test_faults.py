"""Faults against a real ``prudent serve`` process, each bounded in count and time.

R-DURABLE-ACK: ``kill -9`` under load loses no acknowledged prediction (SQLite and PostgreSQL).
R-CLIENT-CRASH: 300 clients killed mid-request leave the server live, its rows whole and its
open file descriptors back at their baseline.
R-OVERLOAD: 64 clients at once against 1 prediction thread and 2 queue places: the excess get
503 with ``Retry-After`` at once, none waits past the deadline, the server stays live (the
in-process test in ``test_reliability.py`` pins the message; this one the scale).
R-V2-HEALTH: ``prudent serve`` is live (tritonclient) within about a second of process start,
ready once the bundle is loaded; a service that cannot start exits with one line.
R-HEALTH-ISOLATION: while another process keeps both prediction threads busy with 100-row
requests, ``/v2/health/live`` answers 150 probes with p99 under 100 ms.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest
import tritonclient.http as triton

from prudent.store import SqlPredictionLog
from tests._postgres import create_database, postgres_url  # noqa: F401  (a fixture)
from tests.api._server import Server, free_port, start_server
from tests.serve._bundles import input_rows

pytestmark = pytest.mark.serial  # load, deadlines and CPU shares: alone under xdist

CLIENTS = 3


def _hammer(url: str, stop: threading.Event, acked: list[str], seed: int) -> None:
    """Post 1- to 4-row requests until ``stop``; keep the ids of every 200 fully received."""
    rows = input_rows("numeric", 40, seed=seed).to_dict(orient="records")
    with httpx.Client(base_url=url, timeout=5) as client:
        for i in range(2000):
            if stop.is_set():
                return
            size = 1 + i % 4
            try:
                answer = client.post("/predict", json={"records": rows[i % 36 : i % 36 + size]})
            except httpx.TransportError:
                return  # the server died: no answer, no promise
            if answer.status_code == 200:
                acked.extend(p["prediction_id"] for p in answer.json()["predictions"])


def _kill_under_load(server: Server, until: Callable[[list[str]], bool]) -> list[str]:
    """Load ``server`` from a few threads, SIGKILL it once ``until(acked)``; return the acked."""
    stop, acked = threading.Event(), []  # type: ignore[var-annotated]
    threads = [
        threading.Thread(target=_hammer, args=(server.url, stop, acked, k)) for k in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while not until(acked) and time.monotonic() < deadline:
        time.sleep(0.02)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    stop.set()
    for t in threads:
        t.join(10)
    return list(acked)


def _check_durable(bundle: Path, folder: Path, log_db: str) -> None:
    first = start_server(bundle, folder, "--no-auth", "--log-db", log_db)
    try:
        acked = _kill_under_load(first, lambda ids: len(ids) >= 150)
    finally:
        first.stop(signal.SIGKILL)
    assert first.process.returncode == -signal.SIGKILL
    assert len(acked) >= 150, first.output
    second = start_server(bundle, folder, "--no-auth", "--log-db", log_db)  # restart: ready
    second.stop()
    with SqlPredictionLog.open(log_db) as log:
        assert log.integrity_check() == []
        found = [log.get(pid) for pid in acked]
        assert log.count() >= len(acked)
    assert [r.id for r in found] == acked
    for record in found:  # whole rows: every field the service writes is there
        assert record.decision in ("accept", "review", "rule", "backup")
        assert len(record.inputs) == 30 and record.latency_ms is not None
        assert record.prediction is not None or record.decision == "review"


def test_kill_9_under_load_loses_no_acknowledged_prediction_sqlite(
    numeric_dir: Path, tmp_path: Path
) -> None:
    _check_durable(numeric_dir, tmp_path, f"sqlite:///{tmp_path / 'log.db'}")


@pytest.mark.postgres
def test_kill_9_under_load_loses_no_acknowledged_prediction_postgres(
    numeric_dir: Path,
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    _check_durable(numeric_dir, tmp_path, create_database(postgres_url))


CRASHING_CLIENT = r"""
import json, socket, sys, time
port, n, body = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
head = "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
partial = [
    b"",  # connected, nothing sent
    b"POST /predict HT",  # half a request line
    head.encode(),  # headers not finished
    (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body[: len(body) // 2],
    (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + b"400\r\n" + body[:100],
    (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body,  # whole; never read
]
held = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(partial[i % len(partial)])
    held.append(s)
print("sent", flush=True)
time.sleep(60)
"""


def _open_fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def _settle(pid: int, at_most: int, timeout: float) -> int:
    """Wait until the process holds at most ``at_most`` descriptors; return the last count."""
    deadline = time.monotonic() + timeout
    while (count := _open_fds(pid)) > at_most and time.monotonic() < deadline:
        time.sleep(0.1)
    return count


def test_clients_killed_mid_request_leave_no_trace(numeric_dir: Path, tmp_path: Path) -> None:
    server = start_server(numeric_dir, tmp_path, "--no-auth")
    try:
        rows = input_rows("numeric", 3).to_dict(orient="records")
        body = json.dumps({"records": rows})
        for _ in range(3):  # warm: the log's files and the model threads are open now
            assert httpx.post(f"{server.url}/predict", json={"records": rows}).status_code == 200
        baseline = _settle(server.process.pid, 0, 0.5)
        with subprocess.Popen(
            [sys.executable, "-c", CRASHING_CLIENT, str(server.port), "300", body],
            stdout=subprocess.PIPE,
        ) as child:
            assert child.stdout is not None and child.stdout.readline() == b"sent\n"
            # the server accepts the connections as fast as a busy machine lets it: wait
            # for them (0.5 s saw 92 of 300 on 2 cores running other tests), not a set time
            deadline, during = time.monotonic() + 10.0, 0
            while time.monotonic() < deadline:
                during = _open_fds(server.process.pid)
                if during > baseline + 100:
                    break
                time.sleep(0.1)
            child.send_signal(signal.SIGKILL)
        after = _settle(server.process.pid, baseline, 5.0)
        answer = httpx.post(f"{server.url}/predict", json={"records": rows}, timeout=10)
    finally:
        server.stop()
    assert during > baseline + 100  # the server did hold the dead clients' connections
    assert after <= baseline, (baseline, during, after)
    assert answer.status_code == 200 and server.process.returncode in (0, -signal.SIGTERM)
    assert "Traceback" not in server.output
    with SqlPredictionLog.open(f"sqlite:///{tmp_path / 'log.db'}") as log:
        assert log.integrity_check() == []
        records = list(log.iter_predictions())
    assert len(records) >= 4  # ours, plus whole requests of the dead clients that were served
    for record in records:
        assert len(record.inputs) == 30 and record.decision in ("accept", "review", "backup")


LOAD = r"""
import json, sys, threading, time
from collections import Counter

import httpx
import numpy as np
url, seconds, threads, body = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
codes, stop = [], time.monotonic() + seconds

def run():
    with httpx.Client(base_url=url, timeout=10) as client:
        while time.monotonic() < stop:
            r = client.post("/predict", content=body, headers={"content-type": "application/json"})
            codes.append(r.status_code)

workers = [threading.Thread(target=run) for _ in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(json.dumps(codes))
"""


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _idle_and_total() -> tuple[int, int]:
    """The machine's idle (and I/O wait) and total CPU ticks so far, all cores."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return ticks[3] + ticks[4], sum(ticks)


def test_health_live_stays_fast_while_inference_keeps_the_cores_busy(
    numeric_dir: Path, tmp_path: Path
) -> None:
    server = start_server(numeric_dir, tmp_path, "--no-auth")
    body = json.dumps({"records": input_rows("numeric", 100).to_dict(orient="records")})
    try:
        with subprocess.Popen(
            [sys.executable, "-c", LOAD, server.url, "6", "4", body], stdout=subprocess.PIPE
        ) as load:
            time.sleep(1.5)  # the load is steady
            cpu, start = _cpu_seconds(server.process.pid), time.monotonic()
            idle, total = _idle_and_total()
            latencies = []
            with httpx.Client(base_url=server.url, timeout=5) as probe:
                for _ in range(150):
                    sent = time.perf_counter()
                    assert probe.get("/v2/health/live").status_code == 200
                    latencies.append(time.perf_counter() - sent)
                    time.sleep(0.01)
            busy = (_cpu_seconds(server.process.pid) - cpu) / (time.monotonic() - start)
            idle_after, total_after = _idle_and_total()
            out, _ = load.communicate(timeout=30)
    finally:
        server.stop()
    codes = json.loads(out)
    p99 = float(np.percentile(latencies, 99))
    # the server computed all along (its 2 model threads share one GIL: ~1 core of Python);
    # on a machine whose cores were all busy (the suite's other worker) it got less of them
    saturated = (idle_after - idle) / max(total_after - total, 1) < 0.1
    assert busy > (0.4 if saturated else 0.8), (busy, saturated)
    assert len(codes) >= 20 and set(codes) == {200}
    assert p99 < 0.1, sorted(latencies)[-5:]


def _burst(url: str, body: str, go: threading.Barrier, out: list[tuple[int, float, str]]) -> None:
    """Wait for every client, then send 5 requests one after another; keep what came back."""
    with httpx.Client(base_url=url, timeout=10) as client:
        go.wait(30)
        for _ in range(5):
            sent = time.monotonic()
            answer = client.post(
                "/predict", content=body, headers={"content-type": "application/json"}
            )
            retry = answer.headers.get("retry-after", "")
            out.append((answer.status_code, time.monotonic() - sent, retry))


def test_far_more_clients_than_slots_get_fast_503s_and_none_hangs(
    numeric_dir: Path, tmp_path: Path
) -> None:
    limits = {"PRUDENT_MAX_CONCURRENCY": "1", "PRUDENT_QUEUE_SIZE": "2"}
    server = start_server(
        numeric_dir, tmp_path, "--no-auth", env=limits | {"PRUDENT_DEADLINE_MS": "5000"}
    )
    body = json.dumps({"records": input_rows("numeric", 1).to_dict(orient="records")})
    out: list[tuple[int, float, str]] = []
    go = threading.Barrier(64)
    clients = [threading.Thread(target=_burst, args=(server.url, body, go, out)) for _ in range(64)]
    try:
        for c in clients:
            c.start()
        for c in clients:
            c.join(60)
        live = httpx.get(f"{server.url}/v2/health/live", timeout=5).status_code
        after = httpx.post(f"{server.url}/predict", json=json.loads(body), timeout=10).status_code
    finally:
        server.stop()
    codes = Counter(code for code, _, _ in out)
    refused = sorted(t for code, t, _ in out if code == 503)
    assert len(out) == 320 and set(codes) <= {200, 503, 504}, codes
    assert codes[503] >= 160 and codes[200] >= 3, codes  # most are refused, some served
    assert all(retry == "1" for code, _, retry in out if code == 503)
    # refused fast: well inside the deadline, timed from one of 64 client threads on a busy machine
    assert refused[-1] < 2.5, refused[-5:]
    assert max(t for _, t, _ in out) < 5.0 * 1.1 + 0.3  # none past its deadline
    assert live == 200 and after == 200


def _serve_command(bundle: Path, port: int, *args: str) -> list[str]:
    """``prudent serve`` through the real entry point (``python -m prudent.cli``)."""
    return [sys.executable, "-m", "prudent.cli", "serve", str(bundle), "--port", str(port), *args]


def test_live_within_a_second_of_start_and_ready_once_loaded(
    numeric_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    log_db = f"sqlite:///{tmp_path / 'log.db'}"
    started = time.monotonic()
    with subprocess.Popen(
        _serve_command(numeric_dir, port, "--no-auth", "--log-db", log_db),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as process:
        try:
            client = triton.InferenceServerClient(url=f"127.0.0.1:{port}")
            live_after = _poll(client.is_server_live, started, 10.0)
            ready_at_first = client.is_server_ready()
            early = httpx.get(f"http://127.0.0.1:{port}/v2")
            ready_after = _poll(client.is_server_ready, started, 60.0)
            model_ready = client.is_model_ready("prudent")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(15)
    assert live_after < 1.5, live_after
    assert not ready_at_first and ready_after > live_after and model_ready
    assert early.status_code == 503 and early.headers["retry-after"] == "1"
    assert early.json()["error"].startswith("Not ready: starting")


def _poll(probe: Callable[[], bool], started: float, timeout: float) -> float:
    """Call ``probe`` until it returns True; return the seconds since ``started``."""
    while time.monotonic() - started < timeout:
        with contextlib.suppress(Exception):  # refused while the socket is not bound yet
            if probe():
                return time.monotonic() - started
        time.sleep(0.02)
    raise TimeoutError(f"{probe} not true after {timeout} s")


def test_serve_with_a_bad_tokens_file_exits_with_one_line(
    numeric_dir: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "no-tokens.yaml"
    done = subprocess.run(
        _serve_command(numeric_dir, free_port(), "--tokens", str(missing)),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("prudent: error: ")
    assert "Traceback" not in done.stderr
