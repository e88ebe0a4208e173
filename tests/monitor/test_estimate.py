"""Accuracy before labels: agrees with the realised accuracy on an unshifted stream, and is marked
unreliable when the stream moves away from the reference."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from prudent.monitor import Estimate, NotEnoughData, monitor_log
from tests.monitor.conftest import T0, labels_of, make_reference, make_stream, records, write_log

DAYS = 10


def _log(tmp_path, **stream_options) -> str:
    tmp_path.mkdir(exist_ok=True)
    url = f"sqlite:///{tmp_path / 'log.db'}"
    batches = []
    for day in range(DAYS):
        s = make_stream(300, 100 + day, **stream_options)
        recs = records(s, T0 + timedelta(days=day), timedelta(minutes=4))
        batches.append((recs, labels_of(recs, s)))
    write_log(url, batches)
    return url


def test_expected_accuracy_agrees_with_realised_on_an_unshifted_stream(tmp_path) -> None:
    windows = monitor_log(_log(tmp_path), make_reference(), window="day").windows
    assert len(windows) == DAYS
    agree = 0
    for w in windows:
        est = w.accuracy
        assert est.reliable and est.reasons == ()
        assert isinstance(est.expected, Estimate) and isinstance(est.realised, Estimate)
        assert isinstance(est.gap, Estimate)
        gap = est.realised.point - est.expected_labelled.point  # type: ignore[union-attr]
        assert est.gap.point == pytest.approx(gap)
        agree += est.gap.contains(0.0) and est.expected.contains(est.realised.point)
    assert agree >= DAYS - 2  # 95% intervals: about one window in twenty falls outside


def test_expected_accuracy_is_unreliable_when_ood_rate_or_confidences_move(tmp_path) -> None:
    ood = monitor_log(_log(tmp_path / "a", ood_rate=0.3), make_reference(), window="day")
    for w in ood.windows:
        assert not w.accuracy.reliable
        assert w.accuracy.reasons[0].startswith("OOD rate 0.")
    shifted = _log(tmp_path / "b", conf_shift=0.15, calibrated=False)
    windows = monitor_log(shifted, make_reference(), window="day").windows
    for w in windows:
        assert not w.accuracy.reliable
        assert any(r.startswith("confidences drifted") for r in w.accuracy.reasons)
    wrong = sum(not w.accuracy.gap.contains(0.0) for w in windows)  # type: ignore[union-attr]
    assert wrong >= DAYS - 1  # the model is 20 points less accurate than it says


def test_expected_accuracy_says_not_enough_data_below_the_minimum(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    s = make_stream(20, 0)
    write_log(url, [(records(s, T0, timedelta(minutes=1)), None)])
    (w,) = monitor_log(url, make_reference(), window="day").windows
    accepted = int(np.sum(s.decision == "accept"))
    assert w.accuracy.expected == NotEnoughData(accepted, 30)
    assert w.accuracy.realised == NotEnoughData(0, 30)
    assert w.accuracy.gap == NotEnoughData(0, 30)
