"""Open a prediction log to read it, and count the predictions of each model it holds."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from prudent.errors import StoreError
from prudent.store import normalise_url, predictions_table

__all__ = ["log_engine", "logged_versions"]


def log_engine(url: str | Path) -> sa.Engine:
    """An engine on the log at ``url``, refusing a database without a prediction log (and a
    SQLite file that is not there: connecting would create it)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise StoreError(
            f"No prediction log at '{parsed.database}' ({url}); point --log-db at the "
            "database `prudent serve --log-db` writes."
        )
    engine = sa.create_engine(parsed)
    try:
        with engine.connect() as connection:
            present = sa.inspect(connection).has_table(predictions_table.name)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"Cannot read the prediction log at {url}: {exc}") from exc
    if not present:
        engine.dispose()
        raise StoreError(
            f"{url} holds no prediction log (no '{predictions_table.name}' table); point "
            "--log-db at the database `prudent serve --log-db` writes."
        )
    return engine


def logged_versions(url: str | Path) -> dict[str, int]:
    """Return how many predictions the log holds of each model version, most first.

    Parameters
    ----------
    url
        The log database (``sqlite:///log.db``, a file path, or ``postgresql://…``).

    Returns
    -------
    dict
        Model version → predictions; empty for an empty log.

    Raises
    ------
    StoreError
        When the database cannot be read or holds no prediction log.
    """
    version = predictions_table.c.model_version
    query = sa.select(version, sa.func.count()).group_by(version)
    engine = log_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    except SQLAlchemyError as exc:
        raise StoreError(f"Reading the prediction log at {url} failed: {exc}") from exc
    finally:
        engine.dispose()
    counts = sorted(((str(v), int(n)) for v, n in rows), key=lambda vn: (-vn[1], vn[0]))
    return dict(counts)
