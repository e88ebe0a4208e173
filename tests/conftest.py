"""Shared pytest fixtures and the rule for tests that need a real service.

A test that needs PostgreSQL, Chromium, promtool or the embeddings extra calls
:func:`require` with the service's name. On a laptop without it the test skips
with a one-line reason; in CI (``PRUDENT_REQUIRE_<NAME>=1``) it fails instead.

The serving tests' real bundles (:mod:`tests.serve._bundles`) are fitted once per
session here, for every package that needs a fitted bundle and not a particular fit.
The hooks that run the suite on two cores (pytest-xdist) are in :mod:`tests._xdist`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from prudent._costs import CACHE_ENV
from tests._xdist import pytest_runtest_protocol, pytest_xdist_make_scheduler  # noqa: F401


def require(name: str, available: bool, reason: str) -> None:
    """Skip, or fail when ``PRUDENT_REQUIRE_<NAME>`` is set, if ``available`` is false."""
    if available:
        return
    if os.environ.get(f"PRUDENT_REQUIRE_{name.upper()}") == "1":
        pytest.fail(f"{name} is required here (PRUDENT_REQUIRE_{name.upper()}=1): {reason}")
    pytest.skip(f"{name} not available: {reason}")


@pytest.fixture(scope="session", autouse=True)
def cost_records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The folder where this session's fits record their CPU costs (:mod:`prudent._costs`),
    instead of the user's cache; the command lines the tests start inherit it."""
    folder = tmp_path_factory.mktemp("costs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(folder))
        yield folder


@pytest.fixture(scope="session")
def bundle_root(pytestconfig: pytest.Config) -> Path:
    """Where the test bundles are kept between runs (pytest's cache folder)."""
    assert pytestconfig.cache is not None
    return Path(pytestconfig.cache.mkdir("prudent-serve-bundles"))


@pytest.fixture(scope="session")
def numeric_dir(bundle_root: Path) -> Path:
    """Folder of a bundle fitted on breast cancer (numeric columns, two classes)."""
    from tests.serve._bundles import cached_bundle

    return cached_bundle("numeric", bundle_root)


@pytest.fixture(scope="session")
def mixed_dir(bundle_root: Path) -> Path:
    """Folder of a bundle fitted on iris plus a categorical and a boolean column."""
    from tests.serve._bundles import cached_bundle

    return cached_bundle("mixed", bundle_root)
