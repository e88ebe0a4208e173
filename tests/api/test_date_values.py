"""Values that are no fixed date, refused in a date column by the JSON and V2 APIs.

``today`` and ``now`` were read as the moment of reading and ``-1`` as the year -1; a
time alone (``10:00``) took the day of reading. Each is the row's problem, named with the
column and what was expected, as any other value that is no date.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import prudent
from tests.api.conftest import make_client, wait_ready
from tests.cli.test_dates import dated_bundle  # noqa: F401  (a fixture)

OPENED = ["2025-03-01", "today", "-1", "10:00", "2025-09-01"]
BAD_ROWS = [1, 2, 3]


@pytest.fixture
def client(dated_bundle: Path, tmp_path: Path) -> Iterator[TestClient]:  # noqa: F811
    with make_client(prudent.load(dated_bundle), tmp_path, None) as c:
        wait_ready(c)
        yield c


def _problems(answer: Any) -> list[tuple[int, str, str]]:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["field"] == "opened" and "Column 'opened' should be a date/time" in body["error"]
    return [(e["row"], e["field"], e["expected"]) for e in body["errors"]]


def test_json_api_names_each_row_whose_date_is_not_fixed(client: TestClient) -> None:
    records = [{"opened": d, "amount": 0.0} for d in OPENED]
    expected = [(row, "opened", "a date/time (ISO 8601)") for row in BAD_ROWS]
    assert _problems(client.post("/predict", json={"records": records})) == expected
    good = client.post("/predict", json={"records": [records[0], records[-1]]})
    assert good.status_code == 200, good.text


def test_v2_api_names_each_row_whose_date_is_not_fixed(client: TestClient) -> None:
    inputs = [
        {"name": "opened", "shape": [len(OPENED)], "datatype": "BYTES", "data": OPENED},
        {"name": "amount", "shape": [len(OPENED)], "datatype": "FP64", "data": [0.0] * 5},
    ]
    answer = client.post("/v2/models/prudent/infer", json={"inputs": inputs})
    assert [row for row, _, _ in _problems(answer)] == BAD_ROWS
