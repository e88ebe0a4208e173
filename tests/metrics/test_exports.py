"""prudent.metrics re-exports its public API in a sorted, complete __all__."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import prudent.metrics as metrics

HELPERS = {"check_confidence_correct", "check_labels_proba", "check_n_bins", "top_label"}
INTERNAL = {"bin_index", "grouped_ece"}


def _isort_style(name: str) -> tuple[int, str]:  # ruff RUF022: CONSTANTS, Classes, functions
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_metrics_all_is_sorted_and_resolves():
    assert metrics.__all__ == sorted(metrics.__all__, key=_isort_style)
    for name in metrics.__all__:
        assert getattr(metrics, name) is not None


def test_metrics_all_covers_every_private_module_export():
    exported = set()
    for info in pkgutil.iter_modules(metrics.__path__):
        module = importlib.import_module(f"prudent.metrics.{info.name}")
        exported |= set(getattr(module, "__all__", ()))
    assert exported - HELPERS - INTERNAL == set(metrics.__all__)


def test_metrics_imports_no_higher_layer():
    for path in Path(metrics.__file__).parent.glob("*.py"):
        source = path.read_text()
        for layer in ("prudent.data", "prudent.models", "prudent.pipeline", "prudent.scratch"):
            assert f"from {layer}" not in source, (path.name, layer)
            assert f"import {layer}" not in source, (path.name, layer)
