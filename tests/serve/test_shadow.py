"""Shadow scoring in a process of its own: every answered request is scored again by a second
bundle, the answers are stored under the same ids, and a failing, crashed or stuck shadow
changes no response (real processes, real bundles, real databases)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prudent.bundle import Bundle
from prudent.serve import Predictor, ServeMetrics, Shadow, ShadowOptions
from prudent.store import ShadowLog, SqlPredictionLog
from tests._postgres import create_database
from tests.serve._bundles import input_rows


def _value(metrics: ServeMetrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value("prudent_shadow_rows_total", {"outcome": outcome})
    return 0.0 if value is None else value


def _restarts(metrics: ServeMetrics, reason: str) -> float:
    labels = {"reason": reason}
    value = metrics.registry.get_sample_value("prudent_shadow_restarts_total", labels)
    return 0.0 if value is None else value


def _until(condition: Callable[[], bool], timeout: float = 300.0) -> None:
    """Wait for ``condition`` (the first shadow process of a session imports prudent in the
    fork server: seconds of CPU, longer on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _stop_its_process(shadow: Shadow) -> int:
    """Stop (SIGSTOP) the shadow's process once it runs: alive, never answering; its pid."""
    _until(lambda: shadow.pid is not None)
    stuck = shadow.pid
    assert stuck is not None
    os.kill(stuck, signal.SIGSTOP)
    return stuck


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


@pytest.fixture(params=["sqlite", "postgresql"])
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A prediction log's database: a SQLite file (WAL), or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.db'}"
    return create_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def shadowed(
    numeric_bundle: Bundle, tmp_path: Path
) -> Iterator[Callable[..., tuple[Predictor, Shadow, ServeMetrics]]]:
    """Builds a predictor of ``numeric_bundle`` on a SQLite log with a shadow; closes both."""
    opened: list[tuple[SqlPredictionLog, Shadow]] = []

    def build(bundle: Bundle, **options: object) -> tuple[Predictor, Shadow, ServeMetrics]:
        url, metrics = f"sqlite:///{tmp_path / 'log.db'}", ServeMetrics()
        log = SqlPredictionLog.open(url)
        predictor = Predictor(numeric_bundle, log, metrics=metrics)
        shadow = Shadow(bundle, url, metrics, options=ShadowOptions(**options))  # type: ignore[arg-type]
        predictor.shadow = shadow
        opened.append((log, shadow))
        return predictor, shadow, metrics

    yield build
    for log, shadow in opened:
        shadow.close(timeout_s=10)
        log.close()


