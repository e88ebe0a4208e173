"""Permutation importance at fit: measured on the locked test, stored in the bundle, shown by
``prudent show`` and in the report; a column that carries the label ranks above pure noise."""

from __future__ import annotations

import io
import time

import numpy as np
import pandas as pd
from rich.console import Console

from prudent.cli._show import show_manifest
from prudent.metrics import permutation_importance
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


def _slow_model(seconds_per_row: float):  # type: ignore[no-untyped-def]
    """A model that reads column ``a`` and spends ``seconds_per_row`` of CPU per row (as
    TF-IDF bigrams on long texts do: 2.3 ms a text of 2,000 words)."""

    def proba(frame: pd.DataFrame) -> np.ndarray:
        until = time.process_time() + seconds_per_row * len(frame)
        while time.process_time() < until:
            pass
        p = np.clip(frame["a"].to_numpy(dtype=float), 0.05, 0.95)
        return np.column_stack([1 - p, p])

    return proba


def test_a_slow_model_is_shuffled_on_fewer_rows_within_the_seconds_allowed() -> None:
    """One prediction of 1,000 rows takes 0.4 s: three shuffles of three columns would take
    3.6 s. Within 1 s allowed, fewer rows are shuffled and the columns that fit are
    measured, the informative one found; the rest are listed as not measured."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(size=1000), "b": rng.normal(size=1000)})
    X["c"] = rng.normal(size=1000)
    y = (rng.uniform(size=1000) < X["a"]).astype(np.int64).to_numpy()
    started = time.process_time()
    out = permutation_importance(_slow_model(0.0004), X, y, columns=["a", "b", "c"], seconds=1.0)
    spent = time.process_time() - started
    assert 200 <= out["rows"] < 1000
    assert out["columns"][0]["column"] == "a" and out["columns"][0]["log_loss_increase"] > 0
    assert len(out["columns"]) + len(out["not_measured"]) == 3
    assert spent < 0.4 + 1.0 * 1.5  # the first prediction, then the shuffles within 1 s


def test_a_fast_model_is_shuffled_on_every_row() -> None:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.uniform(size=500), "b": rng.normal(size=500)})
    y = (rng.uniform(size=500) < X["a"]).astype(np.int64).to_numpy()
    out = permutation_importance(_slow_model(0.0), X, y, columns=["a", "b"], seconds=5.0)
    assert out["rows"] == 500 and out["not_measured"] == []
