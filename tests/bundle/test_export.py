"""``prudent export`` / ``Bundle.export_sklearn``: the shipped model as a scikit-learn pipeline
file that skops loads in a fresh process and that gives the bundle's calibrated probabilities."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import prudent
from prudent.bundle import Bundle, exported_types
from prudent.errors import BundleError
from prudent.models import export_pipeline
from tests.fixtures import fit_bundle, mixed_frame, reviews, run_cli
from tests.serve._bundles import input_rows

LOADER = """
import sys, numpy as np, pandas as pd, skops.io as sio
from sklearn.pipeline import Pipeline
path, trusted, rows, out = sys.argv[1], eval(sys.argv[2]), sys.argv[3], sys.argv[4]
model = sio.load(path, trusted=trusted)
assert type(model) is Pipeline, type(model)
frame = pd.read_parquet(rows)
np.save(out, model.predict_proba(frame))
np.save(out + ".labels.npy", model.predict(frame).astype(str))
"""


def _fresh_process_predict(path: Path, trusted: list[str], rows: pd.DataFrame, tmp: Path) -> tuple:
    rows.to_parquet(tmp / "rows.parquet")
    out = tmp / "proba.npy"
    command = [sys.executable, "-c", LOADER, str(path), repr(trusted), str(tmp / "rows.parquet")]
    done = subprocess.run([*command, str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return np.load(out), np.load(str(out) + ".labels.npy")


def _check_alike(bundle: Bundle, rows: pd.DataFrame, proba: np.ndarray, labels: np.ndarray) -> None:
    expected = bundle.predictions(rows)
    np.testing.assert_allclose(proba, expected.probabilities, rtol=1e-9, atol=1e-12)
    by_model = np.asarray([d.value != "backup" for d in expected.decisions.kind])
    assert by_model.any()
    shown = expected.prediction.astype(str)
    assert (labels[by_model] == shown[by_model]).all()


@pytest.mark.slow
def test_cli_export_loads_in_a_fresh_process_with_the_bundles_probabilities(
    mixed_dir: Path, tmp_path: Path
) -> None:
    bundle = prudent.load(mixed_dir)
    done = run_cli("export", mixed_dir, "--out", tmp_path / "model.skops")
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if "sio.load(" in x)
    trusted = ast.literal_eval(line.split("trusted=", 1)[1].rstrip(")"))
    assert trusted == exported_types(tmp_path / "model.skops")
    rows = input_rows("mixed", 60)
    proba, labels = _fresh_process_predict(tmp_path / "model.skops", trusted, rows, tmp_path)
    _check_alike(bundle, rows, proba, labels)
    again = run_cli("export", mixed_dir, "--out", tmp_path / "model.skops")
    assert again.returncode == 2 and "exists" in again.stderr


def test_export_sklearn_of_a_text_bundle(tmp_path: Path) -> None:
    frame = reviews(360, seed=0)
    bundle = fit_bundle(frame.iloc[:300], "label")
    path = bundle.export_sklearn(tmp_path / "text.skops")
    with pytest.raises(BundleError, match="exists"):
        bundle.export_sklearn(path)
    rows = frame.iloc[300:].drop(columns="label").reset_index(drop=True)
    proba, labels = _fresh_process_predict(path, exported_types(path), rows, tmp_path)
    _check_alike(bundle, rows, proba, labels)


def test_exported_pipeline_stays_frozen_under_clone() -> None:
    bundle = fit_bundle(mixed_frame(n=200, seed=1), "target")
    pipe = export_pipeline(bundle.model, bundle.manifest["schema"])
    rows = mixed_frame(n=20, seed=3).drop(columns="target")
    copy = clone(pipe).fit(rows)  # cross_val_score clones and fits: the model must not change
    np.testing.assert_allclose(copy.predict_proba(rows), pipe.predict_proba(rows))
    assert list(copy.classes_) == bundle.classes
