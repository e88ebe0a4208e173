"""Fixtures of the data tests: a table with a column of every role, and its schema."""

from __future__ import annotations

import pandas as pd
import pytest

from prudent.data import Schema, infer_schema
from tests.fixtures import mixed_frame


@pytest.fixture(scope="package")
def mixed() -> pd.DataFrame:
    """Breast-cancer rows with every column role and gaps."""
    return mixed_frame(n=200, seed=1)


@pytest.fixture(scope="package")
def mixed_schema(mixed: pd.DataFrame) -> Schema:
    """The schema inferred from :func:`mixed`."""
    return infer_schema(mixed, "target")
