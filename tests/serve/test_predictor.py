"""The serving core: same answers as the bundle, durable ids, limits, overload, deadline cascade."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from prudent.bundle import Bundle
from prudent.errors import (
    DeadlineExceededError,
    InputLimitError,
    OverloadedError,
    SchemaError,
    StoreError,
)
from prudent.models import Predictions
from prudent.serve import InputLimits, Predictor, ServeMetrics, ServingOptions
from prudent.store import InMemoryPredictionLog, SqlPredictionLog
from tests.serve._bundles import input_rows


def _value(metrics: ServeMetrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels or None)
    return 0.0 if value is None else value


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_predictor_answers_as_the_bundle_and_logs_every_row(
    numeric_bundle: Bundle, tmp_path: Path
) -> None:
    rows = input_rows("numeric", 40, seed=1)
    with SqlPredictionLog.open(f"sqlite:///{tmp_path / 'log.db'}") as log:
        predictor = Predictor(numeric_bundle, log)
        batch = _run(predictor.predict_records(rows))
        expected = numeric_bundle.predictions(rows).to_frame()  # the file form, as served
        pd.testing.assert_frame_equal(batch.frame.drop(columns="prediction_id"), expected)
        assert len(set(batch.ids)) == 40 and batch.fallback is None
        stored = log.get(batch.ids[7])
        assert stored.prediction == str(expected["prediction"][7])
        assert stored.inputs["mean_radius"] == pytest.approx(rows["mean_radius"][7])
        assert stored.model_version == numeric_bundle.version
        assert log.count() == 40
        predictor.close()


def test_predictor_counts_predictions_by_decision(numeric_bundle: Bundle) -> None:
    metrics = ServeMetrics()
    predictor = Predictor(numeric_bundle, InMemoryPredictionLog(), metrics=metrics)
    rows = input_rows("numeric", 30, seed=2)
    batch = _run(predictor.predict_records(rows))
    for decision, n in batch.frame["decision"].value_counts().items():
        assert _value(metrics, "prudent_predictions_total", decision=str(decision)) == n
    assert _value(metrics, "prudent_prediction_confidence_count") == 30


def test_predictor_refuses_too_many_rows_naming_the_field(numeric_bundle: Bundle) -> None:
    options = ServingOptions(limits=InputLimits(max_rows=5))
    predictor = Predictor(numeric_bundle, InMemoryPredictionLog(), options=options)
    with pytest.raises(InputLimitError, match="holds 6 rows, but at most 5") as info:
        _run(predictor.predict_records(input_rows("numeric", 6)))
    assert info.value.field == "records"  # type: ignore[attr-defined]


def test_predictor_refuses_an_extra_column(numeric_bundle: Bundle) -> None:
    predictor = Predictor(numeric_bundle, InMemoryPredictionLog())
    rows = input_rows("numeric", 2).assign(surprise=1.0)
    with pytest.raises(SchemaError, match="'surprise' is not an input") as info:
        _run(predictor.predict_records(rows))
    assert info.value.field == "surprise"


def test_predictor_refuses_infinity_and_long_strings(mixed_bundle: Bundle) -> None:
    options = ServingOptions(limits=InputLimits(max_string_chars=8))
    predictor = Predictor(mixed_bundle, InMemoryPredictionLog(), options=options)
    rows = input_rows("mixed", 2)
    with pytest.raises(SchemaError, match=r"'sepal_width_\(cm\)' holds an infinite") as info:
        _run(predictor.predict_records(rows.assign(**{"sepal_width_(cm)": [1.0, np.inf]})))
    assert info.value.field == "sepal_width_(cm)"
    with pytest.raises(InputLimitError, match="string of 9 characters, but at most 8"):
        _run(predictor.predict_records(rows.assign(petal_size="x" * 9)))


def test_predictor_passes_schema_errors_through_without_fallback(numeric_bundle: Bundle) -> None:
    metrics = ServeMetrics()
    predictor = Predictor(numeric_bundle, InMemoryPredictionLog(), metrics=metrics)
    rows = input_rows("numeric", 2).astype({"mean_area": object})
    rows.loc[1, "mean_area"] = "big"
    with pytest.raises(SchemaError, match=r"Column 'mean_area' should be numeric, but holds 'big'"):
        _run(predictor.predict_records(rows))
    assert _value(metrics, "prudent_fallbacks_total", to="backup") == 0


def _slow(seconds: float, bundle: Bundle) -> Any:
    def primary(frame: pd.DataFrame) -> Predictions:
        time.sleep(seconds)
        return bundle.predictions(frame)

    return primary


def _broken(frame: pd.DataFrame, *args: Any) -> Predictions:
    raise RuntimeError("model exploded")


@pytest.mark.parametrize("failure", ["slow", "broken"])
def test_predictor_falls_back_to_the_backup_within_the_deadline(
    numeric_bundle: Bundle, failure: str
) -> None:
    metrics = ServeMetrics()
    primary = _slow(2.0, numeric_bundle) if failure == "slow" else _broken
    options = ServingOptions(deadline_ms=1000)
    predictor = Predictor(
        numeric_bundle, InMemoryPredictionLog(), options=options, metrics=metrics, primary=primary
    )
    start = time.monotonic()
    batch = _run(predictor.predict_records(input_rows("numeric", 3)))
    assert time.monotonic() - start < 1.1  # the deadline plus 10%
    assert batch.fallback == "backup" and set(batch.frame["decision"]) == {"backup"}
    expected = "passed its deadline" if failure == "slow" else r"failed \(RuntimeError\)"
    assert batch.frame["reason"].str.contains(expected).all()
    assert _value(metrics, "prudent_fallbacks_total", to="backup") == 1
    assert _value(metrics, "prudent_predictions_total", decision="backup") == 3


def test_predictor_sends_rows_to_review_when_both_models_fail(numeric_bundle: Bundle) -> None:
    metrics = ServeMetrics()
    log = InMemoryPredictionLog()
    predictor = Predictor(
        numeric_bundle,
        log,
        metrics=metrics,
        primary=_broken,
        backup=_broken,
        options=ServingOptions(deadline_ms=300),
    )
    batch = _run(predictor.predict_records(input_rows("numeric", 2)))
    assert list(batch.frame["decision"]) == ["review", "review"]
    assert batch.frame["prediction"].isna().all()
    assert "backup model failed too" in batch.frame["reason"][0]
    assert log.count_review() == 2
    assert _value(metrics, "prudent_fallbacks_total", to="review") == 1


def test_predictor_refuses_at_once_when_every_slot_is_taken(numeric_bundle: Bundle) -> None:
    gate = threading.Event()

    def blocked(frame: pd.DataFrame) -> Predictions:
        gate.wait(5)
        return numeric_bundle.predictions(frame)

    options = ServingOptions(max_concurrency=1, queue_size=1, deadline_ms=3000)
    metrics = ServeMetrics()
    predictor = Predictor(
        numeric_bundle, InMemoryPredictionLog(), options=options, metrics=metrics, primary=blocked
    )
    rows = input_rows("numeric", 1)

    async def scenario() -> list[Any]:
        first = asyncio.create_task(predictor.predict_records(rows))
        second = asyncio.create_task(predictor.predict_records(rows))
        await asyncio.sleep(0.05)
        start = time.monotonic()
        with pytest.raises(OverloadedError, match="All 2 prediction slots are taken"):
            await predictor.predict_records(rows)
        assert time.monotonic() - start < 0.05
        gate.set()
        return list(await asyncio.gather(first, second))

    answers = _run(scenario())
    assert [len(a.frame) for a in answers] == [1, 1]
    assert _value(metrics, "prudent_overloaded_total") == 1


def test_predictor_times_out_a_request_that_waited_for_a_thread(numeric_bundle: Bundle) -> None:
    options = ServingOptions(max_concurrency=1, queue_size=4, deadline_ms=300)
    predictor = Predictor(
        numeric_bundle, InMemoryPredictionLog(), options=options, primary=_slow(0.5, numeric_bundle)
    )
    rows = input_rows("numeric", 1)

    async def scenario() -> list[Any]:
        first = asyncio.create_task(predictor.predict_records(rows))
        await asyncio.sleep(0.02)
        return list(
            await asyncio.gather(first, predictor.predict_records(rows), return_exceptions=True)
        )

    first, second = _run(scenario())
    assert first.fallback == "backup"
    assert isinstance(second, DeadlineExceededError)
    assert "waited 180 ms for a free thread" in str(second)


def test_predictor_reports_a_log_that_cannot_commit(numeric_bundle: Bundle) -> None:
    metrics = ServeMetrics()
    log = InMemoryPredictionLog()
    predictor = Predictor(numeric_bundle, log, metrics=metrics)
    log.close()
    with pytest.raises(StoreError):
        _run(predictor.predict_records(input_rows("numeric", 2)))
    assert _value(metrics, "prudent_log_write_failures_total") == 1


def test_predictor_health_follows_smoke_test_drain_and_log(numeric_bundle: Bundle) -> None:
    log = InMemoryPredictionLog()
    predictor = Predictor(numeric_bundle, log)
    assert predictor.health().reason == "the smoke prediction has not run yet"
    predictor.warm_up()
    assert predictor.health().ready
    predictor.drain()
    assert predictor.health().reason.startswith("draining")
    other = Predictor(numeric_bundle, log, primary=_broken)
    other.warm_up()
    assert "smoke prediction failed: RuntimeError: model exploded" in other.health().reason
    ok = Predictor(numeric_bundle, log)
    ok.warm_up()
    log.close()
    assert ok.health().reason.startswith("the prediction log is not writable")
