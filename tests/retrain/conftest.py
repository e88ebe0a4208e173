"""One real bundle for the registry tests, fitted once (baselines only, a few seconds)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fixtures import example, fit_bundle


@pytest.fixture(scope="package")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved iris bundle (three classes, four numeric inputs)."""
    path = tmp_path_factory.mktemp("bundle") / "iris"
    fit_bundle(example("iris"), "target", time_limit=5).save(path)
    return path


def copy_bundle(source: Path, target: Path) -> Path:
    """A writable copy of a bundle folder, for tests that alter one."""
    shutil.copytree(source, target)
    return target
