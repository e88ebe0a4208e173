"""How much k-NN reference the OOD detector keeps for the time it has, on a real table, and
how many rows of text its feature map is fitted on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from prudent.data import load_example
from prudent.models._ood_space import (
    MIN_REFERENCE_ROWS,
    MIN_TEXT_ROWS,
    affordable_reference,
    text_volume_rows,
)


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """The 1,797 handwritten digits, 64 standardised pixels each."""
    frame = load_example("digits")
    return StandardScaler().fit_transform(frame.drop(columns="target").to_numpy(float))


@pytest.mark.parametrize("n_queries", [500, 12_500])
def test_affordable_reference_keeps_a_cheap_reference_whole_even_with_no_time_left(
    digits, n_queries
):
    """Scoring a few thousand rows against 1,797 costs a fraction of a second of CPU (a
    batch through the batch search, a few rows through numpy blocks): cutting the reference
    would cost detection and save nothing that threatens the limit."""
    assert affordable_reference(digits, n_queries=n_queries, seconds=0.0) == len(digits)


def test_affordable_reference_cuts_a_search_far_beyond_the_time(digits):
    """10^8 query rows would take minutes: the reference is cut to its floor."""
    assert affordable_reference(digits, n_queries=10**8, seconds=1.0) == MIN_REFERENCE_ROWS


def test_affordable_reference_scales_a_search_timed_on_fewer_rows_to_the_reference(digits):
    """The detector pools the threshold rows into the reference: timed on 500 rows, a
    search of 1,797 is cut as one over 1,797 would be, not kept whole for being timed on
    fewer rows than the floor."""
    few = digits[:500]
    assert affordable_reference(few, n_queries=500, seconds=0.0, reference=1797) == 1797
    assert (
        affordable_reference(few, n_queries=10**8, seconds=1.0, reference=1797)
        == MIN_REFERENCE_ROWS
    )


def _texts(lengths: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"t": ["x" * int(n) for n in lengths], "u": ["ab"] * len(lengths)})


def test_text_volume_rows_draw_rows_holding_at_most_the_bound() -> None:
    """Long texts: a seeded draw of rows whose text, every text column counted, stays
    within the bound; the same draw for the same seed."""
    X = _texts(np.random.default_rng(0).integers(100, 3000, size=4000))
    rows = text_volume_rows(X, ["t", "u"], chars=500_000, seed=3)
    held = X["t"].str.len().to_numpy()[rows].sum() + 2 * len(rows)
    assert 0 < len(rows) < len(X)
    assert 500_000 - 3002 < held <= 500_000
    assert np.all(np.diff(rows) > 0)
    np.testing.assert_array_equal(rows, text_volume_rows(X, ["t", "u"], chars=500_000, seed=3))
    assert not np.array_equal(rows, text_volume_rows(X, ["t", "u"], chars=500_000, seed=4))


def test_text_volume_rows_keep_short_texts_whole_and_a_floor_of_long_ones() -> None:
    X = _texts(np.full(1000, 50))
    np.testing.assert_array_equal(text_volume_rows(X, ["t"], chars=50_000), np.arange(1000))
    huge = _texts(np.full(1000, 10_000))
    assert len(text_volume_rows(huge, ["t"], chars=50_000)) == MIN_TEXT_ROWS
