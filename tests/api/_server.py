"""Start ``prudent serve`` as a real uvicorn process on a free 127.0.0.1 port, for the tests.

Until the main CLI registers the service commands, the child builds a Typer app and calls
``prudent.cli._serve.register`` on it, so the command line is the real one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

RUNNER = (
    "import sys, typer\n"
    "from prudent.cli._serve import register\n"
    "if __name__ == '__main__':\n"
    "    app = typer.Typer()\n"
    "    register(app)\n"
    "    app(sys.argv[1:])\n"
)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running ``prudent serve`` process."""

    process: subprocess.Popen[bytes]
    port: int
    folder: Path

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        """Everything the process printed so far."""
        return (self.folder / "server.out").read_text(errors="replace")

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Poll ``/v2/health/ready`` until it answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.output}")
            try:
                if httpx.get(f"{self.url}/v2/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"server not ready in {timeout} s:\n{self.output}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send ``sig`` and wait for the process to exit; return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def start_server(
    bundle: Path, folder: Path, *args: str, env: dict[str, str] | None = None, ready: bool = True
) -> Server:
    """Run ``prudent serve BUNDLE --port <free> --log-db sqlite:///<folder>/log.db ARGS``."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [sys.executable, "-c", RUNNER, "serve", str(bundle), "--port", str(port)]
    if "--log-db" not in args:
        command += ["--log-db", f"sqlite:///{folder / 'log.db'}"]
    with (folder / "server.out").open("wb") as out:
        process = subprocess.Popen(
            [*command, *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env={**os.environ, **(env or {})},
        )
    server = Server(process, port, folder)
    if ready:
        try:
            server.wait_ready()
        except BaseException:
            server.stop(signal.SIGKILL)
            raise
    return server
