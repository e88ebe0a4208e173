"""The served model in a process of its own: the same answers as in process, batched or alone;
a killed or stuck process is replaced and every request is still answered; the model's own
errors reach the caller as they would in process (real processes, real bundles, real logs)."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import prudent
from prudent.bundle import Bundle
from prudent.errors import DataError
from prudent.serve import ModelProcess, Predictor, ServeMetrics, ServingOptions
from prudent.serve._model_process import ModelProcessLate
from prudent.serve._rows import Records
from prudent.store import SqlPredictionLog
from tests.serve._bundles import input_rows


def _until(condition: Callable[[], bool], timeout: float = 300.0) -> None:
    """Wait for ``condition`` (the first child of a session imports prudent in the fork
    server: seconds of CPU, longer on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.02)


def _sample(metrics: ServeMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def _running(predictor: Predictor) -> int:
    process = predictor.model_process
    assert process is not None
    _until(lambda: process.pid is not None)
    assert process.pid is not None
    return process.pid


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[..., tuple[Predictor, ServeMetrics]]]:
    """Builds predictors on a SQLite log with ``model_process`` on; closes them."""
    opened: list[tuple[Predictor, SqlPredictionLog]] = []

    def build(bundle: Bundle, **options: object) -> tuple[Predictor, ServeMetrics]:
        log = SqlPredictionLog.open(f"sqlite:///{tmp_path / f'log{len(opened)}.db'}")
        metrics = ServeMetrics()
        chosen = ServingOptions(**{"model_process": True, **options})  # type: ignore[arg-type]
        predictor = Predictor(bundle, log, options=chosen, metrics=metrics)
        opened.append((predictor, log))
        return predictor, metrics

    yield build
    for predictor, log in opened:
        predictor.close()
        log.close()


def _ask(predictor: Predictor, requests: list[pd.DataFrame | Records]) -> list[pd.DataFrame]:
    """Send ``requests`` at once (they batch together); each one's answer, without ids."""

    async def ask() -> list[pd.DataFrame]:
        batches = await asyncio.gather(*(predictor.predict_records(r) for r in requests))
        return [b.frame.drop(columns="prediction_id") for b in batches]

    return asyncio.run(ask())


def _in_process(
    served: Callable[..., tuple[Predictor, ServeMetrics]], bundle: Bundle, rows: pd.DataFrame
) -> pd.DataFrame:
    """The answer to ``rows`` of a predictor that scores ``bundle`` in process."""
    return _ask(served(bundle, model_process=False)[0], [rows])[0]


@pytest.mark.parametrize("kind", ["numeric", "mixed"])
def test_answers_equal_the_in_process_ones_batched_and_alone(
    kind: str, numeric_bundle: Bundle, mixed_bundle: Bundle,
    served: Callable[..., tuple[Predictor, ServeMetrics]],
) -> None:  # fmt: skip
    bundle = numeric_bundle if kind == "numeric" else mixed_bundle
    predictor, metrics = served(bundle)
    pid = _running(predictor)
    assert pid != os.getpid() and _sample(metrics, "prudent_model_process") == 1.0
    frames = [input_rows(kind, n, seed=n) for n in (1, 3, 5, 2)]
    columns = tuple(bundle.schema.feature_names)
    records = Records(
        [{str(k): v for k, v in r.items()} for r in frames[1].to_dict("records")], columns
    )
    got = _ask(predictor, [frames[0], records, frames[2], frames[3]])  # one batch, mixed kinds
    alone = _ask(predictor, [frames[2]])
    for answer, frame in zip(got + alone, [*frames, frames[2]], strict=True):
        pd.testing.assert_frame_equal(answer, _in_process(served, bundle, frame))
    assert predictor.model_process is not None and predictor.model_process.pid == pid


