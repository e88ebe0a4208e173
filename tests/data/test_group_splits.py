"""Splits by group: no group on both sides of the locked test or of any fold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prudent.data import make_splits
from prudent.data._group_splits import group_codes
from prudent.errors import TargetError


def _panel(people: int = 120, years: int = 7, seed: int = 0) -> tuple[np.ndarray, pd.Series]:
    """A panel: each person's label is mostly their own (a trait), seen every year."""
    rng = np.random.default_rng(seed)
    trait = rng.integers(0, 3, people)
    y = np.repeat(trait, years)
    flip = rng.random(y.size) < 0.1
    y[flip] = rng.integers(0, 3, int(flip.sum()))
    return y.astype(np.int64), pd.Series(np.repeat([f"p{i:03d}" for i in range(people)], years))


def test_no_group_falls_on_both_sides_of_any_split() -> None:
    y, groups = _panel()
    s = make_splits(y, test_size=0.2, n_folds=5, seed=3, groups=groups, group="person")
    g = groups.to_numpy()
    assert not set(g[s.train]) & set(g[s.test])
    assert 0.15 <= len(s.test) / len(y) <= 0.25
    assert set(np.unique(y[s.test])) == set(np.unique(y)), "every class tested"
    assert s.n_folds == 5
    for fit, validate in s.folds:
        assert not set(g[s.train][fit]) & set(g[s.train][validate])
    covered = np.sort(np.concatenate([v for _, v in s.folds]))
    assert covered.tolist() == list(range(len(s.train))), "each training row validated once"
    assert s.notes[0].startswith("Split by the groups of 'person' (--group): 120 groups")
    # row by row, almost every person falls on both sides: what the groups prevent
    plain = make_splits(y, test_size=0.2, n_folds=5, seed=3)
    assert len(set(g[plain.train]) & set(g[plain.test])) > 60


def test_a_row_without_a_group_is_a_group_of_its_own() -> None:
    assert group_codes(pd.Series([3.0, np.nan, 3.0, np.nan])).tolist() == [0, 1, 0, 2]
    y, groups = _panel(people=40)
    groups = groups.where(np.arange(len(groups)) % 9 != 0, None)
    s = make_splits(y, groups=groups, group="person", seed=1)
    g = group_codes(groups)
    assert not set(g[s.train]) & set(g[s.test])


def test_few_groups_get_fewer_folds_or_a_clear_refusal() -> None:
    y = np.array([0, 1] * 100, dtype=np.int64)
    four = pd.Series(np.repeat(list("abcd"), 50))
    s = make_splits(y, n_folds=5, groups=four, group="site", seed=0)
    assert s.n_folds == 3 and len(s.test) == 50
    assert s.notes[0] == (
        "Using 3 cross-validation folds instead of 5: the training rows hold only 3 groups of "
        "'site'."
    )
    with pytest.raises(TargetError, match=r"Column 'site' \(--group\) holds 2 group\(s\);"):
        make_splits(y, groups=pd.Series(np.repeat(list("ab"), 100)), group="site")


def test_a_class_held_by_one_group_is_trained_on_and_named_untested() -> None:
    y, groups = _panel(people=60)
    y = y.copy()
    for seed in range(4):
        for person in ("p000", "p031", "p059"):
            one = np.where(groups.to_numpy() == person, 3, y)  # a class only this person has
            s = make_splits(one, groups=groups, group="person", seed=seed)
            assert (one[s.train] == 3).sum() == 7, "the class is learnt from its one group"
            assert not (one[s.test] == 3).any()
            assert any("1 class(es) have no row in the locked test" in n for n in s.notes)
