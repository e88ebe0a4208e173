"""Alert rules: a burst of high-confidence errors is one incident, fired and then resolved."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from prudent.errors import ConfigError
from prudent.monitor import AlertRule, Promises, default_rules, evaluate_rules, monitor_log
from tests.monitor.conftest import T0, labels_of, make_reference, make_stream, records, write_log

BURST = (3, 4, 5)


def test_a_burst_of_high_confidence_errors_is_one_incident(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    batches = []
    for day in range(9):
        s = make_stream(300, 500 + day, calibrated=day not in BURST)
        recs = records(s, T0 + timedelta(days=day), timedelta(minutes=4))
        batches.append((recs, labels_of(recs, s)))
    write_log(url, batches)
    reference = make_reference()
    promises = Promises(0.7, 0.85, 0.1, ood_rate=reference.promises.ood_rate)
    reference = dataclasses.replace(reference, promises=promises)
    windows = monitor_log(url, reference, window="day").windows
    incidents = evaluate_rules(default_rules(promises), windows)
    high = [i for i in incidents if i.rule == "high_confidence_error_rate_above_promise"]
    assert len(high) == 1
    assert high[0].fired == "2024-03-04" and high[0].resolved == "2024-03-07"
    assert high[0].windows == ("2024-03-04", "2024-03-05", "2024-03-06")
    assert {i.rule for i in incidents} <= {
        "high_confidence_error_rate_above_promise",
        "realised_accuracy_below_promise",
    }
    assert all(i.fired == "2024-03-04" for i in incidents)


def test_rules_wait_for_their_windows_and_cool_down() -> None:
    class W:
        def __init__(self, key: str, on: bool) -> None:
            self.key, self.on, self.n = key, on, 1000

    flags = [True, False, True, True, False, True, True, True]
    windows = [W(str(i), on) for i, on in enumerate(flags)]
    rule = AlertRule("flag", lambda w: w.on, for_windows=2, cooldown=2)  # type: ignore[attr-defined]
    incidents = evaluate_rules([rule], windows)  # type: ignore[arg-type]
    assert [(i.fired, i.resolved) for i in incidents] == [("3", "4")]
    rule = dataclasses.replace(rule, cooldown=0)
    incidents = evaluate_rules([rule], windows)  # type: ignore[arg-type]
    assert [(i.fired, i.resolved) for i in incidents] == [("3", "4"), ("6", None)]
    with pytest.raises(ConfigError, match="for_windows >= 1"):
        evaluate_rules([dataclasses.replace(rule, for_windows=0)], windows)  # type: ignore[arg-type]
