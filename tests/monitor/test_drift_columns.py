"""A batch's tested columns: categories coded as their labels would be."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prudent.monitor._drift_columns import Categories
from prudent.monitor._drift_tests import CategoryReference, category_labels

VALUES = {
    "text and gaps": ["b", "a", None, "b", np.nan, "a"],
    "only gaps": [None, None],
    "nothing": [],
    "the missing label itself": ["(missing)", None, "x"],
    "numbers that compare equal": [1, 1.0, "a", None],
    "booleans": [True, None, "x", False],
}


@pytest.mark.parametrize("as_series", [True, False], ids=["series", "list"])
@pytest.mark.parametrize("values", VALUES.values(), ids=VALUES.keys())
def test_categories_code_values_as_their_labels(values: list[object], as_series: bool) -> None:
    given = pd.Series(values, dtype=object) if as_series else values
    column = Categories.of(CategoryReference({}), given)
    codes, names = pd.factorize(np.asarray(category_labels(values), dtype=object))
    assert column.codes.tolist() == codes.tolist()
    assert column.names == [str(n) for n in names]
