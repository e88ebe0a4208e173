"""The registry: immutable bundle versions in a folder, aliases, and the history of every move.

Layout of a registry folder::

    registry.json     marker: {"format": 1}
    versions/v1/      a verified copy of a bundle, read-only, never changed
    history.jsonl     append-only: one record per register / promote / rollback, fsync'ed
    aliases.json      alias -> version, replaced atomically after each move (a snapshot for
                      watchers; the history is the truth and rebuilds it)
    aliases/champion  a symbolic link to ../versions/vN, replaced atomically after each move
    .lock             the fcntl lock every change holds

Rollback is a stack per alias: each promotion pushes a version, each rollback pops one, so
two rollbacks after three promotions return to the first champion, never ping-pong.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prudent.bundle import Bundle, load
from prudent.errors import BundleError, RegistryError
from prudent.retrain._files import (
    append_record,
    exclusive,
    fsync_dir,
    read_records,
    write_json_atomic,
)
from prudent.retrain._interface import check_compatible
from prudent.retrain._records import Event, Version, alias_stacks, versions_of

__all__ = ["CHALLENGER", "CHAMPION", "Registry"]

CHAMPION = "champion"
CHALLENGER = "challenger"
_FORMAT = 1
_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""An alias: also the name of its link in ``aliases/``, so no path separator, no leading dot."""


def _check_alias(alias: str) -> str:
    """Return ``alias``, or raise ``RegistryError`` for a name that cannot be a link's.

    Examples
    --------
    >>> _check_alias("champion")
    'champion'
    >>> _check_alias("a/b")
    Traceback (most recent call last):
    ...
    prudent.errors.RegistryError: Alias 'a/b' is not a valid alias name: ...
    """
    if _ALIAS.fullmatch(alias) is None:
        raise RegistryError(
            f"Alias {alias!r} is not a valid alias name: it names a link in aliases/, so it "
            "takes 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit; "
            "choose e.g. 'staging'."
        )
    return alias


def _now() -> datetime:
    return datetime.now(UTC)


