"""The prediction log a command reads: refuse a SQLite file that is not there.

Opening a SQLite URL creates the file, and prudent's store then migrates it into an empty log:
a typo in ``--log-db`` became a new, empty database that every command read as "nothing
logged". The commands that read the log written by ``prudent serve`` (``feedback``,
``monitor``, ``review …``) call :func:`check_log_exists` first.
"""

from __future__ import annotations

from pathlib import Path

from prudent.errors import PrudentError, StoreError

__all__ = ["check_log_exists"]


def check_log_exists(url: str | Path, error: type[PrudentError] = StoreError) -> None:
    """Refuse a SQLite log file that does not exist (opening it would create an empty one).

    Parameters
    ----------
    url
        The log's URL (``sqlite:///log.db``, a file path, ``postgresql://…``); only a SQLite
        file is checked.
    error
        The error raised.

    Raises
    ------
    PrudentError
        ``error``, naming the path and the option that gave it.

    Examples
    --------
    >>> check_log_exists("sqlite:////nowhere/log.db")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    prudent.errors.StoreError: No prediction log at '/nowhere/log.db' (--log-db sqlite:...
    """
    from prudent.store import normalise_url

    parsed = normalise_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and not Path(database).is_file():
        raise error(
            f"No prediction log at '{database}' (--log-db {url}); run this where "
            "`prudent serve` logged, or pass its --log-db."
        )
