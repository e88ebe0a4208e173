"""A store that opens its own engines on a prediction log's database, migrating it first."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Self

from sqlalchemy.exc import SQLAlchemyError

from prudent.errors import StoreError
from prudent.store._engine import Engines, create_engines, normalise_url
from prudent.store._migrate import upgrade

__all__ = ["OpenedStore"]


class OpenedStore:
    """Tables of the log's database read and written on connections of their own.

    Parameters
    ----------
    engines
        The database's engines.
    url
        The URL, for messages.
    """

    synchronous: ClassVar[str] = "FULL"
    """SQLite's ``synchronous`` pragma on this store's connections."""
    what: ClassVar[str] = "the store"
    """What the store holds, for messages."""

    def __init__(self, engines: Engines, url: str) -> None:
        self._engines = engines
        self.url = url

    @classmethod
    def open(cls, url: str | Path) -> Self:
        """Open the log's database, creating or migrating its tables when needed.

        Parameters
        ----------
        url
            ``sqlite:///path.db`` or a file path; ``postgresql://…``.

        Returns
        -------
        Self
            The open store; :meth:`close` it (or use ``with``).

        Raises
        ------
        StoreError
            When the database cannot be opened or migrated.
        """
        engines = create_engines(normalise_url(url), synchronous=cls.synchronous)
        try:
            upgrade(engines.write)
        except SQLAlchemyError as exc:
            engines.dispose()
            raise StoreError(f"Cannot open {cls.what} at {url}: {exc}") from exc
        return cls(engines, str(url))

    def close(self) -> None:
        """Close the database connections."""
        self._engines.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
