"""Database URLs and engines: SQLite in WAL mode with ``BEGIN IMMEDIATE`` writes, or PostgreSQL.

SQLite gets two engines: a writer whose transactions start with ``BEGIN IMMEDIATE`` (the write
lock is taken at once, so a transaction never fails half way for want of it) and a reader whose
transactions start with a plain ``BEGIN`` (WAL readers never block the writer). Both set their
pragmas on every new connection. This is the pysqlite recipe of the SQLAlchemy documentation,
"Serializable isolation / Savepoints / Transactional DDL".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError

from prudent.errors import ConfigError

__all__ = ["SYNCHRONOUS", "Engines", "create_engines", "normalise_url"]

SYNCHRONOUS = ("FULL", "NORMAL")
_PG_DRIVERS = {"postgresql", "postgres", "postgresql+psycopg"}


def normalise_url(url: str | Path) -> URL:
    """Return the SQLAlchemy URL for a log location, with PostgreSQL on the psycopg 3 driver.

    Parameters
    ----------
    url
        ``sqlite:///path.db``, ``postgresql://…`` (rewritten to ``postgresql+psycopg://…``),
        ``postgresql+psycopg://…``, or a plain file path (taken as a SQLite file).

    Returns
    -------
    URL
        The URL to connect with.

    Raises
    ------
    ConfigError
        For an in-memory SQLite database, another driver or an unparsable URL.

    Examples
    --------
    >>> normalise_url("postgresql://u@db:5432/log").drivername
    'postgresql+psycopg'
    >>> normalise_url("/tmp/log.db").render_as_string()
    'sqlite:////tmp/log.db'
    """
    text = str(url)
    if "://" not in text:
        return sa.URL.create("sqlite", database=str(Path(text)))
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise ConfigError(f"Prediction log URL {text!r} does not parse: {exc}.") from exc
    if parsed.drivername in _PG_DRIVERS:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        if parsed.database in (None, "", ":memory:"):
            raise ConfigError(
                f"Prediction log URL {text!r} is an in-memory SQLite database, which is lost on "
                "exit and not shared between connections; give a file (sqlite:///log.db) or use "
                "InMemoryPredictionLog."
            )
        return parsed
    raise ConfigError(
        f"Prediction log URL {text!r} uses driver {parsed.drivername!r}, but only sqlite:/// "
        "and postgresql+psycopg:// (or postgresql://) are supported."
    )


@dataclass(frozen=True)
class Engines:
    """The engine for writes and the engine for reads (the same one on PostgreSQL)."""

    write: Engine
    read: Engine

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.write.dispose()
        if self.read is not self.write:
            self.read.dispose()


def _json_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _sqlite_engine(url: URL, *, begin: str, pragmas: list[str], pool_size: int) -> Engine:
    engine = sa.create_engine(
        url, pool_size=pool_size, max_overflow=4, json_serializer=_json_dumps, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN, not pysqlite
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine


def create_engines(url: URL, *, synchronous: str = "FULL", busy_timeout_ms: int = 5000) -> Engines:
    """Create the engines for a log URL (already normalised).

    Parameters
    ----------
    url
        A URL from :func:`normalise_url`.
    synchronous
        SQLite's ``synchronous`` pragma: ``"FULL"`` (a commit survives power loss) or
        ``"NORMAL"`` (survives a process crash; faster). Ignored on PostgreSQL.
    busy_timeout_ms
        How long a SQLite connection waits for a lock before failing.

    Returns
    -------
    Engines
        The write and read engines.

    Raises
    ------
    ConfigError
        When ``synchronous`` or ``busy_timeout_ms`` is invalid.
    """
    sync = str(synchronous).upper()
    if sync not in SYNCHRONOUS:
        raise ConfigError(
            f"synchronous must be one of {list(SYNCHRONOUS)}, but {synchronous!r} was received."
        )
    if not isinstance(busy_timeout_ms, int) or busy_timeout_ms < 0:
        raise ConfigError(
            f"busy_timeout_ms must be a non-negative integer, but {busy_timeout_ms!r} was received."
        )
    if url.get_backend_name() != "sqlite":
        engine = sa.create_engine(
            url,
            pool_size=4,
            max_overflow=4,
            pool_pre_ping=True,
            json_serializer=_json_dumps,
            hide_parameters=True,
        )
        return Engines(write=engine, read=engine)
    pragmas = [
        f"PRAGMA busy_timeout = {busy_timeout_ms}",
        "PRAGMA journal_mode = WAL",
        f"PRAGMA synchronous = {sync}",
        "PRAGMA foreign_keys = ON",
        "PRAGMA journal_size_limit = 67108864",
    ]
    return Engines(
        write=_sqlite_engine(url, begin="BEGIN IMMEDIATE", pragmas=pragmas, pool_size=1),
        read=_sqlite_engine(url, begin="BEGIN", pragmas=pragmas, pool_size=4),
    )
