"""``prudent serve`` against the same bundle's ``predict`` in-process, on the same rows, same run.

A real server process on 127.0.0.1 (``python -m prudent.cli serve``, SQLite log, WAL,
``synchronous=FULL``: every answer waits for its row's commit) and bounded load generators
(keep-alive connections): httpx in this process for the latencies, and for the throughputs
plain sockets, whose own CPU is small beside the server's on the same 2 cores (or wrk, or
httpx: :func:`load_generator`, named in the results as ``load_generator``). The table has
categorical columns and missing values (titanic: ``sex``, ``embarked``; ``age`` missing in a
fifth of the rows). Reported:

* latency p50/p99 of 1-row and 100-row requests, one client, each as a ratio to
  ``bundle.predict`` on the same rows in this process (BLAS/OpenMP pools capped at 1 thread,
  as the server does); issue 15's target: 1-row p99 <= 20 ms;
* throughput of 1-row and 100-row requests from 1 client and from ``CLIENTS`` (8) concurrent
  clients, rows/s, with the 8 clients' p50/p99; ``ratio_8_over_1`` is the 8 clients'
  throughput over one client's. Issue 15 asks for 8 clients "within 2x of 1 client x 8",
  read the demanding way: 8 clients each sending as fast as one client does get at least
  half of 8 times one client's throughput, i.e. ``ratio_8_over_1 >= 4`` (the lenient reading,
  8 clients' requests served at no less than one client's rate, is ``>= 0.5``; both are in
  ``targets_met``). Requests that arrive while the model threads are busy are scored together
  (``serve._batching``), which is what makes a ratio above 1 possible on 2 cores;
  and 2 threads calling ``predict`` in-process (the server computes 2 predictions at once);
* the server's CPU time per request (``/proc``: its process and its children, the model's
  among them), 1 client and 8 clients, 1-row: the figure that a loaded machine inflates least;
* ``workers``: the same 1-row throughputs from a server that scores in process
  (``PRUDENT_MODEL_PROCESS=false``, ``in_process``), one with its model process (the default,
  ``workers_1``) and one with ``--workers 2``, started back to back (each server's CPU per
  request summed over its processes): what the model's own process and a second worker buy on
  this machine, where the load generator shares the cores (``ratio_8_over_1`` of each,
  ``model_process_over_in_process_8_clients`` and ``workers_2_over_1_8_clients``);
* the log's durability settings and its rows/s in 64-row batches (``bench_store``);
* R-SOAK: 1-row requests at a steady rate for ``PRUDENT_SOAK_SECONDS`` (60 by default; 600 for
  the full requirement): p99, errors, the server's memory growth, the WAL file's largest size;
* where the time of one in-process 1-row prediction goes, stage by stage.

The bundle is fitted on titanic's train rows (``PRUDENT_BENCH_BUNDLE`` names one to reuse
instead; it must take titanic's columns). Bounded: about 2 minutes plus the soak.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

import prudent
from benchmarks import bench_store
from benchmarks.broad_data import load_task
from prudent.config import Settings

SOAK_RATE = 20.0  # requests per second
THROUGHPUT_SECONDS = 6.0
CLIENTS = 8
P99_TARGET_MS = 20.0
TABLE = "titanic"  # categorical columns and missing values
LOAD_ENV = "PRUDENT_BENCH_LOAD"
"""The throughput's load generator (:func:`load_generator`): sockets (default), wrk, httpx."""


def _bundle(folder: Path) -> Path:
    given = os.environ.get("PRUDENT_BENCH_BUNDLE")
    if given:
        return Path(given)
    task = load_task(TABLE)
    bundle = prudent.fit(
        task.frame("train"), target=task.target, time_limit=20, candidates=("lightgbm",)
    )
    return bundle.save(folder / "bundle")


def _rows(n: int, seed: int = 0) -> pd.DataFrame:
    """Breast-cancer rows (``bench_shadow``'s bundle)."""
    frame = prudent.load_example("breast_cancer").drop(columns="target")
    return frame.sample(n, random_state=seed, replace=n > len(frame)).reset_index(drop=True)


