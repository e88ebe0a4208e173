"""Alembic environment: run the migrations on the connection prudent.store hands over.

prudent.store runs Alembic in code (see ``prudent/store/_migrate.py``): it opens a connection,
begins a transaction (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL, so that
concurrent openers migrate one at a time) and passes the connection in
``config.attributes["connection"]``. Alembic's command line is not used.
"""

from __future__ import annotations

from alembic import context

from prudent.store._tables import VERSION_TABLE, metadata


def run_migrations() -> None:
    """Run the pending migrations inside the caller's transaction."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "prudent.store migrations run through prudent.store (SqlPredictionLog.open), "
            "which passes a connection; the alembic command line is not supported."
        )
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        transactional_ddl=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if hasattr(context, "config"):  # imported by Alembic, not by a doctest collector
    run_migrations()
