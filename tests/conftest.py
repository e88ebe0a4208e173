"""Shared pytest fixtures and the rule for tests that need a real service.

A test that needs PostgreSQL, Chromium, promtool or the embeddings extra calls
:func:`require` with the service's name. On a laptop without it the test skips
with a one-line reason; in CI (``PRUDENT_REQUIRE_<NAME>=1``) it fails instead.
"""

from __future__ import annotations

import os

import pytest


def require(name: str, available: bool, reason: str) -> None:
    """Skip, or fail when ``PRUDENT_REQUIRE_<NAME>`` is set, if ``available`` is false."""
    if available:
        return
    if os.environ.get(f"PRUDENT_REQUIRE_{name.upper()}") == "1":
        pytest.fail(f"{name} is required here (PRUDENT_REQUIRE_{name.upper()}=1): {reason}")
    pytest.skip(f"{name} not available: {reason}")
