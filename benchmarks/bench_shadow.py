"""What shadow scoring costs a response: ``prudent serve --shadow`` against the same service
without a shadow, on the same requests, in the same run.

Two real servers on 127.0.0.1 serve the same champion (LightGBM on breast cancer, SQLite log,
``synchronous=FULL``); one also scores every request with a challenger of the same kind (fitted
on another 80% of the rows) in the shadow's own process (niceness +10). Measuring starts once
that process has scored a first request. One client sends the same requests to each in
alternating blocks (so a drift of the machine's load hits both alike):

* back to back (the next request as soon as the answer arrives: the shadow's work competes
  with the next request for the cores), 1-row and 100-row bodies;
* paced at 20 requests/s (the shadow has time between requests), 1-row bodies.

Reported: p50/p99 latency of each, their ratio shadow / no shadow; the CPU seconds each
serving process used over all blocks, and those of its child processes (the shadow's process
and the fork server that started it); and the shadow's outcomes from ``/metrics`` (rows
scored, dropped: ``queue_full``, ``timeout``, ``failed``) and its restarts.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from threadpoolctl import threadpool_limits

import prudent
from benchmarks.bench_serve import _percentiles, _post, _rows, _Server

BLOCKS = 5
CALLS = {1: 100, 100: 30}  # requests per block, by rows per request
PACED_RATE = 20.0


def _bundles(folder: Path) -> tuple[Path, Path]:
    frame = prudent.load_example("breast_cancer")
    paths = []
    for seed, name in ((0, "champion"), (1, "challenger")):
        part = frame.sample(frac=0.8, random_state=seed)
        bundle = prudent.fit(part, target="target", time_limit=20, candidates=("lightgbm",))
        paths.append(bundle.save(folder / name))
    return paths[0], paths[1]


def _block(url: str, body: bytes, calls: int, rate: float | None) -> list[float]:
    out = []
    with httpx.Client(base_url=url, timeout=30) as client:
        _post(client, body)
        start = time.monotonic()
        for i in range(calls):
            if rate is not None:
                time.sleep(max(0.0, start + i / rate - time.monotonic()))
            sent = time.perf_counter()
            _post(client, body)
            out.append(time.perf_counter() - sent)
    return out


def _compare(servers: dict[str, _Server], n: int, rate: float | None) -> dict[str, Any]:
    body = json.dumps({"records": _rows(n, seed=n).to_dict(orient="records")}).encode()
    seconds: dict[str, list[float]] = {name: [] for name in servers}
    for _ in range(BLOCKS):
        for name, server in servers.items():
            seconds[name] += _block(server.url, body, CALLS[n] if rate is None else 60, rate)
            time.sleep(0.5)  # the shadow's queue empties before the other server's block
    plain, shadow = (_percentiles(seconds[k]) for k in ("no_shadow", "shadow"))
    return {
        "no_shadow": plain,
        "shadow": shadow,
        "p50_ratio": round(shadow["p50_ms"] / plain["p50_ms"], 3),
        "p99_ratio": round(shadow["p99_ms"] / plain["p99_ms"], 3),
    }


def _outcomes(url: str, metric: str = "prudent_shadow_rows_total") -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    found = re.findall(rf'^{metric}\{{\w+="(\w+)"\}} (\S+)$', text, re.M)
    return {outcome: float(value) for outcome, value in found}


def _shadow_warm(url: str, timeout: float = 600.0) -> None:
    """Wait until the shadow's process has scored a request (its first start imports prudent)."""
    body = json.dumps({"records": _rows(1).to_dict(orient="records")}).encode()
    with httpx.Client(base_url=url, timeout=30) as client:
        _post(client, body)
    deadline = time.monotonic() + timeout
    while _outcomes(url).get("scored", 0.0) < 1.0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the shadow scored nothing in {timeout:.0f} s")
        time.sleep(0.5)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (from ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """Every descendant of process ``pid`` now."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
    found, frontier = [], [pid]
    while frontier:
        kids = [p for p, parent in parents.items() if parent in frontier]
        found += kids
        frontier = kids
    return found


def _cpu(server: _Server) -> dict[str, float]:
    """CPU seconds of the serving process, and of its children, so far."""
    pid = server.process.pid
    children = 0.0
    for child in _children(pid):
        with contextlib.suppress(OSError):
            children += _cpu_seconds(child)
    return {"server_cpu_s": _cpu_seconds(pid), "children_cpu_s": children}


def run() -> dict[str, Any]:
    """Measure and return the figures (see the module docstring)."""
    with tempfile.TemporaryDirectory() as name, threadpool_limits(1):
        folder = Path(name)
        champion, challenger = _bundles(folder)
        (folder / "a").mkdir()
        (folder / "b").mkdir()
        servers = {
            "no_shadow": _Server(champion, folder / "a"),
            "shadow": _Server(champion, folder / "b", "--shadow", str(challenger)),
        }
        try:
            _shadow_warm(servers["shadow"].url)
            before = {name: _cpu(server) for name, server in servers.items()}
            result: dict[str, Any] = {
                "champion": prudent.load(champion).version,
                "shadow": prudent.load(challenger).version,
                "back_to_back_rows_1": _compare(servers, 1, None),
                "back_to_back_rows_100": _compare(servers, 100, None),
                f"paced_{PACED_RATE:.0f}_per_s_rows_1": _compare(servers, 1, PACED_RATE),
            }
            time.sleep(1.0)
            result["cpu_seconds"] = {
                name: {k: round(v - before[name][k], 2) for k, v in _cpu(server).items()}
                for name, server in servers.items()
            }
            result["shadow_rows"] = _outcomes(servers["shadow"].url)
            result["shadow_restarts"] = _outcomes(
                servers["shadow"].url, "prudent_shadow_restarts_total"
            )
        finally:
            for server in servers.values():
                server.stop()
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
