"""alerts.yaml: the shipped defaults, a user file overriding them, errors naming the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from prudent.errors import ConfigError
from prudent.monitor import MEASURES, Promises, load_rules

PROMISES = Promises(0.8, 0.9, 0.1, ood_rate=0.02, accept_rate=0.8)
REQUIRED = {
    "confidence_drift": "confidence_drift",
    "ood_rate_spike": "ood_rate",
    "accept_rate_drop": "accept_rate",
    "high_confidence_error_rate_above_promise": "high_confidence_error_rate",
    "realised_accuracy_below_promise": "realised_accuracy",
    "expected_accuracy_below_promise": "expected_accuracy",
    "log_write_failures": "log_write_failures",
}


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alerts.yaml"
    path.write_text(text)
    return path


def test_shipped_rules_cover_the_required_alerts_with_every_setting() -> None:
    rules = {r.name: r for r in load_rules()}
    assert {name: rules[name].measure for name in REQUIRED} == REQUIRED
    assert set(r.measure for r in rules.values()) <= set(MEASURES)
    high = rules["high_confidence_error_rate_above_promise"]
    assert high.threshold_for(PROMISES) == pytest.approx(0.1)
    assert rules["ood_rate_spike"].threshold_for(PROMISES) == pytest.approx(0.07)
    assert rules["accept_rate_drop"].threshold_for(PROMISES) == pytest.approx(0.7)
    assert rules["realised_accuracy_below_promise"].threshold_for(PROMISES) == 0.9
    assert rules["ood_rate_spike"].threshold_for(Promises(0.8, 0.9, 0.1)) is None  # no detector
    drift = rules["confidence_drift"]
    assert (drift.window, drift.min_sample, drift.for_) == (
        timedelta(hours=1), 200, timedelta(minutes=30),
    )
    assert drift.cooldown == timedelta(hours=1) and drift.repeat_interval == timedelta(hours=24)


def test_a_user_file_overrides_defaults_and_rules_key_by_key(tmp_path) -> None:
    path = _file(tmp_path, """
defaults:
  window: 10m
rules:
  ood_rate_spike:
    threshold: reference + 0.2
    labels: {team: ml}
  input_drift:
    enabled: false
  too_few_accepted:
    measure: accept_rate
    direction: below
    threshold: 0.5
    for: 90s
""")
    rules = {r.name: r for r in load_rules(path)}
    assert "input_drift" not in rules
    assert rules["ood_rate_spike"].threshold_for(PROMISES) == pytest.approx(0.22)
    assert rules["ood_rate_spike"].labels == {"team": "ml"}
    assert rules["ood_rate_spike"].window == timedelta(minutes=10)  # user default
    assert rules["log_write_failures"].window == timedelta(minutes=10)  # user defaults win
    assert rules["confidence_drift"].for_ == timedelta(minutes=30)  # shipped rule, not changed
    assert rules["too_few_accepted"].for_ == timedelta(seconds=90)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules:\n  ood_rate_spike:\n    windw: 1h\n",
         r"rules\.ood_rate_spike\.windw is not a rule key"),
        ("rules:\n  ood_rate_spike:\n    window: soon\n",
         r"rules\.ood_rate_spike\.window must be a duration"),
        ("rules:\n  mine:\n    threshold: 0.5\n", r"rules\.mine\.measure must be one of"),
        ("rules:\n  mine:\n    measure: ood_rate\n    threshold: promise\n",
         r"rules\.mine\.threshold: the measure 'ood_rate' has no promise value"),
        ("rules:\n  ood_rate_spike:\n    min_sample: -1\n", r"min_sample must be an integer >= 0"),
        ("defaults:\n  colour: red\n", r"defaults\.colour is not a rule key"),
        ("alerts: []\n", "must be a mapping with the keys 'defaults' and 'rules'"),
        ("rules: [\n", "cannot be read"),
    ],
)
def test_a_bad_user_file_names_the_key(tmp_path, text: str, message: str) -> None:
    path = _file(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_rules(path)
    assert str(path) in str(info.value)
