"""Text no service can keep (a NUL, an unpaired UTF-16 surrogate) is refused at the door.

JSON spells both as escapes. A lone surrogate failed the model for every row of its batch
(good rows answered with no prediction) and the review page showing it answered 500; a NUL
made the PostgreSQL log refuse the whole request with 503. Served on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from prudent.store import SqlPredictionLog
from tests._postgres import postgres_url  # noqa: F401  (a fixture)
from tests.api.test_unknown_values import client, log_url  # noqa: F401  (fixtures)
from tests.serve._bundles import input_rows

BAD = ["big\u0000one", "big\ud800one"]


def _post(client: TestClient, path: str, body: Any) -> Any:  # noqa: F811
    # ensure_ascii writes a lone surrogate as its escape, as any JSON client may
    data = json.dumps(body, ensure_ascii=True).encode("ascii")
    return client.post(path, content=data, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("bad", BAD)
def test_json_and_v2_refuse_the_value_with_a_400_naming_the_field(
    client: TestClient,  # noqa: F811
    log_url: str,  # noqa: F811
    bad: str,
) -> None:
    rows = input_rows("mixed", 3)
    records = rows.to_dict(orient="records")
    records[1]["petal_size"] = bad
    answer = _post(client, "/predict", {"records": records})
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["field"] == "petal_size" and "petal_size (row 1)" in body["error"]
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(1, "petal_size")]
    inputs = [
        {"name": c, "shape": [len(rows)], "datatype": "BYTES" if c == "petal_size" else "FP64",
         "data": [r[c] for r in records]}
        for c in rows.columns if c != "wide_sepal"
    ]  # fmt: skip
    v2 = _post(client, "/v2/models/iris/infer", {"inputs": inputs})
    assert v2.status_code == 400, v2.text
    # pydantic's JSON parser already refuses a lone surrogate in the V2 body as a whole
    assert v2.json()["field"] == ("petal_size" if "\x00" in bad else "body"), v2.text
    good = _post(client, "/predict", {"records": [records[0]]})
    assert good.status_code == 200, good.text
    with SqlPredictionLog.open(log_url) as log:  # only the good request was logged
        assert log.count() == 1


@pytest.mark.parametrize("bad", BAD)
def test_feedback_and_the_review_page_answer_without_asking_the_log(
    client: TestClient,  # noqa: F811
    bad: str,
) -> None:
    answer = _post(client, "/feedback", {"items": [{"prediction_id": bad, "label": "setosa"}]})
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == "items.0.prediction_id"
    single = _post(client, "/feedback", {"prediction_id": bad, "label": "setosa"})  # no items
    assert single.status_code == 400 and single.json()["field"] == "prediction_id", single.text
    # a URL carries bytes: the surrogate as the bytes UTF-8 would give it, which are not UTF-8
    raw = quote(bad.encode("utf-8", "surrogatepass"))
    page = client.get(f"/review?case={raw}")
    assert page.status_code == 200, page.text
