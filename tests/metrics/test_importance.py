"""Permutation importance at fit: measured on the locked test, stored in the bundle, shown by
``prudent show`` and in the report; a column that carries the label ranks above pure noise."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from rich.console import Console

from prudent.cli._show import show_manifest
from prudent.report import render_report
from tests.fixtures import fit_bundle


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    label = np.where(signal + rng.normal(scale=0.3, size=n) > 0, "yes", "no")
    return pd.DataFrame(
        {
            "signal": signal,
            "noise_a": rng.normal(size=n),
            "noise_b": rng.choice(["red", "green", "blue"], size=n),
            "label": label,
        }
    )


def test_the_column_that_carries_the_label_ranks_first_in_show_and_report() -> None:
    bundle = fit_bundle(_frame(), "label")
    found = bundle.manifest["trust"]["importance"]
    ranked = [c["column"] for c in found["columns"]]
    assert ranked[0] == "signal" and set(ranked) == {"signal", "noise_a", "noise_b"}
    top, rest = found["columns"][0], found["columns"][1:]
    assert top["log_loss_increase"] > 0.3 and top["balanced_accuracy_drop"] > 0.2
    assert all(abs(c["log_loss_increase"]) < 0.1 for c in rest)
    assert found["rows"] == bundle.manifest["splits"]["test_rows"] and not found["not_measured"]
    buffer = io.StringIO()
    show_manifest(Console(file=buffer, width=100), bundle.manifest)
    shown = buffer.getvalue()
    assert "Importance (locked test" in shown and "signal" in shown.split("Importance")[1]
    page = render_report(bundle)
    assert "What the model relies on" in page
    assert "the model relies most on &#x27;signal&#x27;" in page
