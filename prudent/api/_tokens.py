"""API tokens: created once and shown once, stored only as SHA-256 hashes, checked in constant time.

A tokens file is YAML (or JSON, which YAML reads too)::

    tokens:
      - name: checkout-service
        sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
        roles: [predict]
        rate_limit: 50     # requests per second; omit for no limit
        burst: 100         # requests allowed at once; rate_limit by default
        created: 2025-01-31T09:00:00+00:00

``prudent token add NAME --role predict --tokens tokens.yaml`` adds an entry and prints the
token; ``prudent token list`` shows the entries (never a secret); ``prudent token revoke NAME``
removes one. A running service re-reads the file when it changes (:class:`TokenFile`), so a
revoked token is refused (401) within a second, without a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from prudent.errors import ConfigError

__all__ = [
    "ROLES",
    "Role",
    "TokenEntry",
    "TokenFile",
    "add_token",
    "find_token",
    "hash_token",
    "load_tokens",
    "new_token",
    "revoke_token",
]

logger = logging.getLogger("prudent.api")

Role = Literal["predict", "review", "admin"]
ROLES: tuple[Role, ...] = ("predict", "review", "admin")
_PREFIX = "prudent_"


class TokenEntry(BaseModel):
    """One token of the tokens file (its hash, never the token itself)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$")
    """Who holds the token; recorded as the source of the labels they give."""
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    """The SHA-256 of the token, in lower-case hex."""
    roles: tuple[Role, ...] = Field(min_length=1)
    """What the token may do: ``predict``, ``review``, ``admin``."""
    rate_limit: float | None = Field(None, gt=0)
    """Requests per second allowed on average; no limit when absent."""
    burst: int | None = Field(None, ge=1)
    """Requests allowed at once before the rate applies; ``rate_limit`` (at least 1) by default."""
    created: datetime | None = None
    """When the token was made (UTC); absent in files written before prudent recorded it."""

    @property
    def id(self) -> str:
        """A short id for the token: the first 10 hex digits of its hash (not of the secret).

        Examples
        --------
        >>> TokenEntry(name="app", sha256=hash_token("test"), roles=("predict",)).id
        '9f86d08188'
        """
        return self.sha256[:10]


class _TokenFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tokens: list[TokenEntry] = Field(default_factory=list)


def hash_token(token: str) -> str:
    """Return the SHA-256 of a token in lower-case hex.

    Examples
    --------
    >>> hash_token("test")[:16]
    '9f86d081884c7d65'
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """Return a fresh random token (256 bits, URL-safe).

    Examples
    --------
    >>> t = new_token()
    >>> t.startswith("prudent_"), len(t) > 40
    (True, True)
    """
    return _PREFIX + secrets.token_urlsafe(32)


def load_tokens(path: Path) -> list[TokenEntry]:
    """Read and check a tokens file.

    Parameters
    ----------
    path
        A YAML or JSON tokens file.

    Returns
    -------
    list of TokenEntry
        Possibly empty.

    Raises
    ------
    ConfigError
        When the file is missing, does not parse, or an entry is invalid (named), or two
        entries share a name.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries = _TokenFile.model_validate(data).tokens
    except OSError as exc:
        raise ConfigError(f"Tokens file '{path}' cannot be read: {exc.strerror}.") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"Tokens file '{path}' is not valid YAML: {exc}.") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"Tokens file '{path}': entry {where} is invalid: {first['msg']}; see "
            "`prudent token --help` for the format."
        ) from None
    names = [t.name for t in entries]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"Tokens file '{path}' names {dupes} more than once; rename one.")
    return entries


def find_token(entries: Sequence[TokenEntry], token: str) -> TokenEntry | None:
    """Return the entry whose hash matches ``token``, comparing every entry in constant time.

    Examples
    --------
    >>> entry = TokenEntry(name="app", sha256=hash_token("s3cret"), roles=("predict",))
    >>> find_token([entry], "s3cret").name, find_token([entry], "guess")
    ('app', None)
    """
    digest = hash_token(token)
    found = None
    for entry in entries:
        if hmac.compare_digest(entry.sha256, digest):
            found = entry
    return found