def test_shadow_stores_its_answers_under_the_served_ids_and_changes_no_answer(
    numeric_bundle: Bundle, baseline_bundle: Bundle, tmp_path: Path, log_url: str
) -> None:
    batches = [input_rows("numeric", 8, seed=s) for s in range(5)]
    with SqlPredictionLog.open(tmp_path / "plain.db") as log:
        plain = _serve(Predictor(numeric_bundle, log), batches)
    metrics = ServeMetrics()
    with SqlPredictionLog.open(log_url) as log, ShadowLog.open(log_url) as store:
        predictor = Predictor(numeric_bundle, log, metrics=metrics)
        options = ShadowOptions(timeout_ms=60_000)  # no loaded test machine reaches it
        shadow = predictor.shadow = Shadow(baseline_bundle, log_url, metrics, options=options)
        shadowed = _serve(predictor, batches)
        _until(lambda: shadow.pid is not None)
        pid = shadow.pid
        shadow.close()
        ids = [i for _, batch_ids, _ in shadowed for i in batch_ids]
        log.add_feedback_many([(i, 1) for i in ids])
        pairs = store.labelled_pairs()
    for (a, _, _), (b, _, _) in zip(plain, shadowed, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert _value(metrics, "scored") == 40
    assert pid is not None and pid != os.getpid() and _gone(pid)  # its own process, stopped
    assert sorted(p.champion.prediction_id for p in pairs) == sorted(ids)
    assert {(p.champion.model_version, p.shadow.model_version) for p in pairs} == {
        (numeric_bundle.version, baseline_bundle.version)
    }
    # the stored answer is the shadow bundle's own answer to the row
    expected = baseline_bundle.predictions(pd.concat(batches, ignore_index=True))
    by_row = {p.champion.prediction_id: p.shadow for p in pairs}
    got = np.array([[by_row[i].probabilities[str(c)] for c in expected.classes] for i in ids])
    np.testing.assert_allclose(got, expected.probabilities, rtol=1e-9)


def test_failing_shadow_never_fails_a_response_and_is_counted_and_said_once(
    numeric_bundle: Bundle, broken_bundle: Bundle, tmp_path: Path,
    shadowed: Callable[..., tuple[Predictor, Shadow, ServeMetrics]],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    batches = [input_rows("numeric", 4, seed=s) for s in range(6)]
    with SqlPredictionLog.open(tmp_path / "plain.db") as log:
        plain = _serve(Predictor(numeric_bundle, log), batches)
    predictor, shadow, metrics = shadowed(broken_bundle, queue_size=100)
    _until(lambda: shadow.pid is not None)
    pid = shadow.pid
    with caplog.at_level(logging.WARNING, logger="prudent.serve"):
        answers = _serve(predictor, batches)
        _until(lambda: _value(metrics, "failed") == 24)
    for (a, _, _), (b, _, _) in zip(plain, answers, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert _value(metrics, "scored") == 0
    assert (
        shadow.pid == pid
        and metrics.registry.get_sample_value("prudent_shadow_restarts_total") is None
    )  # a model that raises is not a process that died: it keeps scoring
    said = [r.getMessage() for r in caplog.records if "Shadow" in r.getMessage()]
    assert len(said) == 1, said  # once a minute per outcome, not once per request
    assert "not compared (failed): ValueError: " in said[0]
    with ShadowLog.open(f"sqlite:///{tmp_path / 'log.db'}") as store:
        assert store.counts() == []


def test_a_shadow_process_that_dies_is_started_again_and_responses_are_unaffected(
    baseline_bundle: Bundle, shadowed: Callable[..., tuple[Predictor, Shadow, ServeMetrics]],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    predictor, shadow, metrics = shadowed(baseline_bundle, timeout_ms=60_000)
    _until(lambda: shadow.pid is not None)
    first = shadow.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    _until(lambda: shadow.pid is None)
    batches = [input_rows("numeric", 4, seed=s) for s in range(5)]
    with caplog.at_level(logging.WARNING, logger="prudent.serve"):
        answers = _serve(predictor, batches)
        _until(lambda: _value(metrics, "scored") == 20)  # queued meanwhile, none lost
    assert [len(a) for a, _, _ in answers] == [4] * 5
    assert _restarts(metrics, "crashed") == 1
    assert shadow.pid not in (None, first)
    said = [r.getMessage() for r in caplog.records if "started again" in r.getMessage()]
    assert len(said) == 1 and "(crashed): it ended with exit code -9" in said[0], said


def test_a_stuck_shadow_is_killed_at_its_timeout_and_every_row_is_accounted_for(
    baseline_bundle: Bundle, shadowed: Callable[..., tuple[Predictor, Shadow, ServeMetrics]],
) -> None:  # fmt: skip
    predictor, shadow, metrics = shadowed(baseline_bundle, timeout_ms=300, queue_size=1)
    stuck = _stop_its_process(shadow)
    batches = [input_rows("numeric", 4, seed=s) for s in range(8)]
    answers = _serve(predictor, batches)
    assert [len(a) for a, _, _ in answers] == [4] * 8
    _until(lambda: _restarts(metrics, "timeout") == 1, timeout=30)  # killed, not waited for
    assert _gone(stuck)
    outcomes = ("scored", "timeout", "queue_full", "failed")
    _until(lambda: sum(_value(metrics, o) for o in outcomes) == 32)  # a new process scores
    assert _value(metrics, "timeout") >= 4 and _value(metrics, "queue_full") > 0
    assert _value(metrics, "failed") == 0


def test_a_stuck_shadow_is_killed_at_its_timeout_with_a_batch_larger_than_its_pipe(
    baseline_bundle: Bundle, shadowed: Callable[..., tuple[Predictor, Shadow, ServeMetrics]],
) -> None:  # fmt: skip
    predictor, shadow, metrics = shadowed(baseline_bundle, timeout_ms=300)
    stuck = _stop_its_process(shadow)  # never reads: sending a large batch would wait forever
    rows = pd.concat([input_rows("numeric", 500, seed=s) for s in (0, 1)], ignore_index=True)
    _serve(predictor, [rows])  # ~280 kB pickled
    _until(lambda: _restarts(metrics, "timeout") == 1, timeout=30)
    assert _value(metrics, "timeout") == 1000 and _gone(stuck)


def test_responses_never_wait_for_a_stuck_shadow_and_close_kills_it(
    baseline_bundle: Bundle, shadowed: Callable[..., tuple[Predictor, Shadow, ServeMetrics]],
) -> None:  # fmt: skip
    predictor, shadow, _ = shadowed(baseline_bundle, timeout_ms=60_000, queue_size=2)
    stuck = _stop_its_process(shadow)  # stuck for the whole test: it would be killed after 60 s
    answers = _serve(predictor, [input_rows("numeric", 3, seed=s) for s in range(6)])
    slowest = max(seconds for _, _, seconds in answers)
    assert slowest < 10.0, f"a response took {slowest:.2f} s: it waited for the shadow"
    start = time.monotonic()
    shadow.close(timeout_s=1.0)
    assert time.monotonic() - start < 15.0
    _until(lambda: _gone(stuck), timeout=5)


def test_shadow_skips_requests_its_own_version_answered(
    baseline_bundle: Bundle, tmp_path: Path
) -> None:
    metrics = ServeMetrics()
    url = f"sqlite:///{tmp_path / 'log.db'}"
    with SqlPredictionLog.open(url) as log:
        predictor = Predictor(baseline_bundle, log, metrics=metrics)
        predictor.shadow = Shadow(baseline_bundle, url, metrics)
        _serve(predictor, [input_rows("numeric", 3)])
        predictor.shadow.close()
    assert metrics.registry.get_sample_value("prudent_shadow_rows_total") is None


def test_shadow_needs_a_saved_bundle(numeric_bundle: Bundle, tmp_path: Path) -> None:
    unsaved = Bundle(numeric_bundle.model, numeric_bundle.manifest)
    with pytest.raises(ValueError, match="must be saved: its process loads it from disk"):
        Shadow(unsaved, tmp_path / "log.db", ServeMetrics())
