"""A throwaway PostgreSQL server for tests, on 127.0.0.1 only, gone when the session ends.

Use the session fixture from any test directory by importing it into that directory's
``conftest.py``::

    from tests._postgres import postgres_url  # noqa: F401  (a pytest fixture)

and give each test its own database with :func:`create_database`. Outside pytest,
:func:`postgres_server` is a plain context manager yielding the URL. When PostgreSQL is not
installed the fixture calls ``tests.conftest.require("postgres", False, ...)``: the test skips
on a laptop and fails in CI (``PRUDENT_REQUIRE_POSTGRES=1``).

PostgreSQL refuses to run as root; as root the server runs as the ``postgres`` user (created by
the Debian package) through ``runuser``, in a temporary folder that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import require

__all__ = ["create_database", "find_pg_bindir", "postgres_server", "postgres_unavailable"]

_SERVICE_USER = "postgres"


def find_pg_bindir() -> Path | None:
    """Return the newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and pg_ctl."""

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path))

    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("pg_ctl")
    if found and Path(found).with_name("initdb").exists():
        return Path(found).parent
    return None


def postgres_unavailable() -> str | None:
    """Return why a throwaway server cannot start here, or None when it can."""
    if find_pg_bindir() is None:
        return "initdb/pg_ctl not found (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(_SERVICE_USER)
        except KeyError:
            return f"running as root and there is no {_SERVICE_USER!r} user to run the server"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(command: list[str], as_service_user: bool) -> None:
    prefix = ["runuser", "-u", _SERVICE_USER, "--"] if as_service_user else []
    done = subprocess.run(prefix + command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr or done.stdout}")


def _initdb(bindir: Path, folder: Path, password: str, as_root: bool) -> Path:
    data = folder / "data"
    pwfile = folder / "pwfile"
    pwfile.write_text(password + "\n")
    if as_root:
        for path in (folder, pwfile):
            shutil.chown(path, _SERVICE_USER, _SERVICE_USER)
    folder.chmod(0o700)
    _run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "prudent",
            "-E",
            "UTF8",
            "--locale=C",
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "--no-sync",
        ],
        as_root,
    )
    pwfile.unlink()
    return data


@contextmanager
def postgres_server(*, fsync: bool = True) -> Iterator[str]:
    """Start a PostgreSQL server in a temporary folder and yield the URL of its ``prudent`` DB.

    The server listens on 127.0.0.1 on a free port (and a Unix socket in the folder), with a
    random password; it is stopped and its folder removed on exit.
    """
    reason = postgres_unavailable()
    if reason is not None:
        raise RuntimeError(f"Cannot start PostgreSQL: {reason}.")
    bindir = find_pg_bindir()
    assert bindir is not None
    as_root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="prudent-pg-"))
    password = secrets.token_hex(16)
    data = None
    try:
        data = _initdb(bindir, folder, password, as_root)
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} "
            f"-c fsync={'on' if fsync else 'off'} -c max_connections=50"
        )
        _run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(folder / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            ],
            as_root,
        )
        base = f"postgresql+psycopg://prudent:{password}@127.0.0.1:{port}"
        yield create_database(f"{base}/postgres", "prudent")
    finally:
        if data is not None and (data / "postmaster.pid").exists():
            _run(
                [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], as_root
            )
        shutil.rmtree(folder, ignore_errors=True)


def create_database(url: str, name: str | None = None, *, template: str | None = None) -> str:
    """Create a database on the server of ``url`` and return the URL that points at it.

    Parameters
    ----------
    url
        Any database URL of the server (``postgresql+psycopg://…/dbname``).
    name
        The new database's name; a fresh unique one by default.
    template
        Copy this database (which must have no open connection) instead of an empty one.
    """
    import psycopg

    name = name or f"t_{uuid.uuid4().hex[:16]}"
    head, _, _ = url.rpartition("/")
    conninfo = head.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"{copy}')
    return f"{head}/{name}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a throwaway server's database, for the whole session (see module docs)."""
    reason = postgres_unavailable()
    if reason is not None:
        require("postgres", False, reason)
    with postgres_server() as url:
        yield url
