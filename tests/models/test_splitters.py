"""The linear SVM's calibration folds: scikit-learn's three stratified folds, fewer when a
class of the fit has fewer rows."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from prudent.bundle import load
from prudent.models._splitters import RareClassFolds
from tests.fixtures import fit_bundle


def _table(counts: list[int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(counts)), counts)
    X = rng.normal(size=(len(y), 4)) + 3 * y[:, None]  # each class shifted: learnable
    return X, y


def test_with_enough_rows_the_folds_are_scikit_learns() -> None:
    X, y = _table([50, 30, 3])
    ours = list(RareClassFolds(3).split(X, y))
    theirs = list(StratifiedKFold(3).split(X, y))
    assert len(ours) == RareClassFolds(3).get_n_splits(X, y) == 3
    for (a, b), (c, d) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


@pytest.mark.parametrize(("least", "folds"), [(2, 2), (1, 2)])
def test_a_rare_class_lowers_the_folds_and_the_calibration_fits(least: int, folds: int) -> None:
    X, y = _table([60, 40, 30, least])  # 3 classes left when a fold misses the rarest
    assert RareClassFolds(3).get_n_splits(X, y) == folds
    with pytest.raises(ValueError, match="3-fold cross-validation"):
        CalibratedClassifierCV(LinearSVC(), method="sigmoid", cv=3).fit(X, y)
    model = CalibratedClassifierCV(LinearSVC(), method="sigmoid", cv=RareClassFolds(3)).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (len(y), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba.argmax(axis=1) == y)[y < 3].mean() > 0.8


def test_a_bundle_with_the_calibrated_svm_saves_loads_and_predicts_alike(tmp_path: Path) -> None:
    from tests.pipeline.test_failing_family import _many_classes_text

    frame = _many_classes_text(small=3)
    bundle = fit_bundle(  # 90 s: at the fixtures' 20 a loaded machine may skip the family
        frame, "target", text=("name",), candidates=("linear_svm",), time_limit=90.0
    )
    assert "linear_svm" in set(bundle.leaderboard["model"])
    path = bundle.save(tmp_path / "model")
    with zipfile.ZipFile(path / "model.skops") as z:
        assert "RareClassFolds" in z.read("schema.json").decode()
    rows = frame.drop(columns="target").iloc[:40]
    np.testing.assert_array_equal(
        load(path).predictions(rows).probabilities, bundle.predictions(rows).probabilities
    )
