"""Tests of confident learning on real data with labels flipped on purpose."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_digits

from prudent.errors import DataError
from prudent.metrics import confident_joint, find_label_issues, per_class_thresholds
from tests.metrics.conftest import flip_labels, oof_proba


@pytest.fixture(scope="module", params=["breast_cancer", "digits"])
def flipped(request):
    loader = {"breast_cancer": load_breast_cancer, "digits": load_digits}[request.param]
    x, y = loader(return_X_y=True)
    noisy, rows = flip_labels(y, rate=0.05, seed=0)
    return request.param, noisy, rows, oof_proba(x, noisy)


def test_find_label_issues_finds_flipped_rows(flipped):
    name, noisy, rows, proba = flipped
    issues = find_label_issues(noisy, proba)
    found = np.intersect1d(issues["row"], rows).size
    precision, recall = found / len(issues), found / len(rows)
    print(f"{name}: flagged {len(issues)}, precision {precision:.2f}, recall {recall:.2f}")
    assert precision >= 0.5
    assert recall >= 0.5


def test_find_label_issues_frame_shape(flipped):
    _, noisy, _, proba = flipped
    issues = find_label_issues(noisy, proba)
    assert list(issues.columns) == ["row", "given", "likely", "score"]
    assert issues["score"].is_monotonic_decreasing
    assert issues["score"].between(0, 1).all()
    assert (issues["given"] == noisy[issues["row"]]).all()
    assert (issues["likely"] != issues["given"]).all()
    assert issues["score"].to_numpy() == pytest.approx(1 - proba[issues["row"], issues["given"]])
    assert issues["row"].is_unique


def test_find_label_issues_ranks_flipped_rows_first(flipped):
    _, noisy, rows, proba = flipped
    issues = find_label_issues(noisy, proba)
    top = issues["row"].to_numpy()[: len(rows) // 2]
    assert np.isin(top, rows).mean() >= 0.8


def test_find_label_issues_quiet_on_clean_separable_data():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 100)
    proba = rng.dirichlet([1, 1, 1], size=300) * 0.1 + np.eye(3)[y] * 0.9
    assert find_label_issues(y, proba).empty


def test_find_label_issues_empty_frame_keeps_columns():
    y = np.array([0, 1])
    issues = find_label_issues(y, np.eye(2)[y])
    assert isinstance(issues, pd.DataFrame) and issues.empty
    assert list(issues.columns) == ["row", "given", "likely", "score"]


def test_per_class_thresholds_are_mean_self_confidence():
    y = np.array([0, 0, 1, 1, 1])
    proba = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    assert per_class_thresholds(y, proba) == pytest.approx([0.7, 0.7])


def test_per_class_threshold_of_unused_class_is_infinite():
    thresholds = per_class_thresholds([0, 1], [[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])
    assert thresholds[2] == np.inf


def test_confident_joint_counts_rows_above_thresholds(flipped):
    _, noisy, _, proba = flipped
    joint = confident_joint(noisy, proba)
    k = proba.shape[1]
    assert joint.shape == (k, k) and joint.sum() <= len(noisy)
    assert np.trace(joint) > 0.8 * joint.sum()


def test_find_label_issues_rejects_mismatch():
    with pytest.raises(DataError, match="y has 1 rows but proba has 2"):
        find_label_issues([0], [[0.5, 0.5], [0.5, 0.5]])
