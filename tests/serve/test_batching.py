"""Micro-batching: requests queued behind a busy model thread are scored in one call, and each
gets exactly what it would have got alone (its own rows, its own errors)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from prudent.api._inputs import record_inputs
from prudent.bundle import Bundle
from prudent.errors import SchemaError
from prudent.models import Predictions
from prudent.serve import Predictor, ServeMetrics, ServingOptions
from prudent.serve._batching import Batcher
from prudent.serve._served import Served
from prudent.store import InMemoryPredictionLog, utc_now
from tests.serve._bundles import input_rows


def _gated(bundle: Bundle) -> tuple[Any, threading.Event, list[int]]:
    """A primary path that holds its first call until the gate opens, recording call sizes."""
    gate, calls = threading.Event(), []

    def primary(frame: pd.DataFrame) -> Predictions:
        calls.append(len(frame))
        if len(calls) == 1:
            gate.wait(10)
        return bundle.predictions(frame)

    return primary, gate, calls


def _scenario(predictor: Predictor, first: pd.DataFrame, queued: list[pd.DataFrame]) -> Any:
    """Send ``first``, then ``queued`` while it computes; then open the gate."""

    async def run(gate: threading.Event) -> list[Any]:
        tasks = [asyncio.create_task(predictor.predict_records(first))]
        await asyncio.sleep(0.2)  # ``first`` holds the only model thread
        tasks += [asyncio.create_task(predictor.predict_records(f)) for f in queued]
        await asyncio.sleep(0.2)
        gate.set()
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    return run


def _assert_same(got: Predictions, alone: Predictions) -> None:
    """Decisions, labels, sets and reasons identical; numbers up to floating-point rounding (a
    matrix product of 5 rows and of 1 row may round the last bit differently)."""
    assert (
        got.to_frame()
        .drop(columns=_numbers(alone))
        .equals(alone.to_frame().drop(columns=_numbers(alone)))
    )
    np.testing.assert_allclose(got.probabilities, alone.probabilities, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.ood_score, alone.ood_score, rtol=1e-12, atol=1e-15)


def _numbers(p: Predictions) -> list[str]:
    return [c for c, t in p.to_frame().dtypes.items() if t == np.float64]


def _predictor(bundle: Bundle, primary: Any, metrics: ServeMetrics | None = None) -> Predictor:
    options = ServingOptions(max_concurrency=1, queue_size=16, deadline_ms=20_000)
    return Predictor(
        bundle, InMemoryPredictionLog(), options=options, primary=primary, metrics=metrics
    )


def test_queued_requests_are_scored_in_one_call_each_with_its_own_rows(
    mixed_bundle: Bundle,
) -> None:
    primary, gate, calls = _gated(mixed_bundle)
    metrics = ServeMetrics()
    predictor = _predictor(mixed_bundle, primary, metrics)
    queued = [input_rows("mixed", n, seed=n) for n in (1, 3, 2, 1)]
    answers = asyncio.run(_scenario(predictor, input_rows("mixed", 2), queued)(gate))
    assert calls == [2, 7]  # the first alone, the four queued ones together
    for frame, answer in zip(queued, answers[1:], strict=True):
        assert len(answer.ids) == len(frame) == len(set(answer.ids))
        _assert_same(answer.predictions, mixed_bundle.predictions(frame))
    every_id = [i for a in answers for i in a.ids]
    assert len(set(every_id)) == 9 == predictor.log.count()
    assert all(predictor.log.get(i).id == i for i in every_id)
    counted = sum(
        s.value
        for m in metrics.registry.collect()
        for s in m.samples
        if s.name == "prudent_predictions_total"
    )
    assert counted == 9


def test_a_bad_request_in_a_batch_gets_its_own_error_and_the_others_their_rows(
    mixed_bundle: Bundle,
) -> None:
    primary, gate, calls = _gated(mixed_bundle)
    predictor = _predictor(mixed_bundle, primary)
    bad = input_rows("mixed", 2, seed=7).astype(object)
    bad.loc[1, bad.columns[0]] = "not a number"
    queued = [input_rows("mixed", 2, seed=1), bad, input_rows("mixed", 1, seed=2)]
    answers = asyncio.run(_scenario(predictor, input_rows("mixed", 1), queued)(gate))
    assert calls == [1, 5, 2, 2, 1]  # the batch failed, then each request ran alone
    assert isinstance(answers[2], SchemaError)
    with pytest.raises(SchemaError) as alone:
        mixed_bundle.predictions(bad)
    assert str(answers[2]) == str(alone.value)
    for i in (1, 3):
        _assert_same(answers[i].predictions, mixed_bundle.predictions(queued[i - 1]))


def test_an_idle_predictor_scores_each_request_at_once(numeric_bundle: Bundle) -> None:
    calls: list[int] = []

    def primary(frame: pd.DataFrame) -> Predictions:
        calls.append(len(frame))
        return numeric_bundle.predictions(frame)

    predictor = _predictor(numeric_bundle, primary)
    for n in (1, 2):
        asyncio.run(predictor.predict_records(input_rows("numeric", n)))
    assert calls == [1, 2]


@pytest.mark.parametrize("threads", [1, 2])
def test_requests_the_event_loop_holds_together_are_scored_together(
    mixed_bundle: Bundle, threads: int
) -> None:
    # requests read from several sockets in one turn of the event loop reach the batcher one
    # after another; the first no longer starts alone before the others are queued
    calls: list[int] = []

    def primary(frame: pd.DataFrame) -> Predictions:
        calls.append(len(frame))
        return mixed_bundle.predictions(frame)

    options = ServingOptions(max_concurrency=threads, queue_size=16, deadline_ms=20_000)
    predictor = Predictor(mixed_bundle, InMemoryPredictionLog(), options=options, primary=primary)
    frames = [input_rows("mixed", n, seed=n) for n in (1, 2, 1, 3)]

    async def together() -> list[Any]:
        return list(await asyncio.gather(*(predictor.predict_records(f) for f in frames)))

    answers = asyncio.run(together())
    assert calls == [7]
    for frame, answer in zip(frames, answers, strict=True):
        _assert_same(answer.predictions, mixed_bundle.predictions(frame))


def test_a_second_thread_gathers_the_queue_while_a_batch_computes(mixed_bundle: Bundle) -> None:
    primary, gate, calls = _gated(mixed_bundle)
    options = ServingOptions(max_concurrency=2, queue_size=16, deadline_ms=20_000, gather_ms=150)
    predictor = Predictor(mixed_bundle, InMemoryPredictionLog(), options=options, primary=primary)
    queued = [input_rows("mixed", n, seed=n) for n in (1, 2, 1)]

    async def run() -> list[Any]:
        tasks = [asyncio.create_task(predictor.predict_records(input_rows("mixed", 2)))]
        await asyncio.sleep(0.2)  # the first call holds one thread and never ends by itself
        tasks += [asyncio.create_task(predictor.predict_records(f)) for f in queued]
        for _ in range(200):  # the other thread scores the queue without the first call
            await asyncio.sleep(0.05)
            if len(calls) == 2 and all(t.done() for t in tasks[1:]):
                break
        gate.set()
        return list(await asyncio.gather(*tasks))

    answers = asyncio.run(run())
    assert calls == [2, 4]  # the three queued requests gathered into one call
    for frame, answer in zip(queued, answers[1:], strict=True):
        _assert_same(answer.predictions, mixed_bundle.predictions(frame))


def test_the_batch_thread_builds_each_requests_log_records(mixed_bundle: Bundle) -> None:
    primary, gate, calls = _gated(mixed_bundle)
    stamped: list[str] = []

    def clock() -> Any:
        stamped.append(threading.current_thread().name)
        return utc_now()

    options = ServingOptions(max_concurrency=1, queue_size=16, deadline_ms=20_000)
    predictor = Predictor(
        mixed_bundle, InMemoryPredictionLog(), clock, options=options, primary=primary
    )
    queued = [input_rows("mixed", n, seed=n) for n in (1, 2)]
    answers = asyncio.run(_scenario(predictor, input_rows("mixed", 1), queued)(gate))
    assert calls == [1, 3]
    assert len(stamped) == 3 and all(name.startswith("prudent-primary") for name in stamped)
    assert predictor.log.count() == 4 == sum(len(a.ids) for a in answers)


def test_a_failing_finish_step_fails_only_its_own_request(numeric_bundle: Bundle) -> None:
    served = Served.of(numeric_bundle)
    with ThreadPoolExecutor(1) as pool:
        batcher = Batcher(pool, threads=1, max_rows=16)

        def broken(out: Predictions) -> Any:
            raise RuntimeError("no records")

        failed = batcher.submit(served, input_rows("numeric", 1), broken)
        ok = batcher.submit(served, input_rows("numeric", 2), lambda out: len(out))
        with pytest.raises(RuntimeError, match="no records"):
            failed.result(30)
        assert ok.result(30) == 2


def test_json_records_of_queued_requests_become_one_table_each_answered_as_alone(
    mixed_bundle: Bundle,
) -> None:
    # the JSON API hands the predictor its records; the batch makes one table of them on the
    # model's thread. A left-out field is a missing value, a field that is no input is not read
    calls: list[int] = []

    def primary(frame: pd.DataFrame) -> Predictions:
        calls.append(len(frame))
        return mixed_bundle.predictions(frame)

    predictor = _predictor(mixed_bundle, primary)
    tables = [input_rows("mixed", n, seed=n) for n in (1, 3, 2)]
    records = [t.to_dict("records") for t in tables]
    left_out = tables[1].columns[0]
    del records[1][0][left_out]
    tables[1].loc[0, left_out] = np.nan
    records[2][1]["not_an_input"] = "ignored"
    given = [record_inputs(r, mixed_bundle.schema)[0] for r in records]

    async def together() -> list[Any]:
        return list(await asyncio.gather(*(predictor.predict_records(g) for g in given)))

    answers = asyncio.run(together())
    assert calls == [6]
    for table, sent, answer in zip(tables, records, answers, strict=True):
        _assert_same(answer.predictions, mixed_bundle.predictions(table))
        # a request's rows and log records are sliced from the batch's: the same as its own
        fresh = replace(answer.predictions)
        assert answer.predictions.rows() == fresh.rows()
        assert answer.predictions.records() == fresh.records()
        logged = [predictor.log.get(i).inputs for i in answer.ids]
        inputs = mixed_bundle.schema.feature_names
        assert logged == [{name: row.get(name) for name in inputs} for row in sent]
    assert "not_an_input" not in logged[1]  # the last request's second record
    assert predictor.log.get(answers[1].ids[0]).inputs[left_out] is None
