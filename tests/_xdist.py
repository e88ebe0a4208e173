"""Running the suite on both cores (pytest-xdist): how tests are grouped, and the serial ones.

``pytest -n 2`` hands each worker whole test modules, as ``--dist loadscope`` does, so that a
module's fixtures (a served bundle, a fitted model) are built once; a package listed in
:data:`WHOLE_PACKAGES` goes to one worker whole, for its costly package-scoped fixtures
(tests/scale: a Dask cluster). xdist's own ``loadgroup`` cannot do this with pytest 9 (it
renames ``item._nodeid``, which pytest 9 no longer reads).

A test marked ``serial`` times the machine (a server's share of the CPU, a latency bound,
load with deadlines), so it runs alone: every test holds a shared lock on a file in pytest's
cache for its setup, call and teardown, and a serial test holds it exclusively. A second
lock, a turnstile that each takes to get the first and then lets go, keeps the other worker's
stream of tests from starving a serial test that waits for the first. Without xdist
(``PYTEST_XDIST_WORKER`` unset) none of this applies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "WHOLE_PACKAGES",
    "exclusive",
    "pytest_runtest_protocol",
    "pytest_xdist_make_scheduler",
]

WHOLE_PACKAGES = ("tests/scale/",)
"""Test packages run by one worker, for their package-scoped fixtures."""


def _group(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return next((p for p in WHOLE_PACKAGES if path.startswith(p)), path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Schedule whole modules (whole packages for :data:`WHOLE_PACKAGES`) to the workers."""
    if config.getvalue("dist") == "each":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    return ByModule(config, log)


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing), across processes."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _turn(folder: Path, serial: bool) -> Iterator[None]:
    with (folder / "tests.lock").open("a") as shared:
        with exclusive(folder / "turnstile.lock"):
            fcntl.flock(shared, fcntl.LOCK_EX if serial else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(shared, fcntl.LOCK_UN)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Run ``item`` beside the other worker's tests, or alone when it is marked ``serial``."""
    if "PYTEST_XDIST_WORKER" not in os.environ or item.config.cache is None:
        return (yield)
    folder = Path(item.config.cache.mkdir("xdist-locks"))
    with _turn(folder, item.get_closest_marker("serial") is not None):
        return (yield)
