"""A recalibrated bundle's locked-test figures are those of the model it ships: recalibration
on recent labels refits the calibrator, the conformal sets and the thresholds, and the
promises, the test section, the scores and the test arrays are measured again on the test
rows the bundle keeps. They were the fit's: `prudent show` stated 1032 accepted rows and a
cost of 0.108 on the locked test of a retrained challenger whose `prudent predict` on the
same rows gave 1038 and 0.114."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import prudent
from prudent.bundle import read_test_rows
from prudent.bundle._retune import ARTIFACTS, read_arrays
from prudent.bundle._test_rows import LABEL_COLUMN, inputs_of
from prudent.retrain import Registry, recalibrate
from tests.fixtures import example
from tests.retrain._labelled_log import log_with_labels


def _noisy(frame: pd.DataFrame, target: str, share: float, seed: int) -> pd.DataFrame:
    """``frame`` with ``share`` of its labels replaced by another class: the model is then
    overconfident on these rows, and a calibrator fitted on them moves every figure."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    flip = rng.uniform(size=len(out)) < share
    classes = sorted(out[target].unique())
    out.loc[flip, target] = [
        classes[(classes.index(c) + 1) % len(classes)] for c in out.loc[flip, target]
    ]
    return out


@pytest.fixture(scope="module")
def recalibrated(tmp_path_factory: pytest.TempPathFactory) -> prudent.Bundle:
    root = tmp_path_factory.mktemp("remeasure")
    frame = example("breast_cancer").sample(frac=1.0, random_state=0).reset_index(drop=True)
    prudent.fit(frame, target="target", time_limit=10.0).save(root / "champion")
    champion = prudent.load(root / "champion")
    stream = _noisy(frame, "target", 0.25, seed=1)
    url = f"sqlite:///{root / 'log.db'}"
    log_with_labels(champion, url, stream)
    registry = Registry(root / "registry", create=True)
    registry.promote(registry.register(root / "champion", by="test").name, by="test")
    done = recalibrate(registry, url, by="test")
    return prudent.load(done.version.path)


def test_the_promises_and_figures_are_those_of_the_recalibrated_model(
    recalibrated: prudent.Bundle,
) -> None:
    bundle = recalibrated
    rows = read_test_rows(bundle.extras)
    assert rows is not None
    y = np.asarray(bundle.classes)[rows[LABEL_COLUMN].to_numpy(np.int64)].astype(str)
    out = bundle.predict(inputs_of(rows))
    given = out["prediction"].astype(str).to_numpy()
    accepted = (out["decision"] == "accept").to_numpy()
    test = bundle.manifest["trust"]["test"]
    assert test["decisions"]["accept"] == int(accepted.sum())
    right = given[accepted] == y[accepted]
    assert test["accepted_accuracy"] == pytest.approx(float(np.mean(right)))
    final = bundle.manifest["test_metrics"]["final"]
    assert final["accuracy"]["point"] == pytest.approx(float(np.mean(given == y)))
    arrays = read_arrays(bundle.extras[ARTIFACTS])
    proba = out[[f"proba_{c}" for c in bundle.classes]].to_numpy()
    np.testing.assert_allclose(arrays["test_proba"], proba, atol=1e-9)
    promises = {p["name"]: p for p in bundle.manifest["trust"]["promises"]}
    shown = promises["accuracy of accepted predictions"]["measured"]
    assert f"on {int(accepted.sum())} accepted" in shown
    assert "were measured again on its locked test rows" in bundle.manifest["notices"][-1]