def add_token(
    path: Path,
    name: str,
    roles: Sequence[str],
    *,
    rate_limit: float | None = None,
    burst: int | None = None,
) -> str:
    """Create a token, append its hash to the tokens file (created private if absent).

    Parameters
    ----------
    path
        The tokens file.
    name
        Who will hold the token (unique in the file).
    roles
        Some of ``predict``, ``review``, ``admin``.
    rate_limit, burst
        See :class:`TokenEntry`.

    Returns
    -------
    str
        The token: shown once, stored nowhere.

    Raises
    ------
    ConfigError
        When the name is taken or invalid, or a role is unknown.
    """
    entries = load_tokens(path) if path.exists() else []
    if any(t.name == name for t in entries):
        raise ConfigError(
            f"Tokens file '{path}' already has a token named {name!r}; choose another name, "
            f"or revoke that one first (prudent token revoke {name})."
        )
    token = new_token()
    try:
        entry = TokenEntry.model_validate(
            {
                "name": name,
                "sha256": hash_token(token),
                "roles": tuple(roles),
                "rate_limit": rate_limit,
                "burst": burst,
                "created": datetime.now(UTC).replace(microsecond=0),
            }
        )
    except ValidationError as exc:
        raise ConfigError(_entry_error(exc)) from None
    _write_tokens(path, [*entries, entry])
    return token


_FIELD_HINTS = {
    "name": "a name takes 1 to 64 letters, digits, '_', '.', '@' or '-', starting with a "
    "letter or digit",
    "roles": f"roles are {list(ROLES)}",
    "rate_limit": "--rate-limit is requests per second, a number above 0",
    "burst": "--burst is a whole number of requests, at least 1",
}


def _entry_error(exc: ValidationError) -> str:
    """One line naming the first invalid field of a new token, what it holds and what it takes.

    Examples
    --------
    >>> try:
    ...     TokenEntry.model_validate({"name": "a", "sha256": "0" * 64, "roles": ["predict"],
    ...                                "rate_limit": -1})
    ... except ValidationError as exc:
    ...     print(_entry_error(exc))
    Token rate_limit is invalid: Input should be greater than 0 (-1 was given); --rate-limit is \
requests per second, a number above 0.
    """
    first = exc.errors()[0]
    field = str(first["loc"][0])
    hint = _FIELD_HINTS.get(field, f"roles are {list(ROLES)}")
    return f"Token {field} is invalid: {first['msg']} ({first['input']!r} was given); {hint}."


def revoke_token(path: Path, key: str) -> TokenEntry:
    """Remove the token named ``key`` (or whose :attr:`TokenEntry.id` starts with it).

    Parameters
    ----------
    path
        The tokens file.
    key
        A token's name, or its id (at least 6 leading hex digits).

    Returns
    -------
    TokenEntry
        The entry removed.

    Raises
    ------
    ConfigError
        When the file cannot be read, or no token (or more than one) matches ``key``.
    """
    entries = load_tokens(path)
    found = [t for t in entries if t.name == key]
    if not found and len(key) >= 6:
        found = [t for t in entries if t.id.startswith(key.lower())]
    if len(found) != 1:
        names = ", ".join(f"{t.name} ({t.id})" for t in entries) or "none"
        what = "several tokens" if found else "no token"
        raise ConfigError(
            f"Tokens file '{path}' has {what} named {key!r} or with that id; it holds: {names}."
        )
    _write_tokens(path, [t for t in entries if t is not found[0]])
    return found[0]


def _write_tokens(path: Path, entries: Sequence[TokenEntry]) -> None:
    """Replace the tokens file atomically (a reader sees the old file or the new, never half)."""
    data = {"tokens": [t.model_dump(mode="json", exclude_none=True) for t in entries]}
    text = yaml.safe_dump(data, sort_keys=False)
    fd, temp = tempfile.mkstemp(prefix=".tokens-", dir=path.parent)  # created private (0600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class TokenFile:
    """The tokens of a file, read again whenever the file changes (checked at most every
    ``interval`` seconds), so that added and revoked tokens apply without a restart.

    A file that becomes unreadable or invalid keeps the last good tokens, and the error is
    logged once.

    Parameters
    ----------
    path
        The tokens file (read now: an invalid file raises ``ConfigError`` at start).
    interval
        Seconds between two looks at the file's modification time and size.
    clock
        Monotonic seconds.
    """

    def __init__(
        self, path: Path, *, interval: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = path
        self.interval = interval
        self.clock = clock
        self._stamp = self._stat()
        self._entries = load_tokens(path)
        self._checked = clock()

    def entries(self) -> list[TokenEntry]:
        """The tokens now in force."""
        now = self.clock()
        if now - self._checked >= self.interval:
            self._checked = now
            stamp = self._stat()
            if stamp != self._stamp:
                self._stamp = stamp
                self._reload()
        return self._entries

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return info.st_ino, info.st_mtime_ns, info.st_size

    def _reload(self) -> None:
        try:
            self._entries = load_tokens(self.path)
        except ConfigError as exc:
            logger.error("Keeping the tokens read before: %s", exc)
            return
        logger.info("Tokens file '%s' read again: %d token(s).", self.path, len(self._entries))
