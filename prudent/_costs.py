"""CPU costs a fit measured, recorded per machine, so that the same fit decides the same way.

A fit's time decisions read CPU seconds measured as it runs: the CPU spent so far, a family's
pilot fits, its folds, its prediction probe, the save's cost, the OOD search's, stacking's and
the permutation importance's. Two runs measure slightly different figures (caches, clock
ticks, another process's contention), and a decision near its limit then falls either way:
the same data, options and seed ran different families from Python and from the command line
(issue 14, item 10).

While a fit runs, a :class:`CostBook` keyed by the fit (its data, options, prudent's version
and source code, and this machine: :func:`fit_key`) holds every such figure. A fit with no
record measures its own and writes them when it ends (:meth:`CostBook.save`); a later fit of
the same data and options with the same code on this machine reads the recorded figure in
place of each one it measures, in the order they are measured, so it makes the same decisions
and ships the same bundle. The
records live under ``$XDG_CACHE_HOME/prudent/costs`` (``~/.cache/prudent/costs``);
``PRUDENT_COST_CACHE`` names another folder, or ``off`` measures every fit afresh.

Only the plan reads the records: the wall clock still guards the limit itself.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path

__all__ = [
    "CACHE_ENV",
    "KEEP_RECORDS",
    "CostBook",
    "cost_book",
    "cost_folder",
    "fit_key",
    "recorded_cost",
    "source_digest",
]

CACHE_ENV = "PRUDENT_COST_CACHE"
"""Environment variable: the folder of the records, or ``off`` (also ``0``, ``none``)."""

KEEP_RECORDS = 500
"""The most records a folder keeps: writing one removes the oldest beyond it."""

FORMAT = 1


def cost_folder(env: Mapping[str, str] | None = None) -> Path | None:
    """Where the records live (see the module's docstring), or ``None`` when switched off;
    read from ``env`` (default: the process's environment).

    Examples
    --------
    >>> cost_folder({CACHE_ENV: "off"}) is None
    True
    >>> str(cost_folder({CACHE_ENV: "/tmp/costs"}))
    '/tmp/costs'
    >>> str(cost_folder({"XDG_CACHE_HOME": "/var/cache"}))
    '/var/cache/prudent/costs'
    """
    env = os.environ if env is None else env
    chosen = env.get(CACHE_ENV, "").strip()
    if chosen.lower() in {"off", "0", "none", "false", "no"}:
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = env.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "prudent" / "costs"


def source_digest(root: Path) -> str:
    """A digest of the Python source files under ``root`` (their paths and contents).

    Costs measured by other code are not this code's: a change to a family, the OOD search
    or the save moves their costs, and a plan that read the old figures would overrun its
    limit while believing it kept it. A release's version names its code; a checkout's
    does not, so the source itself is part of the key.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / "a.py").write_text("x = 1")
    ...     before = source_digest(Path(d))
    ...     _ = (Path(d) / "a.py").write_text("x = 2")
    ...     before != source_digest(Path(d))
    True
    """
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix().encode()
        data = path.read_bytes()
        for chunk in (name, data):
            digest.update(len(chunk).to_bytes(8, "little") + chunk)
    return digest.hexdigest()


@functools.cache
def _own_source() -> str:
    """:func:`source_digest` of prudent's own package, read once per process."""
    return source_digest(Path(__file__).resolve().parent)


def fit_key(*parts: bytes | str) -> str:
    """A fit's key: a digest of ``parts`` (its data and options), prudent's version and source
    code (:func:`source_digest`) and this machine (its name, processor and cores), so that no
    other code's or machine's figures are read.

    Examples
    --------
    >>> fit_key("a", b"table") == fit_key("a", b"table") != fit_key("b", b"table")
    True
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("prudent")
    except PackageNotFoundError:  # run from a checkout that is not installed
        release = "unknown"
    digest = hashlib.sha256()
    machine = (platform.node(), platform.machine(), platform.processor(), os.cpu_count())
    for part in (f"format {FORMAT}", release, _own_source(), repr(machine), *parts):
        data = part if isinstance(part, bytes) else part.encode()
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()[:32]


class CostBook:
    """The figures one fit measures, and those an earlier fit of the same key recorded.

    Parameters
    ----------
    path
        The record's file (read when it exists, written by :meth:`save`); ``None``: nothing
        is read or kept beyond this fit.

    Examples
    --------
    >>> first = CostBook(None)
    >>> first.cost("pilot/knn", 0.21), first.cost("pilot/knn", 0.25)  # two pilots of knn
    (0.21, 0.25)
    >>> again = CostBook(None, recorded=first.figures)
    >>> again.cost("pilot/knn", 0.3), again.cost("pilot/knn", 0.1), again.reused
    (0.21, 0.25, 2)
    """

    def __init__(self, path: Path | None, *, recorded: dict[str, float] | None = None) -> None:
        self.path = path
        self.recorded: dict[str, float] = dict(recorded or {}) or self._read()
        self.figures: dict[str, float] = {}
        """Every figure this fit used, by key (the recorded one where there was one)."""
        self.reused = 0
        """How many of them came from the record."""
        self._seen: Counter[str] = Counter()

    def _read(self) -> dict[str, float]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text())
            if data.get("format") != FORMAT:
                return {}
            return {str(k): float(v) for k, v in data["costs"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}  # no record, or one that cannot be read: this fit measures afresh

    def cost(self, key: str, measured: float) -> float:
        """The recorded figure for the next ``key`` of this fit, or ``measured`` (then kept)."""
        self._seen[key] += 1
        name = f"{key}#{self._seen[key]}"
        figure = self.recorded.get(name)
        if figure is None:
            figure = float(measured)
        else:
            self.reused += 1
        self.figures[name] = figure
        return figure

    def save(self) -> bool:
        """Write this fit's figures as the record, when it used any the record did not hold.

        Never fails the fit: a folder that cannot be written keeps nothing. Returns whether
        a record was written.
        """
        if self.path is None or not set(self.figures) - set(self.recorded):
            return False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            body = json.dumps({"format": FORMAT, "costs": self.figures}, sort_keys=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=self.path.parent, suffix=".tmp", delete=False
            ) as out:
                out.write(body)
            os.replace(out.name, self.path)
            _prune(self.path)
        except OSError:
            return False
        return True


def _prune(written: Path) -> None:
    """Remove the oldest records of ``written``'s folder beyond :data:`KEEP_RECORDS` (never
    ``written``), and stray temporary files."""
    folder, now = written.parent, time.time()
    for stray in folder.glob("*.tmp"):
        with contextlib.suppress(OSError):
            if now - stray.stat().st_mtime > 3600:
                stray.unlink()
    others = [p for p in folder.glob("*.json") if p != written]
    others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in others[KEEP_RECORDS - 1 :]:
        with contextlib.suppress(OSError):
            old.unlink()


_BOOK: ContextVar[CostBook | None] = ContextVar("prudent_cost_book", default=None)


@contextlib.contextmanager
def cost_book(key: str | None) -> Iterator[CostBook]:
    """The book of the fit keyed ``key`` (:func:`fit_key`), current while the block runs:
    :func:`recorded_cost` reads it. ``None``, or records switched off: a book that reads and
    keeps nothing."""
    folder = cost_folder()
    book = CostBook(None if key is None or folder is None else folder / f"{key}.json")
    token = _BOOK.set(book)
    try:
        yield book
    finally:
        _BOOK.reset(token)


def recorded_cost(key: str, measured: float) -> float:
    """``measured`` CPU seconds, or the figure an earlier fit of the same key recorded for the
    same measurement (the current :func:`cost_book`'s); ``measured`` outside a fit.

    Examples
    --------
    >>> recorded_cost("pilot/knn", 0.5)
    0.5
    """
    book = _BOOK.get()
    return measured if book is None else book.cost(key, measured)
