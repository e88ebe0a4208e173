"""The worker plugin that carries a bundle to each Dask worker once.

This module imports no model library: a worker unpickles the plugin in its event loop, so
the heavy imports and the load happen later, in the first task that needs the bundle.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distributed import WorkerPlugin

from prudent.errors import BundleError

if TYPE_CHECKING:
    from prudent.bundle import Bundle

__all__ = ["BundlePlugin", "worker_bundle"]


class BundlePlugin(WorkerPlugin):
    """A Dask worker plugin that carries a bundle's bytes to each worker, once.

    The bundle is written to a private folder and loaded (hashes, versions and types
    checked, as :func:`prudent.load` does) by the first task that needs it on that worker,
    then kept until the plugin is removed.

    Parameters
    ----------
    files
        The bundle's files: name → bytes (:func:`bundle_files`).
    """

    name = "prudent-bundle"

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self._bundle: Bundle | None = None
        self._folder: str | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"files": self.files}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["files"])  # type: ignore[misc]

    def setup(self, worker: Any) -> None:
        """Nothing to do until a task asks for the bundle (loading is lazy)."""

    def teardown(self, worker: Any) -> None:
        """Remove the worker's copy of the bundle."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def bundle(self) -> Bundle:
        """The bundle, loaded and verified on first call, then cached."""
        with self._lock:
            if self._bundle is None:
                self._folder = tempfile.mkdtemp(prefix="prudent-bundle-")
                root = Path(self._folder)
                for name, data in self.files.items():
                    (root / name).parent.mkdir(parents=True, exist_ok=True)
                    (root / name).write_bytes(data)
                from prudent.bundle import load  # here, in a task: not in the event loop

                try:
                    self._bundle = load(root)
                except BundleError as exc:  # some carry extra arguments: send the text back
                    raise BundleError(f"On a Dask worker: {exc}") from None
            return self._bundle


def _worker_bundle(plugin: str) -> Bundle:
    from distributed import get_worker

    found = get_worker().plugins[plugin]
    assert isinstance(found, BundlePlugin)
    return found.bundle()


def worker_bundle(plugin: str) -> Bundle:
    """The bundle of the plugin named ``plugin`` on the worker running this task."""
    from distributed import get_worker

    found = get_worker().plugins[plugin]
    assert isinstance(found, BundlePlugin)
    return found.bundle()
