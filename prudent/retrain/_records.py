"""Typed views of the registry's history: events, versions, and each alias's holders."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from prudent.errors import RegistryError

__all__ = ["Event", "Version", "alias_stacks", "versions_of"]


@dataclass(frozen=True)
class Event:
    """One line of the history.

    Attributes
    ----------
    seq
        Its line number (1 is the oldest).
    at
        When, ISO 8601 in UTC.
    action
        ``register``, ``promote`` or ``rollback``.
    version
        The version registered, or the one the alias moved to.
    alias
        The alias moved (``None`` for ``register``).
    previous
        The version that held the alias before (``None`` if none did).
    by, reason, forced
        Who, why, and whether a refusal was overridden.
    """

    seq: int
    at: str
    action: str
    version: str
    alias: str | None = None
    previous: str | None = None
    by: str = ""
    reason: str = ""
    forced: bool = False

    @classmethod
    def from_dict(cls, record: dict[str, Any], seq: int) -> Event:
        """Read a history record (fields beyond the event's are kept only in the file)."""
        try:
            return cls(
                seq=seq, at=str(record["at"]), action=str(record["action"]),
                version=str(record["version"]), alias=record.get("alias"),
                previous=record.get("previous"), by=str(record.get("by", "")),
                reason=str(record.get("reason", "")), forced=bool(record.get("forced", False)),
            )  # fmt: skip
        except KeyError as exc:
            raise RegistryError(
                f"History record {seq} lacks the field {exc.args[0]!r}; the history is damaged."
            ) from exc

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``--json``)."""
        return asdict(self)


@dataclass(frozen=True)
class Version:
    """A registered bundle.

    Attributes
    ----------
    name
        ``v1``, ``v2`` … in order of registration.
    path
        Its read-only bundle folder.
    registered_at, by, reason
        When, by whom and why it was registered.
    model_version
        The bundle's own version (the model file's hash prefix, as the service reports it).
    manifest_sha256
        The hash of its manifest, which lists the hash of every file.
    """

    name: str
    path: Path
    registered_at: str
    by: str
    reason: str
    model_version: str
    manifest_sha256: str

    @property
    def number(self) -> int:
        """The number in the name."""
        return int(self.name[1:])

    def manifest(self) -> dict[str, Any]:
        """The bundle's manifest (read from its folder)."""
        data: dict[str, Any] = json.loads((self.path / "manifest.json").read_text("utf-8"))
        return data

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``--json``)."""
        return {**asdict(self), "path": str(self.path)}


def versions_of(records: list[dict[str, Any]], folder: Path) -> list[Version]:
    """The versions the ``register`` records of the history name, oldest first."""
    out = []
    for r in records:
        if r.get("action") != "register":
            continue
        name = str(r["version"])
        out.append(
            Version(
                name=name,
                path=folder / name,
                registered_at=str(r["at"]),
                by=str(r.get("by", "")),
                reason=str(r.get("reason", "")),
                model_version=str(r.get("model_version", "")),
                manifest_sha256=str(r.get("manifest_sha256", "")),
            )
        )
    return out


def alias_stacks(events: list[Event]) -> dict[str, list[str]]:
    """Each alias's holders as a stack: a promotion pushes, a rollback pops.

    Examples
    --------
    >>> moves = [("promote", "v1"), ("promote", "v2"), ("promote", "v3"), ("rollback", "v2")]
    >>> events = [Event(i, "", a, v, alias="champion") for i, (a, v) in enumerate(moves)]
    >>> alias_stacks(events)
    {'champion': ['v1', 'v2']}
    """
    stacks: dict[str, list[str]] = {}
    for e in events:
        if e.alias is None:
            continue
        stack = stacks.setdefault(e.alias, [])
        if e.action == "rollback":
            if stack:
                stack.pop()
        else:
            stack.append(e.version)
    return stacks
