"""The shadow predictions table: written under the served prediction's id, read back in pairs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from prudent.errors import StoreError
from prudent.store import ShadowLog, ShadowRecord, SqlPredictionLog
from tests.store.conftest import SQL_BACKENDS, T0, make_record


def _shadow(prediction_id: str, version: str = "sha256:bbbb", **changes: object) -> ShadowRecord:
    fields: dict[str, object] = {
        "prediction_id": prediction_id, "model_version": version, "created_at": T0,
        "probabilities": {"setosa": 0.3, "versicolor": 0.6, "virginica": 0.1},
        "prediction": "versicolor", "confidence": 0.6, "decision": "accept", "latency_ms": 2.5,
    }  # fmt: skip
    fields.update(changes)
    return ShadowRecord(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_shadow_pairs_join_the_served_answer_the_shadow_answer_and_the_latest_label(
    sql_url: str,
) -> None:
    served = [make_record(created_at=T0 + timedelta(seconds=i)) for i in range(4)]
    with SqlPredictionLog.open(sql_url) as log, ShadowLog.open(sql_url) as shadow:
        log.write(served)
        shadow.write([_shadow(r.id) for r in served[:3]])
        shadow.write([_shadow(served[0].id, prediction="setosa")])  # already stored: kept as is
        log.add_feedback(served[0].id, "setosa")
        log.add_feedback(served[0].id, "versicolor")  # a correction: the latest label counts
        log.add_feedback(served[1].id, "virginica")
        log.add_feedback(served[3].id, "setosa")  # labelled but never shadowed
        pairs = shadow.labelled_pairs()
        assert shadow.counts() == [("sha256:aaaa", "sha256:bbbb", 3, 2)]
        assert shadow.labelled_pairs(shadow_version="other") == []
    assert [(p.champion.prediction_id, p.label) for p in pairs] == [
        (served[0].id, "versicolor"),
        (served[1].id, "virginica"),
    ]
    first = pairs[0]
    assert first.champion.model_version == "sha256:aaaa"
    assert first.champion.prediction == "setosa"
    assert first.shadow.model_version == "sha256:bbbb"
    assert first.shadow.prediction == "versicolor"
    assert dict(first.shadow.probabilities) == {"setosa": 0.3, "versicolor": 0.6, "virginica": 0.1}
    assert first.shadow.created_at == T0


@pytest.mark.parametrize("sql_url", SQL_BACKENDS, indirect=True)
def test_shadow_row_for_an_unlogged_prediction_is_refused(sql_url: str) -> None:
    with (
        SqlPredictionLog.open(sql_url),
        ShadowLog.open(sql_url) as shadow,
        pytest.raises(StoreError, match=r"Cannot store 1 shadow prediction\(s\)"),
    ):
        shadow.write([_shadow("no-such-id")])
