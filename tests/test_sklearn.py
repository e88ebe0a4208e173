"""The scikit-learn face: ``PrudentClassifier`` keeps the estimator contract (sklearn's own
checks), goes into a ``Pipeline`` and ``cross_val_score``, and its bundle predicts alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

import prudent
from prudent import PrudentClassifier
from tests.fixtures import example

TINY = {"time_limit": 5.0, "candidates": (), "n_folds": 2, "progress": False}
"""Checks fit many times: baselines only, two folds."""

EXPECTED_FAILURES: dict[str, str] = {
    "check_dtype_object": "forty rows of all-distinct numbers stored as objects: each column "
    "is taken as an identifier, so no feature column is left",
    "check_fit2d_1sample": "one row: prudent refuses with a TargetError naming the single "
    "class, not '1 sample'",
}


@pytest.mark.filterwarnings("ignore::prudent.errors.PrudentWarning")  # random labels: rightly
@parametrize_with_checks(
    [PrudentClassifier(**TINY)], expected_failed_checks=lambda est: EXPECTED_FAILURES
)
def test_prudent_classifier_keeps_the_sklearn_contract(estimator, check) -> None:
    check(estimator)


@pytest.fixture(scope="module")
def cancer() -> tuple[pd.DataFrame, pd.Series]:
    frame = example("breast_cancer")
    return frame.drop(columns="target"), frame["target"]


def test_prudent_classifier_in_a_pipeline_and_cross_val_score(cancer) -> None:
    X, y = cancer
    pipe = make_pipeline(
        FunctionTransformer(np.log1p, feature_names_out="one-to-one"), PrudentClassifier(**TINY)
    )
    assert is_classifier(pipe)
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.85  # logistic on breast cancer: ~0.95


def test_prudent_classifier_holds_a_bundle_that_predicts_alike(cancer, tmp_path) -> None:
    X, y = cancer
    clf = PrudentClassifier(**TINY).fit(X, y)
    assert clf.classes_.tolist() == ["benign", "malignant"]
    assert list(clf.feature_names_in_) == list(X.columns) and clf.n_features_in_ == X.shape[1]
    out = clf.bundle_.predict(X.head(50))
    np.testing.assert_allclose(
        clf.predict_proba(X.head(50)), out[["proba_benign", "proba_malignant"]].to_numpy()
    )
    assert (clf.predict(X.head(50)) == out["prediction"].to_numpy()).all()
    loaded = prudent.load(clf.bundle_.save(tmp_path / "model"))
    assert loaded.classes == ["benign", "malignant"]
    with pytest.raises(ValueError, match=r"feature names should match"):
        clf.predict(X.iloc[:, 1:])


def test_prudent_classifier_params_and_integer_labels() -> None:
    frame = example("wine")
    y = frame.pop("target").str.removeprefix("class_").astype(int)
    clf = clone(PrudentClassifier(**TINY))
    assert clf.get_params()["time_limit"] == 5.0
    clf.set_params(seed=1).fit(frame.to_numpy(), y.to_numpy())
    assert clf.classes_.tolist() == [0, 1, 2]
    assert clf.score(frame.to_numpy(), y.to_numpy()) > 0.9
    with pytest.raises(ValueError, match=r"X has 12 features, but PrudentClassifier is expecting"):
        clf.predict(frame.to_numpy()[:, 1:])


@pytest.mark.parametrize("as_text", [False, True])
def test_prudent_classifier_leaves_out_rows_without_a_label(as_text: bool) -> None:
    """NaN in y raised 'Unknown label type: unknown'; prudent.fit drops such rows with a
    notice, and the estimator now does the same with a warning naming how many."""
    frame = example("wine")
    y = frame.pop("target").astype(object)
    if not as_text:
        y = y.str.removeprefix("class_").astype(float)
    y.iloc[[3, 50, 100]] = np.nan
    with pytest.warns(prudent.PrudentWarning, match=r"^3 of 178 rows have no label"):
        clf = PrudentClassifier(**TINY).fit(frame, y)
    assert clf.classes_.tolist() == (
        [0, 1, 2] if not as_text else ["class_0", "class_1", "class_2"]
    )
    assert clf.bundle_.manifest["data"]["labelled_rows"] == 175


def test_prudent_classifier_refuses_labels_all_missing() -> None:
    frame = example("wine").drop(columns="target")
    with pytest.raises(ValueError, match=r"all 178 labels are missing"):
        PrudentClassifier(**TINY).fit(frame, np.full(len(frame), np.nan))