class Registry:
    """A folder of bundle versions with aliases and an append-only history.

    Parameters
    ----------
    root
        The registry folder.
    create
        Create the folder when it is not a registry yet (``register`` does).
    clock
        Time of each record (a seam for tests).

    Raises
    ------
    RegistryError
        ``root`` is not a registry and ``create`` is false.

    Examples
    --------
    >>> import tempfile
    >>> reg = Registry(tempfile.mkdtemp() + "/models", create=True)
    >>> reg.versions(), reg.aliases()
    ([], {})
    """

    def __init__(
        self, root: str | Path, *, create: bool = False, clock: Callable[[], datetime] = _now
    ) -> None:
        self.root = Path(root)
        self.clock = clock
        marker = self.root / "registry.json"
        if not marker.is_file():
            if not create:
                raise RegistryError(
                    f"'{self.root}' is not a model registry (no registry.json); register a "
                    "bundle into it first: prudent registry register DIR BUNDLE."
                )
            (self.root / "versions").mkdir(parents=True, exist_ok=True)
            with exclusive(self._lock):
                if not marker.is_file():
                    write_json_atomic(marker, {"format": _FORMAT})

    @property
    def _lock(self) -> Path:
        return self.root / ".lock"

    @property
    def _history(self) -> Path:
        return self.root / "history.jsonl"

    def history(self) -> list[Event]:
        """Every record, oldest first."""
        return [Event.from_dict(r, i) for i, r in enumerate(read_records(self._history), 1)]

    def versions(self) -> list[Version]:
        """The registered versions, oldest first."""
        return versions_of(read_records(self._history), self.root / "versions")

    def aliases(self) -> dict[str, str]:
        """Alias -> version name, as the history leaves them."""
        return {a: s[-1] for a, s in alias_stacks(self.history()).items() if s}

    def version(self, ref: str) -> Version:
        """The version named by ``ref``: ``v3``, ``3`` or an alias as ``@champion``.

        Raises
        ------
        RegistryError
            No such version or alias.
        """
        versions = {v.name: v for v in self.versions()}
        if ref.startswith("@"):
            name = self.aliases().get(ref[1:])
            if name is None:
                raise RegistryError(
                    f"No version holds the alias {ref[1:]!r} in '{self.root}'; promote one "
                    "first: prudent registry promote DIR VERSION."
                )
        else:
            name = f"v{ref}" if ref.isdigit() else ref
        if name not in versions:
            known = ", ".join(versions) or "none yet"
            raise RegistryError(f"No version {ref!r} in '{self.root}' (versions: {known}).")
        return versions[name]

    def link(self, alias: str = CHAMPION) -> Path:
        """``DIR/aliases/<alias>``: a symbolic link to the version holding ``alias``.

        Each move replaces it atomically, so a service serving the link and reloading it
        follows the alias (``prudent serve --registry``).

        Raises
        ------
        RegistryError
            No version holds ``alias``.
        """
        self.version(f"@{alias}")
        path = self.root / "aliases" / alias
        if not path.is_symlink():
            raise RegistryError(f"{path} is missing; promote or roll back once to rebuild it.")
        return path

    def register(self, bundle_dir: str | Path, *, by: str, reason: str = "") -> Version:
        """Copy a bundle in as the next version, after verifying the copy with ``load``.

        Raises
        ------
        RegistryError
            The bundle is missing, altered, or cannot be loaded here (one-line reason).
        """
        source = Path(bundle_dir)
        if not source.is_dir():
            raise RegistryError(f"Bundle folder '{source}' does not exist; check the path.")
        if not (source / "manifest.json").is_file():
            raise RegistryError(f"'{source}' is not a prudent bundle (no manifest.json); refused.")
        staging = self.root / "versions" / f".incoming-{uuid.uuid4().hex}"
        try:
            shutil.copytree(source, staging)
            bundle = _verified(staging, source)
            record = _register_record(bundle, source, by, reason)
            _freeze(staging)
            with exclusive(self._lock):
                name = f"v{self._next_number()}"
                os.rename(staging, self.root / "versions" / name)
                fsync_dir(self.root / "versions")
                append_record(self._history, {"at": self._at(), "version": name, **record})
        finally:
            if staging.exists():
                _thaw(staging)
                shutil.rmtree(staging)
        return self.version(name)

    def _next_number(self) -> int:
        # a folder left by a crash between its rename and its record is never reused
        taken = [v.number for v in self.versions()] + [
            int(p.name[1:])
            for p in (self.root / "versions").iterdir()
            if p.name[:1] == "v" and p.name[1:].isdigit()
        ]
        return 1 + max(taken, default=0)

    def promote(
        self,
        ref: str,
        *,
        alias: str = CHAMPION,
        by: str,
        reason: str = "",
        force: bool = False,
    ) -> Event:
        """Move ``alias`` to version ``ref`` and record who, when, why and whether forced.

        A version whose target, classes or input columns differ from the alias's current
        holder would break its callers: it is refused unless ``force``.

        Raises
        ------
        RegistryError
            Unknown version, already holding the alias, or incompatible without ``force``.
        """
        alias, target = _check_alias(alias), self.version(ref)
        with exclusive(self._lock):
            current = self.aliases().get(alias)
            if current == target.name:
                raise RegistryError(f"{target.name} already holds {alias!r}; nothing to do.")
            if current is not None and not force:
                check_compatible(self.version(current), target, alias)
            return self._move("promote", alias, target.name, current, by, reason, force)

    def rollback(self, *, alias: str = CHAMPION, by: str, reason: str = "") -> Event:
        """Return ``alias`` to the version that held it before the last promotion.

        Raises
        ------
        RegistryError
            ``alias`` has had fewer than two holders left to return through.
        """
        with exclusive(self._lock):
            stack = alias_stacks(self.history()).get(alias, [])
            if len(stack) < 2:
                raise RegistryError(
                    f"{alias!r} has no earlier version to roll back to in '{self.root}' "
                    f"(it is {'held by ' + stack[-1] if stack else 'not set'})."
                )
            return self._move("rollback", alias, stack[-2], stack[-1], by, reason, False)

    def _move(
        self, action: str, alias: str, to: str, previous: str | None, by: str, reason: str,
        forced: bool,
    ) -> Event:  # fmt: skip
        record: dict[str, Any] = {
            "at": self._at(), "action": action, "alias": alias, "version": to,
            "previous": previous, "by": by, "reason": reason, "forced": forced,
        }  # fmt: skip
        append_record(self._history, record)
        aliases = self.aliases()
        write_json_atomic(self.root / "aliases.json", aliases)
        links = self.root / "aliases"
        links.mkdir(exist_ok=True)
        for name, version in aliases.items():
            if _ALIAS.fullmatch(name) is None:  # recorded before names were checked: no link
                continue
            fresh = links / f".{name}.{os.getpid()}.tmp"
            fresh.unlink(missing_ok=True)
            fresh.symlink_to(Path("..") / "versions" / version)
            os.replace(fresh, links / name)  # a reader sees the old target or the new
        fsync_dir(links)
        return self.history()[-1]

    def _at(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="microseconds")


def _verified(copy: Path, source: Path) -> Bundle:
    try:
        return load(copy)
    except BundleError as exc:
        message = str(exc).replace(str(copy), str(source))
        raise RegistryError(f"Bundle '{source}' refused: {message}") from exc


def _register_record(bundle: Bundle, source: Path, by: str, reason: str) -> dict[str, Any]:
    assert bundle.path is not None
    return {
        "action": "register", "by": by, "reason": reason,
        "source": str(source.resolve()), "model_version": bundle.version,
        "manifest_sha256": (bundle.path / "manifest.sha256").read_text().strip(),
        "created_at": bundle.manifest.get("created_at"),
    }  # fmt: skip


def _freeze(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            path.chmod(0o444)


def _thaw(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            path.chmod(0o644)
