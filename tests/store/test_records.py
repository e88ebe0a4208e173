"""Records, ids and JSON normalisation."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

import prudent.store
from prudent.errors import DataError
from prudent.models import DecisionKind, DeferReason
from prudent.store import new_prediction_id
from tests.store.conftest import make_record


def test_store_all_is_sorted_and_complete() -> None:
    public = {
        name
        for name in dir(prudent.store)
        if not name.startswith("_") and not isinstance(getattr(prudent.store, name), type(prudent))
    } - {"annotations"}

    def isort_style(name: str) -> tuple[int, str]:  # ruff RUF022: CONSTANTS, Classes, functions
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert prudent.store.__all__ == sorted(prudent.store.__all__, key=isort_style)
    assert set(prudent.store.__all__) == public


def test_new_prediction_id_is_a_unique_uuid4() -> None:
    ids = {new_prediction_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 36 and i[14] == "4" for i in ids)


def test_record_is_frozen_with_slots() -> None:
    record = make_record()
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.prediction = "x"  # type: ignore[misc]
    assert not hasattr(record, "__dict__")


def test_record_normalises_numpy_and_labels() -> None:
    record = make_record(
        inputs={"i": np.int32(4), "f": np.float64(2.5), "b": np.bool_(True), "arr": np.arange(3)},
        probabilities={np.int64(0): np.float32(0.25), 1: 0.75},
        prediction=np.int64(1),
        prediction_set=[np.int64(1), 0],
        confidence=np.float32(0.75),
        is_ood=np.bool_(False),
    )
    assert record.inputs == {"i": 4, "f": 2.5, "b": True, "arr": [0, 1, 2]}
    assert [type(v) for v in record.inputs.values()] == [int, float, bool, list]
    assert record.probabilities == {"0": 0.25, "1": 0.75}
    assert (record.prediction, record.prediction_set) == ("1", ("1", "0"))
    assert type(record.confidence) is float and record.is_ood is False


def test_record_converts_created_at_to_utc() -> None:
    tokyo = datetime(2024, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    assert make_record(created_at=tokyo).created_at == datetime(2024, 1, 1, 0, 0, tzinfo=UTC)
    assert make_record(created_at=tokyo).created_at.tzinfo is UTC
    with pytest.raises(DataError, match=r"PredictionRecord\.created_at must be a timezone-aware"):
        make_record(created_at=datetime(2024, 1, 1))


@pytest.mark.parametrize("decision", [k.value for k in DecisionKind])
def test_record_accepts_every_decision(decision: str) -> None:
    assert make_record(decision=decision).decision is DecisionKind(decision)


def test_record_carries_a_typed_defer_reason_on_reviews_only() -> None:
    record = make_record(decision="review", prediction=None, defer_reason="out_of_distribution")
    assert record.defer_reason is DeferReason.OUT_OF_DISTRIBUTION
    assert make_record(decision="review").defer_reason is None  # logged before the column
    with pytest.raises(DataError, match=r"defer_reason must be one of \['low_confidence', "):
        make_record(decision="review", defer_reason="tired")
    with pytest.raises(DataError, match="decision is 'accept'; only a review has a defer reason"):
        make_record(decision="accept", defer_reason="rule")


def test_record_refuses_bad_values() -> None:
    with pytest.raises(DataError, match=r"decision must be one of \['accept', 'rule', 'backup', "):
        make_record(decision="maybe")
    with pytest.raises(DataError, match="id must be a string of 1 to 64 characters"):
        make_record(id="")
    with pytest.raises(DataError, match=r"probabilities\['setosa'\] is nan, but probabilities"):
        make_record(probabilities={"setosa": math.nan})
    with pytest.raises(DataError, match=r"inputs\['when'\] holds a value of type object"):
        make_record(inputs={"when": object()})
