"""The one converter from numpy/pandas values to JSON-ready Python."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from prudent._json import json_value, label_text
from prudent.errors import DataError
from prudent.models import DecisionKind


def test_json_value_handles_nested_and_non_finite() -> None:
    value = {"a": [np.float64(np.inf), {"b": np.int8(-1)}], 3: (date(2024, 2, 1), None)}
    assert json_value(value) == {"a": [None, {"b": -1}], "3": ["2024-02-01", None]}


def test_json_value_unwraps_pandas_and_enums_to_plain_types() -> None:
    frame = pd.DataFrame({"t": pd.to_datetime(["2024-01-02", None], utc=True), "n": [1, pd.NA]})
    frame["n"] = frame["n"].astype("Int64")
    got = json_value([frame["t"].tolist(), frame["n"].tolist(), DecisionKind.REVIEW])
    assert got == [["2024-01-02T00:00:00+00:00", None], [1, None], "review"]
    assert [type(v) for v in json_value([np.str_("a"), np.bool_(True), np.float32(0.5)])] == [
        str,
        bool,
        float,
    ]
    json.dumps(got, allow_nan=False)  # really JSON


def test_json_value_names_what_it_cannot_convert() -> None:
    with pytest.raises(DataError, match=r"inputs\['x'\] holds a value of type complex"):
        json_value({"x": 1j}, "inputs")


def test_label_text_is_the_plain_value_as_text() -> None:
    assert [label_text(v) for v in (np.int64(3), "yes", 1.5, True)] == ["3", "yes", "1.5", "True"]
    assert label_text(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01 00:00:00+00:00"
