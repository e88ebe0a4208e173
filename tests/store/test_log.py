"""Behaviour every PredictionLog shares: run on memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from prudent.errors import (
    DataError,
    FeedbackConflictError,
    FeedbackError,
    StoreError,
    UnknownPredictionError,
)
from prudent.models import DeferReason
from prudent.store import (
    META_COLUMNS,
    FeedbackLog,
    FeedbackStatus,
    LogStore,
    PredictionLog,
    ReviewQueue,
    new_prediction_id,
)
from tests.store.conftest import T0, make_record


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# -- writing and reading back ------------------------------------------------------------------
def test_log_is_a_prediction_log_feedback_log_and_review_queue(log: PredictionLog) -> None:
    for seam in (PredictionLog, FeedbackLog, ReviewQueue, LogStore):
        assert isinstance(log, seam), seam.__name__
    assert not isinstance(object(), FeedbackLog)
    names = [
        {n for n in vars(s) if not n.startswith("_")}
        for s in (PredictionLog, FeedbackLog, ReviewQueue)
    ]
    assert sum(len(n) for n in names) == len(set().union(*names)) == 20  # no method twice


def test_write_round_trips_every_field(log: PredictionLog) -> None:
    record = make_record(
        inputs={"a": np.int64(3), "b": np.float32(0.5), "c": float("nan"), "d": [1, 2], "e": None},
        probabilities={"setosa": 1 / 3, "versicolor": 2 / 3},
        prediction=None,
        confidence=None,
        ood_score=None,
        prediction_set=("setosa", "versicolor"),
        decision="review",
        reason="confidence 0.67 < threshold 0.90",
        defer_reason="low_confidence",
        latency_ms=None,
    )
    log.write([record])
    back = log.get(record.id)
    assert back == record
    assert back.inputs == {"a": 3, "b": 0.5, "c": None, "d": [1, 2], "e": None}
    assert back.created_at.tzinfo is UTC


def test_log_keeps_every_typed_defer_reason(log: PredictionLog) -> None:
    reviews = [
        make_record(decision="review", prediction=None, defer_reason=r.value) for r in DeferReason
    ]
    log.write([*reviews, make_record(decision="accept")])
    assert [log.get(r.id).defer_reason for r in reviews] == list(DeferReason)
    for r in reviews[:2]:
        log.add_feedback(r.id, "setosa")
    frame = log.labelled_predictions()
    assert frame["defer_reason"].tolist() == [r.value for r in DeferReason][:2]


def test_write_same_id_twice_keeps_the_first(log: PredictionLog) -> None:
    first = make_record(prediction="setosa")
    log.write([first])
    log.write([make_record(id=first.id, prediction="virginica"), make_record()])
    assert log.count() == 2
    assert log.get(first.id).prediction == "setosa"


def test_write_empty_batch_does_nothing(log: PredictionLog) -> None:
    log.write([])
    assert log.write_async([]).result(timeout=5) is None
    assert log.count() == 0


def test_write_async_resolves_after_the_rows_are_readable(log: PredictionLog) -> None:
    records = [make_record() for _ in range(5)]
    future = log.write_async(records)
    assert future.result(timeout=10) is None
    assert [log.get(r.id).id for r in records] == [r.id for r in records]


def test_write_rejects_what_is_not_a_record(log: PredictionLog) -> None:
    with pytest.raises(DataError, match="write\\(\\) takes PredictionRecord items, but a dict"):
        log.write([{"id": "x"}])  # type: ignore[list-item]


def test_get_unknown_id_raises_a_key_error(log: PredictionLog) -> None:
    with pytest.raises(UnknownPredictionError, match="No prediction with id 'nope' is in the log"):
        log.get("nope")
    with pytest.raises(KeyError):
        log.get("nope")


def test_count_by_model_version(log: PredictionLog) -> None:
    log.write([make_record(model_version="v1") for _ in range(3)])
    log.write([make_record(model_version="v2") for _ in range(2)])
    assert (log.count(), log.count(model_version="v1"), log.count(model_version="v3")) == (5, 3, 0)


def test_iter_predictions_orders_pages_and_filters(log: PredictionLog) -> None:
    ids = sorted(new_prediction_id() for _ in range(3))
    same_time = [make_record(id=i, created_at=_at(10)) for i in reversed(ids)]
    spread = [make_record(created_at=_at(s), model_version="v2") for s in (30, 0, 20, 40)]
    log.write(same_time + spread)
    got = list(log.iter_predictions(batch_size=2))
    assert [r.created_at for r in got] == [_at(s) for s in (0, 10, 10, 10, 20, 30, 40)]
    assert [r.id for r in got[1:4]] == ids
    window = log.iter_predictions(since=_at(10), until=_at(30), batch_size=1)
    assert [r.created_at for r in window] == [_at(10)] * 3 + [_at(20)]
    assert len(list(log.iter_predictions(model_version="v2"))) == 4
    assert list(log.iter_predictions(since=_at(41))) == []


def test_iter_predictions_refuses_bad_arguments(log: PredictionLog) -> None:
    with pytest.raises(ValueError, match="batch_size must be an integer of at least 1, but 0"):
        log.iter_predictions(batch_size=0)
    with pytest.raises(DataError, match="since must be a timezone-aware datetime"):
        log.iter_predictions(since=datetime(2024, 1, 1))


# -- feedback ------------------------------------------------------------------------------------
def test_feedback_created_duplicate_correction(log: PredictionLog) -> None:
    record = make_record()
    log.write([record])
    first = log.add_feedback(record.id, "versicolor")
    again = log.add_feedback(record.id, "versicolor", source="someone-else")
    fixed = log.add_feedback(record.id, "virginica", source="ana")
    assert [first.status, again.status, fixed.status] == [
        FeedbackStatus.CREATED,
        FeedbackStatus.DUPLICATE,
        FeedbackStatus.CORRECTION,
    ]
    assert again.received_at == first.received_at
    assert (fixed.previous_label, fixed.received_at > first.received_at) == ("versicolor", True)
    history = log.feedback_history(record.id)
    assert [(h.label, h.source) for h in history] == [("versicolor", "api"), ("virginica", "ana")]
    frame = log.labelled_predictions()
    assert frame["label"].tolist() == ["virginica"]


def test_feedback_back_to_an_earlier_label_is_a_correction(log: PredictionLog) -> None:
    record = make_record()
    log.write([record])
    statuses = [log.add_feedback(record.id, lab).status for lab in ("a", "b", "a", "a")]
    assert [s.value for s in statuses] == ["created", "correction", "correction", "duplicate"]
    assert [h.label for h in log.feedback_history(record.id)] == ["a", "b", "a"]


def test_feedback_keeps_the_given_time_in_utc(log: PredictionLog) -> None:
    record = make_record()
    log.write([record])
    paris = datetime(2024, 5, 1, 16, 0, tzinfo=timezone(timedelta(hours=2)))
    result = log.add_feedback(record.id, "setosa", received_at=paris)
    assert result.received_at == datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
    assert log.feedback_history(record.id)[0].received_at == result.received_at
    with pytest.raises(DataError, match="received_at must be a timezone-aware datetime"):
        log.add_feedback(record.id, "setosa", received_at=datetime(2024, 5, 1))


def test_feedback_unknown_id_raises(log: PredictionLog) -> None:
    with pytest.raises(UnknownPredictionError, match="No prediction with id 'missing'"):
        log.add_feedback("missing", "setosa")
    with pytest.raises(UnknownPredictionError, match="No prediction with id 'missing'"):
        log.feedback_history("missing")


def test_feedback_outside_allowed_labels_names_them(log: PredictionLog) -> None:
    record = make_record()
    log.write([record])
    classes = np.array(["setosa", "versicolor", "virginica"])
    with pytest.raises(
        FeedbackError, match=r"Label 'rose' is not among the model's classes \['setosa', "
    ):
        log.add_feedback(record.id, "rose", allowed_labels=classes)
    assert log.add_feedback(record.id, np.str_("setosa"), allowed_labels=classes).label == "setosa"
    assert log.feedback_history(record.id)[0].label == "setosa"


def test_feedback_numeric_labels_compare_as_text(log: PredictionLog) -> None:
    record = make_record(probabilities={0: 0.7, 1: 0.3}, prediction=np.int64(0))
    log.write([record])
    assert log.add_feedback(record.id, np.int64(1), allowed_labels=[0, 1]).label == "1"
    assert log.add_feedback(record.id, "1").status is FeedbackStatus.DUPLICATE


def test_feedback_matches_a_number_or_boolean_class_spelled_otherwise(log: PredictionLog) -> None:
    """A labels file's column is read as written: ``1.0`` is the class 1, ``true`` the class
    True, but a text class matches only as written (``1`` is not ``01``)."""
    record = make_record(probabilities={0: 0.7, 1: 0.3}, prediction=np.int64(0))
    log.write([record])
    assert log.add_feedback(record.id, "1.0", allowed_labels=[0, 1]).label == "1"
    assert log.add_feedback(record.id, " TRUE ", allowed_labels=[False, True]).label == "True"
    with pytest.raises(FeedbackError, match="Label '1' is not among"):
        log.add_feedback(record.id, "1", allowed_labels=["01", "02"])
    with pytest.raises(FeedbackError, match="Label 'one' is not among"):
        log.add_feedback(record.id, "one", allowed_labels=[0, 1])


def test_feedback_refuses_an_empty_source(log: PredictionLog) -> None:
    record = make_record()
    log.write([record])
    with pytest.raises(FeedbackError, match="source must be a non-empty string"):
        log.add_feedback(record.id, "setosa", source="")


def test_feedback_many_is_all_or_nothing(log: PredictionLog) -> None:
    records = [make_record() for _ in range(2)]
    log.write(records)
    with pytest.raises(UnknownPredictionError, match="'ghost'"):
        log.add_feedback_many([(records[0].id, "a"), ("ghost", "b"), (records[1].id, "c")])
    assert log.labelled_predictions().empty
    results = log.add_feedback_many(
        [(records[0].id, "a"), (records[0].id, "a"), (records[1].id, "c")]
    )
    assert [r.status.value for r in results] == ["created", "duplicate", "created"]
    assert log.add_feedback_many([]) == []


# -- review queue --------------------------------------------------------------------------------
def _queue(log: PredictionLog, n: int = 3) -> list[str]:
    review = [make_record(decision="review", prediction=None, created_at=_at(i)) for i in range(n)]
    log.write([make_record(created_at=_at(-1)), *reversed(review)])
    return [r.id for r in review]


def test_review_queue_lists_open_cases_oldest_first(log: PredictionLog) -> None:
    ids = _queue(log, 5)
    assert log.count_review() == 5
    assert [c.record.id for c in log.list_review()] == ids
    assert [c.record.id for c in log.list_review(limit=2, offset=1)] == ids[1:3]
    assert all(c.claimed_by is None for c in log.list_review())
    with pytest.raises(ValueError, match="offset must be an integer of at least 0, but -1"):
        log.list_review(offset=-1)


def test_review_claim_is_exclusive(log: PredictionLog) -> None:
    case_id = _queue(log)[0]
    case = log.claim(case_id, "ana")
    assert (case.claimed_by, case.record.id) == ("ana", case_id)
    assert log.claim(case_id, "ana").claimed_at == case.claimed_at
    with pytest.raises(FeedbackConflictError, match=f"'{case_id}' is already claimed by 'ana'"):
        log.claim(case_id, "bob")
    assert log.list_review()[0].claimed_by == "ana"


def test_review_label_by_another_reviewer_is_refused(log: PredictionLog) -> None:
    case_id = _queue(log)[0]
    log.claim(case_id, "ana")
    with pytest.raises(FeedbackConflictError, match="is claimed by 'ana', not 'bob'"):
        log.add_feedback(case_id, "setosa", source="bob")
    assert log.feedback_history(case_id) == []
    assert log.add_feedback(case_id, "setosa", source="ana").status is FeedbackStatus.CREATED
    assert log.count_review() == 2
    assert case_id not in [c.record.id for c in log.list_review()]
    assert log.add_feedback(case_id, "virginica", source="bob").status.value == "correction"


def test_review_label_closes_an_unclaimed_case(log: PredictionLog) -> None:
    ids = _queue(log)
    log.add_feedback(ids[1], "setosa")
    assert [c.record.id for c in log.list_review()] == [ids[0], ids[2]]
    # the messages reach the CLI and HTTP faces: no Python name in them
    with pytest.raises(
        FeedbackError, match=r"is already labelled and closed.*prudent review label"
    ):
        log.claim(ids[1], "ana")


def test_review_release(log: PredictionLog) -> None:
    case_id = _queue(log)[0]
    log.claim(case_id, "ana")
    with pytest.raises(
        FeedbackConflictError, match=r"claimed by 'ana', not 'bob'.*administrator forcing"
    ):
        log.release(case_id, "bob")
    log.release(case_id, "ana")
    assert log.list_review()[0].claimed_by is None
    log.release(case_id, "ana")  # releasing an unheld case is harmless
    log.claim(case_id, "bob")
    log.release(case_id, "admin", force=True)
    assert log.claim(case_id, "carol").claimed_by == "carol"
    log.add_feedback(case_id, "setosa", source="carol")
    log.release(case_id, "dave")  # a closed case: nothing to release


def test_review_claim_outside_the_queue_is_refused(log: PredictionLog) -> None:
    accepted = make_record()
    log.write([accepted])
    with pytest.raises(FeedbackError, match="not drawn for the audit sample\\): only deferred and"):
        log.claim(accepted.id, "ana")
    with pytest.raises(FeedbackError, match="not in the review queue"):
        log.release(accepted.id, "ana")
    with pytest.raises(UnknownPredictionError):
        log.claim("ghost", "ana")
    with pytest.raises(FeedbackError, match="reviewer must be a non-empty string of at most 128"):
        log.claim(accepted.id, "x" * 129)


# -- labelled predictions ------------------------------------------------------------------------
def test_labelled_predictions_joins_latest_label_to_inputs(log: PredictionLog) -> None:
    records = [
        make_record(created_at=_at(i), inputs={"x": float(i), "y": "s"}, model_version=f"v{i % 2}")
        for i in range(4)
    ]
    log.write(records)
    log.add_feedback(records[3].id, "b")
    log.add_feedback(records[1].id, "a")
    log.add_feedback(records[1].id, "c")
    frame = log.labelled_predictions()
    assert list(frame.columns) == [*META_COLUMNS, "x", "y"]
    assert frame["prediction_id"].tolist() == [records[1].id, records[3].id]
    assert frame["label"].tolist() == ["c", "b"]
    assert frame["x"].tolist() == [1.0, 3.0]
    assert frame["created_at"].tolist() == [_at(1), _at(3)]
    assert str(frame["created_at"].dtype) == "datetime64[us, UTC]"
    assert log.labelled_predictions(since=_at(2))["x"].tolist() == [3.0]
    assert log.labelled_predictions(until=_at(2))["x"].tolist() == [1.0]
    assert log.labelled_predictions(model_version="v0").empty
    raw = log.labelled_predictions(expand_inputs=False)
    assert raw["inputs"].tolist() == [{"x": 1.0, "y": "s"}, {"x": 3.0, "y": "s"}]


def test_labelled_predictions_empty_has_the_columns(log: PredictionLog) -> None:
    frame = log.labelled_predictions()
    assert isinstance(frame, pd.DataFrame)
    assert (list(frame.columns), len(frame)) == (list(META_COLUMNS), 0)


def test_labelled_predictions_refuses_clashing_input_names(log: PredictionLog) -> None:
    record = make_record(inputs={"label": 1.0})
    log.write([record])
    log.add_feedback(record.id, "a")
    with pytest.raises(StoreError, match=r"column\(s\) \['label'\].*expand_inputs=False"):
        log.labelled_predictions()
    assert log.labelled_predictions(expand_inputs=False)["inputs"][0] == {"label": 1.0}


# -- health and lifecycle ------------------------------------------------------------------------
def test_integrity_check_and_ping_on_a_sound_log(log: PredictionLog) -> None:
    log.write([make_record() for _ in range(10)])
    log.ping()
    log.flush()
    assert log.integrity_check() == []


def test_closed_log_refuses_every_call(open_log: Callable[..., PredictionLog]) -> None:
    with open_log() as log:
        log.write([make_record()])
    log.close()  # closing twice is harmless
    calls: list[Callable[[], object]] = [
        lambda: log.write([make_record()]),
        lambda: log.get("x"),
        log.count,
        log.flush,
        log.ping,
        log.list_review,
        lambda: log.add_feedback("x", "a"),
    ]
    for call in calls:
        with pytest.raises(StoreError, match="is closed; open a new one"):
            call()
