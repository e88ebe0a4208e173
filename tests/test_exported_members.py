"""Every public package exports what its ``__all__`` says, sorted, and only prudent's own code.

As httpx's ``tests/test_exported_members.py``: the public surface is the ``__all__`` of each
package, so it must be importable, complete and in a stable order.
"""

from __future__ import annotations

import importlib
import inspect
import re
from types import ModuleType

import pytest

PACKAGES = [
    "prudent",
    "prudent.errors",
    "prudent.data",
    "prudent.pipeline",
    "prudent.bundle",
    "prudent.metrics",
    "prudent.models",
    "prudent.store",
    "prudent.monitor",
    "prudent.retrain",
    "prudent.scale",
]


def _isort_key(name: str) -> tuple[int, list[object]]:
    """ruff's RUF022 order: SCREAMING_CASE, then CamelCase, then the rest, naturally sorted."""
    group = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return group, [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


@pytest.fixture(params=PACKAGES)
def package(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


def test_all_names_exist(package: ModuleType) -> None:
    missing = [name for name in package.__all__ if not hasattr(package, name)]
    assert missing == [], f"{package.__name__}.__all__ names missing members {missing}"


def test_all_is_sorted_and_unique(package: ModuleType) -> None:
    names = list(package.__all__)
    assert len(names) == len(set(names)), f"{package.__name__}.__all__ has duplicates"
    assert names == sorted(names, key=_isort_key), f"{package.__name__}.__all__ is not sorted"


def test_all_exports_prudent_code_with_docstrings(package: ModuleType) -> None:
    for name in package.__all__:
        member = getattr(package, name)
        if not (inspect.isclass(member) or inspect.isfunction(member)):
            continue
        assert member.__module__.startswith("prudent"), f"{package.__name__}.{name}"
        assert inspect.getdoc(member), f"{package.__name__}.{name} has no docstring"


def test_isort_key_orders_like_ruff() -> None:
    names = ["load", "EXAMPLES", "Bundle", "FORMAT_VERSION", "a10", "a2", "Splits"]
    assert sorted(names, key=_isort_key) == [
        "EXAMPLES",
        "FORMAT_VERSION",
        "Bundle",
        "Splits",
        "a2",
        "a10",
        "load",
    ]
