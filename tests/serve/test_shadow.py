"""Shadow scoring: every answered request is scored again by a second bundle, off the response
path; the answers are stored under the same ids, and a failing or slow shadow changes nothing."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prudent.bundle import Bundle
from prudent.models import Predictions
from prudent.serve import Predictor, ServeMetrics, Shadow, ShadowOptions
from prudent.store import ShadowLog, SqlPredictionLog
from tests.serve._bundles import input_rows


def _value(metrics: ServeMetrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value("prudent_shadow_rows_total", {"outcome": outcome})
    return 0.0 if value is None else value


_Answer = tuple[pd.DataFrame, list[str], float]


def _serve(predictor: Predictor, batches: list[pd.DataFrame]) -> list[_Answer]:
    """Each batch's answer (without its ids), its ids, and how long it took."""

    async def ask() -> list[_Answer]:
        out = []
        for rows in batches:
            start = time.perf_counter()
            batch = await predictor.predict_records(rows)
            answer = batch.frame.drop(columns="prediction_id")
            out.append((answer, batch.ids, time.perf_counter() - start))
        return out

    return asyncio.run(ask())


def test_shadow_stores_its_answers_under_the_served_ids_and_changes_no_answer(
    numeric_bundle: Bundle, baseline_bundle: Bundle, tmp_path: Path
) -> None:
    batches = [input_rows("numeric", 8, seed=s) for s in range(5)]
    with SqlPredictionLog.open(tmp_path / "plain.db") as log:
        plain = _serve(Predictor(numeric_bundle, log), batches)
    url = f"sqlite:///{tmp_path / 'log.db'}"
    metrics = ServeMetrics()
    with SqlPredictionLog.open(url) as log, ShadowLog.open(url) as store:
        predictor = Predictor(numeric_bundle, log, metrics=metrics)
        predictor.shadow = Shadow(baseline_bundle, store.write, metrics)
        shadowed = _serve(predictor, batches)
        predictor.shadow.close()
        ids = [i for _, batch_ids, _ in shadowed for i in batch_ids]
        log.add_feedback_many([(i, 1) for i in ids])
        pairs = store.labelled_pairs()
    for (a, _, _), (b, _, _) in zip(plain, shadowed, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert _value(metrics, "scored") == 40
    assert sorted(p.champion.prediction_id for p in pairs) == sorted(ids)
    assert {(p.champion.model_version, p.shadow.model_version) for p in pairs} == {
        (numeric_bundle.version, baseline_bundle.version)
    }
    # the stored answer is the shadow bundle's own answer to the row
    expected = baseline_bundle.predictions(pd.concat(batches, ignore_index=True))
    by_row = {p.champion.prediction_id: p.shadow for p in pairs}
    got = np.array([[by_row[i].probabilities[str(c)] for c in expected.classes] for i in ids])
    np.testing.assert_allclose(got, expected.probabilities, rtol=1e-9)


def _raising(_frame: pd.DataFrame) -> Predictions:
    raise RuntimeError("the shadow model broke")


def test_failing_shadow_never_fails_a_response_and_is_counted_and_said_once(
    numeric_bundle: Bundle, baseline_bundle: Bundle, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    metrics = ServeMetrics()
    batches = [input_rows("numeric", 4, seed=s) for s in range(6)]
    with SqlPredictionLog.open(tmp_path / "log.db") as log:
        predictor = Predictor(numeric_bundle, log, metrics=metrics)
        written: list[object] = []
        predictor.shadow = Shadow(
            baseline_bundle, written.extend, metrics, score=_raising,
            options=ShadowOptions(queue_size=100),
        )  # fmt: skip
        with caplog.at_level(logging.WARNING, logger="prudent.serve"):
            answers = _serve(predictor, batches)
            predictor.shadow.close()
    assert [len(a) for a, _, _ in answers] == [4] * 6
    assert _value(metrics, "failed") == 24 and _value(metrics, "scored") == 0
    assert written == []
    said = [r.getMessage() for r in caplog.records if "Shadow" in r.getMessage()]
    assert len(said) == 1, said  # once a minute per outcome, not once per request
    assert "not compared (failed): RuntimeError: the shadow model broke" in said[0]


def test_slow_shadow_neither_slows_responses_nor_holds_more_than_its_queue(
    numeric_bundle: Bundle, baseline_bundle: Bundle, tmp_path: Path
) -> None:
    def sleepy(frame: pd.DataFrame) -> Predictions:
        time.sleep(1.0)
        return baseline_bundle.predictions(frame)

    metrics = ServeMetrics()
    batches = [input_rows("numeric", 4, seed=s) for s in range(10)]
    with SqlPredictionLog.open(tmp_path / "log.db") as log:
        predictor = Predictor(numeric_bundle, log, metrics=metrics)
        written: list[object] = []
        options = ShadowOptions(timeout_ms=100, queue_size=1)
        predictor.shadow = Shadow(baseline_bundle, written.extend, metrics, score=sleepy,
                                  options=options)  # fmt: skip
        answers = _serve(predictor, batches)
        predictor.shadow.close(timeout_s=10)
    slowest = max(seconds for _, _, seconds in answers)
    assert slowest < 0.5, f"a response took {slowest:.2f} s while the shadow slept 1 s a batch"
    assert written == [] and _value(metrics, "scored") == 0
    dropped, late = _value(metrics, "queue_full"), _value(metrics, "timeout")
    assert dropped > 0 and late > 0
    assert dropped + late == 40  # every row accounted for, none waited for


def test_shadow_skips_requests_its_own_version_answered(
    baseline_bundle: Bundle, tmp_path: Path
) -> None:
    metrics = ServeMetrics()
    with SqlPredictionLog.open(tmp_path / "log.db") as log:
        predictor = Predictor(baseline_bundle, log, metrics=metrics)
        written: list[object] = []
        predictor.shadow = Shadow(baseline_bundle, written.extend, metrics)
        _serve(predictor, [input_rows("numeric", 3)])
        predictor.shadow.close()
    assert written == [] and metrics.registry.get_sample_value("prudent_shadow_rows_total") is None
