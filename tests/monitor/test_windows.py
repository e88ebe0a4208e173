"""Window figures computed in SQL agree with the same figures computed from the arrays."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from prudent.errors import ConfigError, StoreError
from prudent.metrics import ece_consistency_test, ece_from_confidence
from prudent.monitor import Estimate, NotEnoughData, WindowSpec, monitor_log
from prudent.store import PredictionRecord, SqlPredictionLog, normalise_url, predictions_table
from tests.monitor.conftest import (
    ACCEPT,
    SQL_BACKENDS,
    T0,
    labels_of,
    make_reference,
    make_stream,
    records,
    write_log,
)


@pytest.mark.parametrize("log_url", SQL_BACKENDS, indirect=True)
def test_monitor_log_day_windows_match_the_arrays(log_url: str) -> None:
    days = [make_stream(400, seed) for seed in (1, 2)]
    recs = [records(s, T0 + timedelta(days=d), timedelta(minutes=3)) for d, s in enumerate(days)]
    half = [np.arange(400) % 2 == 0, None]  # day 0: half labelled; day 1: all
    write_log(log_url, [(r, labels_of(r, s, m)) for r, s, m in zip(recs, days, half, strict=True)])
    report = monitor_log(log_url, make_reference(), window="day")
    assert [w.key for w in report.windows] == ["2024-03-01", "2024-03-02"]
    for w, s, mask in zip(report.windows, days, half, strict=True):
        lab = np.ones(400, bool) if mask is None else mask
        assert w.n == 400 and w.labelled == lab.sum()
        assert w.decisions["accept"].point == pytest.approx(np.mean(s.decision == "accept"))
        assert w.ood_rate.point == pytest.approx(s.is_ood.mean())
        assert w.mean_set_size.point == pytest.approx(s.set_size.mean())
        assert w.class_share["cat"].point == pytest.approx(np.mean(s.prediction == "cat"))
        for q, fig in w.confidence.items():
            assert isinstance(fig, Estimate)
            ordered, at = np.sort(s.confidence), q * (len(s.confidence) - 1)
            near = ordered[[int(np.floor(at)) - 1, int(np.ceil(at)) + 1]]  # one rank either side
            assert near[0] - 1 / 1500 <= fig.point <= near[1] + 1 / 1500
            assert fig.low <= fig.point <= fig.high
        acc = lab & (s.decision == "accept")
        assert w.accepted_accuracy.point == pytest.approx(s.correct[acc].mean())
        high = lab & (s.confidence >= ACCEPT)
        assert w.high_confidence_errors.point == pytest.approx(1 - s.correct[high].mean())
        assert w.coverage.point == pytest.approx(s.covered[lab].mean())
        ece = ece_from_confidence(s.confidence[lab], s.correct[lab])
        assert w.calibration.ece.point == pytest.approx(ece, abs=1e-9)
        p = ece_consistency_test(s.confidence[lab], s.correct[lab], n_resamples=500).p_value
        assert w.calibration.p_value == pytest.approx(p, abs=0.1)
        assert w.accuracy.expected.point == pytest.approx(
            s.confidence[s.decision == "accept"].mean()
        )


def test_monitor_log_cuts_hours_and_runs_of_predictions(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    s = make_stream(250, 3)
    write_log(url, [(records(s, T0, timedelta(minutes=1)), None)])
    ref = make_reference()
    by_hour = monitor_log(url, ref, window="hour")
    assert [w.n for w in by_hour.windows] == [60, 60, 60, 60, 10]
    by_rows = monitor_log(url, ref, window=WindowSpec.parse("100"))
    assert [(w.key, w.n) for w in by_rows.windows] == [
        ("rows 0-99", 100),
        ("rows 100-199", 100),
        ("rows 200-299", 50),
    ]
    last = by_hour.windows[-1]
    assert last.ood_rate == NotEnoughData(10, 30)
    assert last.drift == NotEnoughData(10, 100)
    assert last.accepted_accuracy == NotEnoughData(0, 30)
    assert last.calibration.p_value is None


def test_monitor_log_reads_the_latest_label_and_one_model_version(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    s = make_stream(100, 4)
    mine, other = records(s, T0, timedelta(seconds=1)), records(s, T0, timedelta(seconds=1), "v0")
    write_log(url, [(mine, labels_of(mine, s)), (other, None)])
    wrong = [(r.id, "dog" if s.label[i] == "cat" else "cat") for i, r in enumerate(mine)]
    write_log(url, [([], wrong)], bulk_labels=False)  # every label corrected to the wrong one
    window = monitor_log(url, make_reference(), window="day").windows[0]
    assert window.n == 100
    # the wrong label is in the set when the model was wrong, or when its set had both
    assert window.coverage.point == pytest.approx(np.mean(~s.correct | (s.set_size == 2)))
    accepted = s.decision == "accept"
    assert window.accepted_accuracy.point == pytest.approx(np.mean(~s.correct[accepted]))
    assert monitor_log(url, make_reference(), all_versions=True).windows[0].n == 200


def test_monitor_log_refuses_what_is_not_a_log(tmp_path) -> None:
    with pytest.raises(StoreError, match=r"No prediction log at '.*typo\.db'"):
        monitor_log(tmp_path / "typo.db", make_reference())
    assert not (tmp_path / "typo.db").exists()  # reading never creates the file
    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(StoreError, match="holds no prediction log"):
        monitor_log(tmp_path / "other.db", make_reference())
    with pytest.raises(ConfigError, match="window must be 'hour', 'day' or a number"):
        WindowSpec.parse("week")
    SqlPredictionLog.open(tmp_path / "log.db").close()
    assert monitor_log(tmp_path / "log.db", make_reference()).windows == ()


@pytest.mark.parametrize("log_url", SQL_BACKENDS, indirect=True)
def test_monitor_log_reads_the_stored_hour_as_it_reads_the_time(log_url: str) -> None:
    recs = _labelled_log(log_url, 300, 5, T0 + timedelta(minutes=50), timedelta(minutes=7))
    ref = make_reference()
    since, until = T0 + timedelta(hours=2, minutes=30), T0 + timedelta(days=1, hours=3)
    keyed = [monitor_log(log_url, ref, window=w, since=since, until=until) for w in ("hour", "day")]
    engine = sa.create_engine(normalise_url(log_url))
    unkeyed = sa.update(predictions_table).where(predictions_table.c.id == recs[150].id)
    with engine.begin() as connection:  # a row put in by other means: windows cut from the time
        connection.execute(unkeyed.values(hour=None))
    engine.dispose()
    cut = [monitor_log(log_url, ref, window=w, since=since, until=until) for w in ("hour", "day")]
    assert [w.key for w in keyed[0].windows][:2] == ["2024-03-01T02:00", "2024-03-01T03:00"]
    assert [w.key for w in keyed[1].windows] == ["2024-03-01", "2024-03-02"]
    assert keyed[0].windows[0].start == since + timedelta(minutes=5)  # the first row in range
    for a, b in zip(keyed, cut, strict=True):  # PostgreSQL may sum floats in another order
        floats = [
            (x, y)
            for x, y in zip(_leaves(a.windows), _leaves(b.windows), strict=True)
            if type(y) is float
        ]
        assert [x for x, _ in floats] == pytest.approx([y for _, y in floats], rel=1e-12)
        assert [x for x in _leaves(a.windows) if type(x) is not float] == [
            y for y in _leaves(b.windows) if type(y) is not float
        ]


def _labelled_log(
    log_url: str, n: int, seed: int, start: datetime, step: timedelta
) -> list[PredictionRecord]:
    """Log ``n`` rows of a generated stream from ``start``, one every ``step``, all labelled."""
    s = make_stream(n, seed)
    recs = records(s, start, step)
    write_log(log_url, [(recs, labels_of(recs, s))])
    return recs


def _leaves(value: Any) -> list[Any]:
    """Every number and text inside nested dataclasses, mappings and sequences, in order."""
    if dataclasses.is_dataclass(value):
        value = [getattr(value, f.name) for f in dataclasses.fields(value)]
    elif isinstance(value, Mapping):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list | tuple):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


@pytest.mark.parametrize("log_url", SQL_BACKENDS, indirect=True)
def test_monitor_log_runs_of_predictions_read_the_latest_labels(log_url: str) -> None:
    s = make_stream(300, 6)
    recs = records(s, T0, timedelta(minutes=1))
    wrong = [(r.id, "dog" if s.label[i] == "cat" else "cat") for i, r in enumerate(recs)]
    write_log(log_url, [(recs, labels_of(recs, s, np.arange(300) % 3 > 0))])
    write_log(log_url, [([], wrong[1::3])], bulk_labels=False)  # a third corrected to the wrong one
    ref = make_reference()
    day, run = (monitor_log(log_url, ref, window=w).windows[0] for w in ("day", "1000"))
    assert run.key == "rows 0-999" and run.n == day.n == 300 and run.labelled == day.labelled == 200
    for figure in ("accepted_accuracy", "high_confidence_errors", "coverage", "calibration"):
        assert getattr(run, figure) == getattr(day, figure), figure


@pytest.mark.parametrize("log_url", SQL_BACKENDS, indirect=True)
def test_monitor_log_histogram_of_a_whole_sample_is_the_query_s(log_url: str) -> None:
    _labelled_log(log_url, 900, 8, T0 + timedelta(minutes=20), timedelta(seconds=11))
    ref = make_reference()
    for window in ("hour", "day", "250"):  # the sample holds every row of a window, or does not
        counted = monitor_log(log_url, ref, window=window, drift_sample=2000).windows
        queried = monitor_log(log_url, ref, window=window, drift_sample=200).windows
        assert [w.confidence for w in counted] == [w.confidence for w in queried], window
        assert [w.calibration for w in counted] == [w.calibration for w in queried], window
