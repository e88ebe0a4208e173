"""Logged inputs read back as one table: the table pandas builds from the parsed objects."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from prudent.data import validate_frame
from prudent.errors import DataError
from prudent.monitor._inputs import inputs_frame
from tests.monitor.conftest import SCHEMA

CASES: dict[str, list[dict[str, Any]]] = {
    "numbers, strings, gaps": [
        {"x0": 1.5, "x1": 2, "x2": None, "x3": "3.5", "colour": "red"},
        {"x0": 2, "x1": 3, "colour": None},
    ],
    "numbers as categories": [
        {"x0": 1, "x1": 2, "x2": 3, "x3": 4, "colour": 1},
        {"x0": 1.5, "x1": 2, "x2": 3, "x3": 4, "colour": 2.0},
    ],
    "booleans": [
        {"x0": True, "x1": 2, "x2": 3, "x3": 4, "colour": True},
        {"x0": False, "x1": 2, "x2": 3, "x3": 4, "colour": None},
    ],
    "placeholders and missing words": [
        {"x0": "?", "x1": "", "x2": "NA", "x3": 4, "colour": ""},
        {"x0": "1e3", "x1": 2, "x2": 3, "x3": 4, "colour": "blue"},
    ],
    "a column of mixed types": [{"x0": 1, "colour": "a"}, {"x0": "b", "colour": 3}],
    "a nested value": [{"x0": [1, 2], "colour": "a"}],
    "a huge integer": [{"x0": 12345678901234567890, "colour": "a"}],
    "a line break in a string": [{"x0": 0.1, "colour": "é\nb"}],
    "not a number": [{"x0": float("nan"), "colour": "a"}],
}


def _validated(frame: pd.DataFrame) -> pd.DataFrame | str:
    try:
        return validate_frame(frame, SCHEMA)[0]
    except DataError as exc:
        return str(exc)


@pytest.mark.parametrize("as_bytes", [True, False], ids=["utf-8 bytes", "text"])
@pytest.mark.parametrize("rows", CASES.values(), ids=CASES.keys())
def test_inputs_frame_validates_as_the_parsed_objects_do(
    rows: list[dict[str, Any]], as_bytes: bool
) -> None:
    texts = [json.dumps(row, ensure_ascii=False) for row in rows]
    fast = _validated(inputs_frame([t.encode() for t in texts] if as_bytes else texts))
    slow = _validated(pd.DataFrame([json.loads(t) for t in texts]))
    if isinstance(slow, str):
        assert fast == slow
    else:
        assert isinstance(fast, pd.DataFrame)
        pd.testing.assert_frame_equal(fast, slow)