def test_a_killed_model_process_is_started_again_and_every_request_is_answered(
    numeric_bundle: Bundle, served: Callable[..., tuple[Predictor, ServeMetrics]],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    predictor, metrics = served(numeric_bundle)
    first = _running(predictor)
    os.kill(first, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    rows = input_rows("numeric", 4)
    with caplog.at_level(logging.WARNING, logger="prudent.serve"):
        answers = [_ask(predictor, [rows])[0] for _ in range(3)]
        second = _running(predictor)
    assert second != first
    assert _sample(metrics, "prudent_model_process_lost_total", reason="crashed") == 1.0
    assert _sample(metrics, "prudent_fallbacks_total", to="backup") == 1.0  # the lost call
    assert answers[0]["decision"].eq("backup").all()
    expected = _in_process(served, numeric_bundle, rows)
    for answer in answers[1:]:  # scored in process, then in the new child
        pd.testing.assert_frame_equal(answer, expected)
    pd.testing.assert_frame_equal(_ask(predictor, [rows])[0], expected)
    said = [r.getMessage() for r in caplog.records]
    assert any("was lost" in m and "exit code -9" in m for m in said), said
    assert any("is running again" in m for m in said), said


def test_a_late_model_process_is_waited_for_and_then_serves_again(
    numeric_bundle: Bundle, served: Callable[..., tuple[Predictor, ServeMetrics]],
) -> None:  # fmt: skip
    predictor, metrics = served(numeric_bundle, deadline_ms=1000.0, primary_share=0.4)
    slow = _running(predictor)
    os.kill(slow, signal.SIGSTOP)  # a batch slower than the deadline, as far as we can tell
    rows = input_rows("numeric", 2)
    start = time.monotonic()
    answer = _ask(predictor, [rows])[0]
    assert time.monotonic() - start < 5.0
    assert answer["decision"].eq("backup").all()  # the backup answered within the deadline
    assert _sample(metrics, "prudent_model_process") == 0.0
    expected = _in_process(served, numeric_bundle, rows)
    pd.testing.assert_frame_equal(_ask(predictor, [rows])[0], expected)  # scored in process
    os.kill(slow, signal.SIGCONT)  # it answers its late call: it serves again, not restarted
    process = predictor.model_process
    assert process is not None
    _until(lambda: process.pid == slow, timeout=30)
    pd.testing.assert_frame_equal(_ask(predictor, [rows])[0], expected)
    assert _sample(metrics, "prudent_model_process") == 1.0 and process.starts == 1
    assert _sample(metrics, "prudent_model_process_lost_total", reason="timeout") == 0.0


def test_a_hung_model_process_is_killed_at_its_bound_and_replaced(
    numeric_bundle: Bundle,
) -> None:
    told: list[tuple[bool, str | None]] = []
    process = ModelProcess(
        numeric_bundle, timeout_s=0.3, hung_s=1.5,
        on_change=lambda _, running, lost: told.append((running, lost)),
    )  # fmt: skip
    try:
        _until(lambda: process.pid is not None)
        hung = process.pid
        assert hung is not None
        os.kill(hung, signal.SIGSTOP)  # never answers
        rows = input_rows("numeric", 2)
        with pytest.raises(ModelProcessLate):
            process(rows)
        expected = numeric_bundle.predictions(rows).probabilities
        np.testing.assert_allclose(process(rows).probabilities, expected)  # in process
        _until(lambda: _zombie(hung), timeout=20)  # killed at 1.5 s, not waited for longer
        _until(lambda: process.pid not in (None, hung), timeout=60)
        assert (False, "timeout") in told and process.starts == 2
        np.testing.assert_allclose(process(rows).probabilities, expected)
    finally:
        process.close()


def _zombie(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" in status.read_text()
    except OSError:
        return True


def test_the_models_own_errors_cross_as_they_would_in_process(
    broken_bundle: Bundle, mixed_bundle: Bundle,
    served: Callable[..., tuple[Predictor, ServeMetrics]],
) -> None:  # fmt: skip
    apart, metrics = served(broken_bundle)
    _running(apart)
    inside, _ = served(broken_bundle, model_process=False)
    rows = input_rows("numeric", 3)
    [got], [expected] = _ask(apart, [rows]), _ask(inside, [rows])
    pd.testing.assert_frame_equal(got, expected)  # the same fallback, the same reason
    assert got["decision"].isin(["backup", "review"]).all()
    assert "ValueError" in str(got["reason"].iloc[0])
    assert _sample(metrics, "prudent_model_process_lost_total", reason="crashed") == 0.0
    process = apart.model_process
    assert process is not None
    with pytest.raises(ValueError):  # the model's own exception, not a wrapper
        process(rows)
    mixed, _ = served(mixed_bundle)
    _running(mixed)
    bad = input_rows("mixed", 2).assign(**{"sepal_length_(cm)": ["tall", "short"]})
    with pytest.raises(DataError):  # a caller's mistake stays one (a 4xx)
        asyncio.run(mixed.predict_records(bad))


def test_a_bundle_changed_on_disk_is_scored_in_process_and_said_once(
    numeric_bundle: Bundle, baseline_bundle: Bundle, tmp_path: Path,
    served: Callable[..., tuple[Predictor, ServeMetrics]], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    assert numeric_bundle.path is not None and baseline_bundle.path is not None
    folder = tmp_path / "bundle"
    shutil.copytree(numeric_bundle.path, folder)
    bundle = prudent.load(folder)
    shutil.rmtree(folder)
    shutil.copytree(baseline_bundle.path, folder)  # another version now lies there
    with caplog.at_level(logging.WARNING, logger="prudent.serve"):
        predictor, metrics = served(bundle)
        process = predictor.model_process
        assert process is not None
        _until(lambda: any("cannot start" in r.getMessage() for r in caplog.records))
        rows = input_rows("numeric", 3)
        answer = _ask(predictor, [rows])[0]
    pd.testing.assert_frame_equal(answer, _in_process(served, numeric_bundle, rows))
    said = [r.getMessage() for r in caplog.records if "cannot start" in r.getMessage()]
    assert len(said) == 1 and "not the" in said[0] and process.starts == 0
    assert _sample(metrics, "prudent_model_process") == 0.0


def test_a_swap_serves_the_new_bundle_from_a_new_process_and_stops_the_old_one(
    numeric_bundle: Bundle, baseline_bundle: Bundle,
    served: Callable[..., tuple[Predictor, ServeMetrics]],
) -> None:  # fmt: skip
    predictor, metrics = served(numeric_bundle)
    old = _running(predictor)
    predictor.swap(baseline_bundle)
    new = _running(predictor)
    assert new != old
    _until(lambda: _zombie(old), timeout=10)
    rows = input_rows("numeric", 3)
    pd.testing.assert_frame_equal(
        _ask(predictor, [rows])[0], _in_process(served, baseline_bundle, rows)
    )
    _until(lambda: _sample(metrics, "prudent_model_process") == 1.0, timeout=10)


def test_close_stops_the_process_and_later_calls_score_in_process(
    numeric_bundle: Bundle, served: Callable[..., tuple[Predictor, ServeMetrics]],
) -> None:  # fmt: skip
    predictor, _ = served(numeric_bundle)
    pid = _running(predictor)
    process = predictor.model_process
    assert process is not None
    process.close()
    assert process.pid is None
    _until(lambda: _zombie(pid), timeout=10)
    rows = input_rows("numeric", 2)
    probabilities = process(rows).probabilities
    np.testing.assert_allclose(probabilities, numeric_bundle.predictions(rows).probabilities)


def test_no_process_for_an_unsaved_bundle_or_a_given_primary(
    numeric_bundle: Bundle, served: Callable[..., tuple[Predictor, ServeMetrics]], tmp_path: Path
) -> None:
    unsaved = Bundle(numeric_bundle.model, numeric_bundle.manifest)
    assert served(unsaved)[0].model_process is None
    log = SqlPredictionLog.open(f"sqlite:///{tmp_path / 'given.db'}")
    given = Predictor(
        numeric_bundle, log, options=ServingOptions(model_process=True),
        primary=numeric_bundle.predictions,
    )  # fmt: skip
    assert given.model_process is None
    given.close()
    log.close()
    with pytest.raises(ValueError, match="save it first"):
        ModelProcess(unsaved, timeout_s=1.0)


def test_close_while_the_process_loads_does_not_wait_for_it(numeric_bundle: Bundle) -> None:
    process = ModelProcess(numeric_bundle, timeout_s=1.0)
    _until(lambda: process._starting is not None, timeout=30)  # loading now
    loading = process._starting
    assert loading is not None and loading.process.pid is not None
    os.kill(loading.process.pid, signal.SIGSTOP)  # it would never be ready: 300 s to wait
    start = time.monotonic()
    process.close()
    assert time.monotonic() - start < 5.0
    assert not loading.process.is_alive() and process.pid is None
    rows = input_rows("numeric", 2)
    np.testing.assert_allclose(
        process(rows).probabilities, numeric_bundle.predictions(rows).probabilities
    )


def test_a_batch_whose_process_died_is_not_scored_again_in_the_service(
    numeric_bundle: Bundle, served: Callable[..., tuple[Predictor, ServeMetrics]],
) -> None:  # fmt: skip
    predictor, metrics = served(numeric_bundle)
    dead = _running(predictor)
    os.kill(dead, signal.SIGKILL)  # as an input that crashes the model would
    _until(lambda: _zombie(dead), timeout=10)
    requests = [input_rows("numeric", n, seed=n) for n in (1, 2, 3)]
    answers = _ask(predictor, list(requests))  # one batch
    for answer, rows in zip(answers, requests, strict=True):
        assert len(answer) == len(rows)
        assert answer["decision"].eq("backup").all()  # not rerun in the service's process
    assert _sample(metrics, "prudent_model_process_lost_total", reason="crashed") == 1.0
    assert _sample(metrics, "prudent_fallbacks_total", to="backup") == 3.0
