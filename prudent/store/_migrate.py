"""Bring a database's schema to the newest revision with Alembic, run in code at open."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from prudent.errors import StoreError
from prudent.store._tables import VERSION_TABLE

__all__ = ["MIGRATIONS_DIR", "alembic_config", "current_revision", "head_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
"""The Alembic script directory shipped inside the package."""
_PG_LOCK_KEY = 0x70727564  # pg_advisory_xact_lock key: openers on PostgreSQL migrate one at a time


def alembic_config() -> Config:
    """Return an Alembic configuration built in code, pointing at the shipped migrations.

    Returns
    -------
    Config
        A configuration with ``script_location`` set; no ini file is read.

    Examples
    --------
    >>> alembic_config().get_main_option("script_location").endswith("migrations")
    True
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """Return the newest schema revision this version of prudent knows.

    Returns
    -------
    str
        The head revision id.

    Examples
    --------
    >>> head_revision()
    '0008'
    """
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the shipped migrations have a single head"
    return head


def current_revision(connection: Connection) -> str | None:
    """Return the schema revision recorded in the database, or None when it has none.

    Parameters
    ----------
    connection
        An open connection.

    Returns
    -------
    str or None
        The revision in the version table.
    """
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade(engine: Engine) -> str:
    """Migrate the database to the newest revision; a database already there is left alone.

    The work runs in one transaction that also serialises concurrent openers: ``BEGIN
    IMMEDIATE`` on SQLite (the engine's begin hook), an advisory lock on PostgreSQL.

    Parameters
    ----------
    engine
        The write engine.

    Returns
    -------
    str
        The revision the database is at.

    Raises
    ------
    StoreError
        When the database holds a revision this version of prudent does not know.
    """
    config = alembic_config()
    script = ScriptDirectory.from_config(config)
    head = head_revision()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
        current = current_revision(connection)
        if current == head:
            return head
        known = {s.revision for s in script.walk_revisions()}
        if current is not None and current not in known:
            raise StoreError(
                f"The prediction log at {engine.url.render_as_string()} has schema revision "
                f"{current!r}, which this version of prudent does not know (newest {head!r}); "
                "upgrade prudent or point it at another database."
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return head