def _table_rows(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows of titanic's test part (target removed), drawn with ``seed``."""
    task = load_task(TABLE)
    frame = task.frame("test").drop(columns=task.target)
    return frame.sample(n, random_state=seed, replace=n > len(frame)).reset_index(drop=True)


def _body(rows: pd.DataFrame) -> bytes:
    """The JSON request for ``rows``: missing values as null."""
    records = rows.astype(object).where(rows.notna(), None).to_dict(orient="records")
    return json.dumps({"records": records}).encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    """``prudent serve`` in a child process, stopped with SIGTERM."""

    def __init__(
        self, bundle: Path, folder: Path, *options: str, env: dict[str, str] | None = None
    ) -> None:
        self.port = _free_port()
        self.folder = folder
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "log.db"
        command = [sys.executable, "-m", "prudent.cli", "serve", str(bundle), "--no-auth"]
        command += ["--port", str(self.port), "--log-db", f"sqlite:///{self.log}", *options]
        self.out = (folder / "server.out").open("wb")
        self.process = subprocess.Popen(
            command, stdout=self.out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v2/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("prudent serve did not become ready in 120 s")

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.out.close()


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000.0
    p50, p99 = (round(float(np.percentile(ms, q)), 2) for q in (50, 99))
    return {"p50_ms": p50, "p99_ms": p99}


def _timed(call: Callable[[], Any], n: int) -> list[float]:
    call()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def _post(client: httpx.Client, body: bytes) -> None:
    answer = client.post("/predict", content=body, headers={"content-type": "application/json"})
    if answer.status_code != 200:
        raise RuntimeError(f"/predict answered {answer.status_code}: {answer.text[:200]}")


def _throughput(
    work: Callable[[], object], threads: int, seconds: float, took: list[float] | None = None
) -> float:
    """Calls of ``work`` per second from ``threads`` threads for ``seconds`` (each call's
    seconds appended to ``took``)."""
    done = [0] * threads
    stop = time.monotonic() + seconds

    def loop(k: int) -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            work()
            if took is not None:
                took.append(time.perf_counter() - started)
            done[k] += 1

    workers = [threading.Thread(target=loop, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done) / seconds


def _latency(server: _Server, bundle: prudent.Bundle) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for n, calls in ((1, 300), (100, 100)):
            rows = _table_rows(n)
            body = _body(rows)
            http = _percentiles(_timed(lambda: _post(client, body), calls))  # noqa: B023
            local = _percentiles(_timed(lambda: bundle.predict(rows), calls))  # noqa: B023
            out[f"rows_{n}"] = {
                "http": http,
                "in_process": local,
                "p50_ratio": round(http["p50_ms"] / local["p50_ms"], 2),
                "p99_ratio": round(http["p99_ms"] / local["p99_ms"], 2),
            }
    return out


def _http_rate(url: str, body: bytes, threads: int, took: list[float]) -> tuple[float, int]:
    """Answered requests per second from ``threads`` clients, each with its own connection,
    and how many were refused (503/504: the service saturated)."""
    clients = [httpx.Client(base_url=url, timeout=30) for _ in range(threads)]
    turn = iter(range(1 << 30))
    lock = threading.Lock()
    refused = [0]

    def one() -> None:
        with lock:
            client = clients[next(turn) % threads]
        answer = client.post("/predict", content=body, headers={"content-type": "application/json"})
        if answer.status_code in (503, 504):
            with lock:
                refused[0] += 1
        elif answer.status_code != 200:
            raise RuntimeError(f"/predict answered {answer.status_code}: {answer.text[:200]}")

    try:
        rate = _throughput(one, threads, THROUGHPUT_SECONDS, took)
    finally:
        for c in clients:
            c.close()
    return rate - refused[0] / THROUGHPUT_SECONDS, refused[0]


@dataclass(frozen=True)
class _Load:
    """What a load of concurrent clients got: answers/s, refusals, requests, latencies."""

    rate: float
    refused: int
    requests: int
    latency: dict[str, float]


LOAD_GENERATORS = ("sockets", "wrk", "httpx")


def load_generator() -> str:
    """The throughput's load generator: ``PRUDENT_BENCH_LOAD``, else ``sockets``.

    ``sockets``: keep-alive connections on plain sockets, one thread each, sending one
    prepared request and reading its answer (tens of microseconds of CPU a request, most of it
    outside the GIL); ``wrk``: the C load generator (Debian's package), the same load, as a
    cross-check; ``httpx``: the HTTP client, whose own 1-1.6 ms of CPU a request, on the same
    2 cores as the server, bounds what 8 clients can measure.
    """
    chosen = os.environ.get(LOAD_ENV, "sockets")
    if chosen not in LOAD_GENERATORS:
        raise ValueError(f"{LOAD_ENV}={chosen!r}: expected one of {', '.join(LOAD_GENERATORS)}")
    return chosen


def _load(url: str, body: bytes, clients: int, folder: Path) -> _Load:
    """``clients`` concurrent keep-alive clients posting ``body`` for ``THROUGHPUT_SECONDS``."""
    chosen = load_generator()
    if chosen == "sockets":
        return _socket_load(url, body, clients)
    if chosen == "httpx":
        took: list[float] = []
        rate, refused = _http_rate(url, body, clients, took)
        return _Load(rate, refused, len(took), _percentiles(took))
    (folder / "body.json").write_bytes(body)
    script = folder / "post.lua"
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = io.open("{folder / "body.json"}"):read("*a")\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    command = ["wrk", "-t1", f"-c{clients}", f"-d{THROUGHPUT_SECONDS:.0f}s", "--latency"]
    out = subprocess.run(
        [*command, "-s", str(script), f"{url}/predict"], capture_output=True, text=True, check=True
    ).stdout
    return _wrk_load(out)


def _socket_load(url: str, body: bytes, clients: int) -> _Load:
    """``clients`` threads, each on its own keep-alive socket, posting ``body`` in a loop."""
    address = httpx.URL(url)
    host, port = str(address.host), int(address.port or 80)
    request = (
        f"POST /predict HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    stop = time.monotonic() + THROUGHPUT_SECONDS
    took: list[list[float]] = [[] for _ in range(clients)]
    refused = [0] * clients
    failures: list[BaseException] = []

    def client(k: int) -> None:
        try:
            with socket.create_connection((host, port), timeout=30) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                rest = b""
                while time.monotonic() < stop:
                    started = time.perf_counter()
                    sock.sendall(request)
                    status, rest = _answer(sock, rest)
                    took[k].append(time.perf_counter() - started)
                    refused[k] += status in (503, 504)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    every = [t for one in took for t in one]
    return _Load(
        (len(every) - sum(refused)) / THROUGHPUT_SECONDS, sum(refused), len(every),
        _percentiles(every),
    )  # fmt: skip


def _answer(sock: socket.socket, held: bytes) -> tuple[int, bytes]:
    """Read one HTTP/1.1 answer (sized by Content-Length) from ``sock``: its status, and the
    bytes read past it. Any status but 200, 503 and 504 raises."""
    data = held
    while b"\r\n\r\n" not in data:
        data += _received(sock)
    head, _, data = data.partition(b"\r\n\r\n")
    status = int(head[9:12])
    sized = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if sized is None:
        raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")
    length = int(sized[1])
    while len(data) < length:
        data += _received(sock)
    if status not in (200, 503, 504):
        raise RuntimeError(f"/predict answered {status}: {data[:200]!r}")
    return status, data[length:]


def _received(sock: socket.socket) -> bytes:
    chunk = sock.recv(1 << 16)
    if not chunk:
        raise RuntimeError("the server closed the connection")
    return chunk


def _wrk_load(out: str) -> _Load:
    """Parse wrk's report (``--latency``); non-2xx answers count as refused."""
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def ms(text: str) -> float:
        number = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
        if number is None:
            raise RuntimeError(f"wrk printed a latency {text!r}")
        return round(float(number[1]) * units[number[2]], 2)

    total = re.search(r"(\d+) requests in ([\d.]+)s", out)
    if total is None:
        raise RuntimeError(f"wrk printed no request count:\n{out}")
    requests, seconds = int(total[1]), float(total[2])
    refused_match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    refused = int(refused_match[1]) if refused_match else 0
    quantiles = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)", out, flags=re.MULTILINE))
    latency = {"p50_ms": ms(quantiles["50"]), "p99_ms": ms(quantiles["99"])}
    return _Load((requests - refused) / seconds, refused, requests, latency)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of process ``pid`` and of its children (uvicorn's worker processes)."""
    total = _cpu_seconds(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            with contextlib.suppress(OSError):  # it ended meanwhile
                total += _tree_cpu_seconds(int(child))
    return total


def _all_ready(server: _Server) -> None:
    """Wait until 10 fresh connections in a row find the service ready (every worker loaded)."""
    streak, deadline = 0, time.monotonic() + 120
    while streak < 10 and time.monotonic() < deadline:
        with httpx.Client(timeout=5) as fresh:
            ok = fresh.get(f"{server.url}/v2/health/ready").status_code == 200
        streak = streak + 1 if ok else 0
        time.sleep(0.05)


def _until_model_process(server: _Server) -> None:
    """Wait until the server scores in its model process (it scores in process meanwhile)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        text = httpx.get(f"{server.url}/metrics", timeout=5).text
        if "\nprudent_model_process 1.0" in text:
            return
        time.sleep(0.2)
    raise RuntimeError("the server's model process did not start in 300 s")


def _rates(server: _Server, body: bytes) -> dict[str, Any]:
    """1 client's and ``CLIENTS`` clients' requests/s on ``body``, with the server's CPU ms per
    request (its whole process tree)."""
    out: dict[str, Any] = {}
    pid = server.process.pid
    for clients in (1, CLIENTS):
        cpu = _tree_cpu_seconds(pid)
        load = _load(server.url, body, clients, server.folder)
        cpu = _tree_cpu_seconds(pid) - cpu
        out[f"http_{clients}_clients_per_s"] = round(load.rate, 1)
        out[f"http_{clients}_clients_refused"] = load.refused
        out[f"server_cpu_ms_per_request_{clients}_clients"] = round(
            1000 * cpu / max(load.requests, 1), 2
        )
    out[f"ratio_{CLIENTS}_over_1"] = round(
        out[f"http_{CLIENTS}_clients_per_s"] / out["http_1_clients_per_s"], 2
    )
    return out


def _workers(path: Path, folder: Path) -> dict[str, Any]:
    """1-row throughputs scoring in process, then with the model process and ``--workers 1``
    and ``--workers 2``, measured back to back."""
    body = _body(_table_rows(1, seed=1))
    out: dict[str, Any] = {}
    variants = {
        "in_process": (("--workers", "1"), {"PRUDENT_MODEL_PROCESS": "false"}),
        "workers_1": (("--workers", "1"), {}),
        "workers_2": (("--workers", "2"), {}),
    }
    for name, (options, env) in variants.items():
        where = folder / name
        where.mkdir()
        server = _Server(path, where, *options, env=env)
        try:
            _all_ready(server)
            if not env:
                _until_model_process(server)
            _http_rate(server.url, body, CLIENTS, [])  # warm every worker's connections
            out[name] = _rates(server, body)
        finally:
            server.stop()
    key = f"http_{CLIENTS}_clients_per_s"
    out[f"model_process_over_in_process_{CLIENTS}_clients"] = round(
        out["workers_1"][key] / out["in_process"][key], 2
    )
    out[f"workers_2_over_1_{CLIENTS}_clients"] = round(
        out["workers_2"][key] / out["workers_1"][key], 2
    )
    return out


def _throughputs(server: _Server, bundle: prudent.Bundle) -> dict[str, Any]:
    out: dict[str, Any] = {}
    pid = server.process.pid
    for n in (1, 100):
        rows = _table_rows(n, seed=1)
        body = _body(rows)
        cpu = _tree_cpu_seconds(pid)
        one = _load(server.url, body, 1, server.folder)
        cpu_one, cpu = _tree_cpu_seconds(pid) - cpu, _tree_cpu_seconds(pid)
        many = _load(server.url, body, CLIENTS, server.folder)
        cpu_many = _tree_cpu_seconds(pid) - cpu
        single, http, refused = one.rate * n, many.rate * n, many.refused
        local = _throughput(lambda: bundle.predict(rows), 2, THROUGHPUT_SECONDS) * n  # noqa: B023
        out[f"rows_{n}"] = {
            "http_1_client_rows_per_s": round(single),
            f"http_{CLIENTS}_clients_rows_per_s": round(http),
            f"ratio_{CLIENTS}_over_1": round(http / single, 2),
            f"http_{CLIENTS}_clients_refused": refused,
            "http_1_client": one.latency,
            f"http_{CLIENTS}_clients": many.latency,
            "server_cpu_ms_per_request_1_client": round(1000 * cpu_one / max(one.requests, 1), 2),
            f"server_cpu_ms_per_request_{CLIENTS}_clients": round(
                1000 * cpu_many / max(many.requests, 1), 2
            ),
            "in_process_2_threads_rows_per_s": round(local),
            f"http_{CLIENTS}_over_in_process": round(http / local, 2),
        }
    return out


def _soak(server: _Server, seconds: float) -> dict[str, Any]:
    """1-row requests at ``SOAK_RATE`` per second for ``seconds``."""
    body = _body(_table_rows(1, seed=2))
    wal = Path(f"{server.log}-wal")
    latencies: list[float] = []
    errors, wal_max, rss_start = 0, 0, server.rss_bytes()
    start = time.monotonic()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for i in range(int(seconds * SOAK_RATE)):
            time.sleep(max(0.0, start + i / SOAK_RATE - time.monotonic()))
            sent = time.perf_counter()
            try:
                _post(client, body)
            except (RuntimeError, httpx.TransportError):
                errors += 1
            latencies.append(time.perf_counter() - sent)
            wal_max = max(wal_max, wal.stat().st_size if wal.exists() else 0)
    rss_end = server.rss_bytes()
    return {
        "seconds": seconds,
        "requests": len(latencies),
        "errors": errors,
        **_percentiles(latencies),
        "rss_start_mb": round(rss_start / 2**20, 1),
        "rss_end_mb": round(rss_end / 2**20, 1),
        "memory_growth_pct": round(100.0 * (rss_end - rss_start) / rss_start, 1),
        "wal_max_mb": round(wal_max / 2**20, 2),
    }


def _durability(log: Path) -> dict[str, Any]:
    with sqlite3.connect(log) as connection:
        mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    return {
        "journal_mode": mode,
        "synchronous": Settings.load().synchronous,
        "ack_after_commit": True,
    }


def _stages(bundle: prudent.Bundle) -> dict[str, float]:
    """Median ms of each stage of one in-process 1-row prediction (wall, one thread), as the
    served path runs them: column transformers by their checked numpy plan
    (``models._fast_columns``), the backup only for rows whose decision reads it."""
    from prudent.data import validate_frame
    from prudent.models._shared_inputs import pipeline_transform

    model, rows = bundle.model, _table_rows(1, seed=3)
    X, _ = validate_frame(rows, bundle.schema)
    P = model._proba(model.primary, model.primary_calibrator, X)
    Z = pipeline_transform(model.ood_features, X)
    stages: dict[str, Callable[[], Any]] = {
        "total_bundle_predict": lambda: bundle.predict(rows),
        "total_bundle_predictions": lambda: bundle.predictions(rows),
        "validate_frame": lambda: validate_frame(rows, bundle.schema),
        "primary_models_raw": lambda: model._primary_and_backup(X),
        "primary_model_calibrated": lambda: model._proba(
            model.primary, model.primary_calibrator, X
        ),
        "backup_model_calibrated_when_needed": lambda: model._proba(
            model.backup, model.backup_calibrator, X
        ),
        "ood_feature_map": lambda: pipeline_transform(model.ood_features, X),
        "ood_feature_map_sklearn": lambda: model.ood_features.transform(X),
        "ood_score_all_detectors": lambda: model.ood.score_samples(Z, P),
    }
    for name, detector in model.ood.detectors_.items():
        given = model.ood._input(name, Z, P, "bench")
        stages[f"ood_detector_{name}"] = partial(detector.score_samples, given)
    if model.conformal is not None:
        stages["conformal_sets"] = lambda: model.conformal.predict_set(P)
    scores = model.scores(X)
    stages["decide_and_table"] = lambda: model.decide_frame(X, scores, rules=model.rules)
    return {k: round(float(np.median(_timed(f, 30))) * 1000.0, 2) for k, f in stages.items()}


def _cpu_per_call(call: Callable[[], Any], n: int = 200) -> float:
    """CPU ms per call of ``call`` in this process (the figure a loaded machine inflates least)."""
    call()
    start = time.process_time()
    for _ in range(n):
        call()
    return round((time.process_time() - start) / n * 1000.0, 2)


def run() -> dict[str, Any]:
    """Measure and return the figures (see the module docstring)."""
    soak_seconds = float(os.environ.get("PRUDENT_SOAK_SECONDS", "60"))
    with tempfile.TemporaryDirectory() as name, threadpool_limits(1):
        folder = Path(name)
        path = _bundle(folder)
        bundle = prudent.load(path)
        server = _Server(path, folder)
        try:
            _until_model_process(server)
            result: dict[str, Any] = {
                "bundle_version": bundle.version,
                "load_generator": load_generator(),
            }
            result["latency"] = _latency(server, bundle)
            result["throughput"] = _throughputs(server, bundle)
            result["soak"] = _soak(server, soak_seconds)
            result["log_durability"] = _durability(server.log)
        finally:
            server.stop()
        result["workers"] = _workers(path, folder)
        result["log_rows_per_s_64_row_batches_full"] = round(
            bench_store._log_rate(folder / "store.db", bench_store._records(20_000), "FULL")
        )
        result["predict_1_row_stages_ms"] = _stages(bundle)
        result["predict_1_row_cpu_ms_in_process"] = _cpu_per_call(
            partial(bundle.predict, _table_rows(1, seed=3))
        )
    ratio = result["throughput"]["rows_1"][f"ratio_{CLIENTS}_over_1"]
    result["targets_met"] = {
        "http_1_row_p99_le_20ms": result["latency"]["rows_1"]["http"]["p99_ms"] <= P99_TARGET_MS,
        f"{CLIENTS}_clients_get_half_of_1_client_x_{CLIENTS}_ratio_ge_4": ratio >= 4.0,
        f"{CLIENTS}_clients_no_slower_than_1_client_ratio_ge_0.5": ratio >= 0.5,
    }
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
