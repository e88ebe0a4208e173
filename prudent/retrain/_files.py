"""Durable files for the registry: a lock, an atomic JSON snapshot, an append-only journal.

A journal line counts once its newline is on disk: a line cut short by a crash is not a
record (the reader ignores it and the next writer removes it before appending).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prudent.errors import RegistryError

__all__ = ["append_record", "exclusive", "fsync_dir", "read_records", "write_json_atomic"]


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl`` lock on ``lock_path`` (created if absent) for the block.

    The lock is released by the kernel if the process dies, so a crash never leaves it held.
    """
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON: a reader sees the old file or the new, never half.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> write_json_atomic(p, {"champion": "v1"})
    >>> p.read_text()
    '{\\n  "champion": "v1"\\n}\\n'
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, indent=2, allow_nan=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line to the journal and fsync it (call under :func:`exclusive`).

    A torn last line (no newline: its writer crashed) is cut off first.
    """
    line = (json.dumps(record, allow_nan=False, sort_keys=True) + "\n").encode("utf-8")
    with path.open("ab+") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size:
            fh.seek(max(0, size - 65536))
            tail = fh.read()
            if not tail.endswith(b"\n"):
                cut = tail.rfind(b"\n")
                fh.truncate(size - len(tail) + cut + 1 if cut >= 0 else 0)
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every complete record of the journal, in order (an absent journal has none).

    Raises
    ------
    RegistryError
        A complete line is not a JSON object (the file was edited by hand or damaged).
    """
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")[:-1]  # the piece after the last newline is not a record yet
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RegistryError(
                f"{path} line {number} is not valid JSON ({exc.msg}); the history is damaged: "
                "restore it from a backup."
            ) from exc
        if not isinstance(record, dict):
            raise RegistryError(f"{path} line {number} is not a JSON object; restore it.")
        records.append(record)
    return records
