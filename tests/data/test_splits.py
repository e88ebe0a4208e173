"""Splits: a stratified locked test set, stratified folds, disjointness, and row removal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prudent.data import Splits, check_disjoint, fitted_without, make_splits, prepare_target
from prudent.errors import ConfigError, TargetError
from tests.fixtures import example


@pytest.fixture(scope="module", params=["wine", "breast_cancer", "digits"])
def y(request: pytest.FixtureRequest) -> np.ndarray:
    return prepare_target(example(request.param), "target").y


def _share(labels: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(labels, minlength=k) / len(labels)


def _assert_valid(splits: Splits, y: np.ndarray, *, complete: bool = True) -> None:
    check_disjoint(train=splits.train, test=splits.test)
    if complete:
        assert np.array_equal(np.union1d(splits.train, splits.test), np.arange(len(y)))
    for fit, val in splits.folds:
        check_disjoint(fit=fit, validate=val)
        assert np.array_equal(np.union1d(fit, val), np.arange(len(splits.train)))
    validated = np.concatenate([val for _, val in splits.folds])
    assert np.array_equal(np.sort(validated), np.arange(len(splits.train)))


def test_make_splits_disjoint_and_complete(y: np.ndarray) -> None:
    splits = make_splits(y, test_size=0.2, n_folds=5, seed=0)
    _assert_valid(splits, y)
    assert splits.n_folds == 5
    caution = len(splits.test) < 100  # wine: 36 test rows
    assert splits.notes == (() if not caution else splits.notes[:1])
    assert all("not meaningful" in n for n in splits.notes)


def test_make_splits_stratified(y: np.ndarray) -> None:
    k = int(y.max()) + 1
    splits = make_splits(y, test_size=0.25, n_folds=4, seed=1)
    overall = np.bincount(y, minlength=k)
    test_counts = np.bincount(y[splits.test], minlength=k)
    np.testing.assert_allclose(test_counts, overall * len(splits.test) / len(y), atol=1.0)
    train_y = y[splits.train]
    for _, val in splits.folds:
        np.testing.assert_allclose(
            _share(train_y[val], k), _share(train_y, k), atol=1.5 / len(val) * k
        )


@pytest.mark.parametrize("test_size", [0.1, 0.2, 0.5])
def test_make_splits_locks_the_test_set_size(y: np.ndarray, test_size: float) -> None:
    sizes = {
        len(make_splits(y, test_size=test_size, n_folds=n, seed=s).test)
        for n in (2, 5)
        for s in (0, 7)
    }
    assert sizes == {round(test_size * len(y))}


def test_make_splits_is_seeded(y: np.ndarray) -> None:
    a, b = make_splits(y, seed=3), make_splits(y, seed=3)
    assert np.array_equal(a.test, b.test)
    assert all(np.array_equal(fa[1], fb[1]) for fa, fb in zip(a.folds, b.folds, strict=True))
    assert not np.array_equal(a.test, make_splits(y, seed=4).test)


def test_make_splits_fewer_folds_for_a_rare_class_with_the_reason() -> None:
    y = np.array([0] * 120 + [1] * 4)
    splits = make_splits(y, test_size=0.2, n_folds=5, seed=0)
    assert splits.n_folds == 3
    assert splits.notes[0] == (
        "Using 3 cross-validation folds instead of 5: the rarest class has only 3 training rows."
    )
    _assert_valid(splits, y)


def test_make_splits_tiny_data_gets_two_folds_and_a_caution_on_the_promises() -> None:
    y = np.array([0, 1] * 15)  # 30 rows, as a first try on a small sample might have
    splits = make_splits(y, test_size=0.2, n_folds=5, seed=0)
    assert splits.n_folds == 2
    assert splits.notes[0].startswith("Using 2 cross-validation folds instead of 5: 24 training")
    assert "not meaningful below 100 test rows" in splits.notes[1]
    assert all(len(val) >= 12 for _, val in splits.folds)
    _assert_valid(splits, y)


def test_make_splits_every_class_in_the_test_set() -> None:
    y = np.array([0] * 40 + [1] * 3 + [2] * 3)
    splits = make_splits(y, test_size=0.05, n_folds=2, seed=0)
    assert set(y[splits.test]) == {0, 1, 2}


def test_make_splits_class_too_small() -> None:
    with pytest.raises(TargetError, match=r"Every class needs at least 3 rows"):
        make_splits(np.array([0] * 20 + [1] * 2))


@pytest.mark.parametrize("test_size", [0.0, 0.6, -0.1])
def test_make_splits_test_size_out_of_range(test_size: float) -> None:
    with pytest.raises(ConfigError, match=rf"test_size must be in \(0, 0.5\], got {test_size}"):
        make_splits(np.array([0, 1] * 20), test_size=test_size)


def test_check_disjoint_names_the_overlapping_parts() -> None:
    check_disjoint(train=np.array([0, 1]), calibration=np.array([2]), test=np.array([3, 4]))
    with pytest.raises(ValueError, match=r"Splits 'calibration' and 'test' share 2 row\(s\)"):
        check_disjoint(
            train=np.array([0, 1]), calibration=np.array([2, 3, 4]), test=np.array([3, 4])
        )


def test_fitted_without_keeps_every_row_validated_and_fits_none_of_them(y: np.ndarray) -> None:
    splits = make_splits(y, seed=0)
    drop = splits.train[::10]
    fewer = fitted_without(splits, y, drop)
    assert np.array_equal(fewer.test, splits.test) and np.array_equal(fewer.train, splits.train)
    left_out = np.isin(splits.train, drop)
    assert np.array_equal(fewer.fit_only, np.flatnonzero(~left_out))
    for (fit, validate), (was_fit, was_validate) in zip(fewer.folds, splits.folds, strict=True):
        assert np.array_equal(validate, was_validate)  # every row still scored out of fold
        assert np.array_equal(fit, was_fit[~left_out[was_fit]])
    assert fewer.notes[-1].startswith(f"Fitted without {len(drop)} training row(s)")
    X = pd.DataFrame({"i": np.arange(len(splits.train))})
    fitted_X, fitted_y = fewer.fitted(X, y[splits.train])
    assert fitted_X["i"].tolist() == np.flatnonzero(~left_out).tolist()
    assert len(fitted_y) == len(fitted_X)


def test_fitted_without_ignores_rows_outside_training(y: np.ndarray) -> None:
    splits = make_splits(y, seed=0)
    same = fitted_without(splits, y, splits.test[:5])
    assert np.array_equal(same.fit_only, np.arange(len(splits.train)))
    assert same.notes[-1].startswith("Fitted without 0 training row(s)")


def test_fitted_without_refuses_to_leave_a_class_with_one_row() -> None:
    y = np.array([0] * 30 + [1] * 5)
    splits = make_splits(y, test_size=0.2, n_folds=3, seed=0)
    ones = splits.train[y[splits.train] == 1]
    with pytest.raises(TargetError, match=r"leaves a class with fewer than two training rows"):
        fitted_without(splits, y, ones[1:])


def _imbalanced(n: int, rare: int, seed: int = 0) -> np.ndarray:
    """``n`` labels of three classes, one of them ``rare`` rows, in a shuffled order."""
    y = np.r_[np.zeros(rare), np.ones((n - rare) // 2), np.full(n - rare - (n - rare) // 2, 2)]
    return np.random.default_rng(seed).permutation(y.astype(np.int64))


def test_a_table_past_the_training_rows_the_time_allows_is_split_from_a_stratified_sample() -> None:
    y = _imbalanced(100_000, rare=200)
    splits = make_splits(y, test_size=0.2, n_folds=5, seed=0, max_train=20_000)
    _assert_valid(splits, y, complete=False)
    check_disjoint(train=splits.train, test=splits.test)
    n_train, n_test = len(splits.train), len(splits.test)
    # about max_train to train, the test keeping its share of the sample
    assert 19_900 <= n_train <= 20_200
    assert abs(n_test / (n_train + n_test) - 0.2) < 0.001
    # the rare class (0.2%) keeps a floor of rows, not its 0.2% of the sample (50)
    kept = np.bincount(y[np.r_[splits.train, splits.test]], minlength=3)
    assert kept[0] == 100
    assert abs(kept[1] - kept[2]) <= 1
    note = splits.notes[0]
    assert "stratified sample of" in note and "of the table's 100,000 rows" in note
    assert "--time-limit" in note


def test_a_table_within_the_training_rows_the_time_allows_is_split_whole() -> None:
    y = _imbalanced(5_000, rare=400)
    capped = make_splits(y, test_size=0.2, n_folds=5, seed=0, max_train=20_000)
    whole = make_splits(y, test_size=0.2, n_folds=5, seed=0)
    assert np.array_equal(capped.train, whole.train) and capped.notes == whole.notes == ()


def test_the_default_folds_are_five_and_three_on_a_large_training_part() -> None:
    small, large = _imbalanced(24_000, rare=400), _imbalanced(26_000, rare=400)
    assert make_splits(small, test_size=0.2, n_folds=None, seed=0).n_folds == 5
    auto = make_splits(large, test_size=0.2, n_folds=None, seed=0)
    assert auto.n_folds == 3 and len(auto.train) >= 20_000
    assert any(n.startswith("Using 3 cross-validation folds instead of 5") for n in auto.notes)
    asked = make_splits(large, test_size=0.2, n_folds=5, seed=0)  # a number asked for is kept
    assert asked.n_folds == 5 and asked.notes == ()


def test_a_sample_keeps_every_row_of_a_class_too_small_to_sample() -> None:
    y = _imbalanced(200_000, rare=5)
    splits = make_splits(y, test_size=0.2, n_folds=None, seed=3, max_train=20_000)
    kept = y[np.r_[splits.train, splits.test]]
    assert (kept == 0).sum() == 5 and (y[splits.test] == 0).any()
    assert splits.n_folds == 3  # the rarest class's 4 training rows allow it
