"""How much k-NN reference the OOD detector keeps for the time it has, on a real table."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from prudent.data import load_example
from prudent.models._ood_space import MIN_REFERENCE_ROWS, affordable_reference


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
