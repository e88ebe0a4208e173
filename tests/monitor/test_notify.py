"""Webhook delivery to a real local HTTP receiver: one message per firing, one per resolve."""

from __future__ import annotations

from typing import Any

import pytest

from prudent.errors import ConfigError
from prudent.monitor import AlertRule, evaluate_rules, notify_incidents
from tests.monitor.receiver import Receiver


class _Window:
    def __init__(self, key: str, on: bool) -> None:
        self.key, self.on, self.n = key, on, 1000


def _incidents(flags: list[bool]) -> list[Any]:
    rule = AlertRule("burst", lambda w: w.on)  # type: ignore[attr-defined]
    windows = [_Window(f"w{i}", on) for i, on in enumerate(flags)]
    return evaluate_rules([rule], windows)  # type: ignore[arg-type]


def test_an_incident_is_sent_once_firing_and_once_resolved(receiver: Receiver, tmp_path) -> None:
    state = tmp_path / "alerts.json"
    firing = _incidents([False, True, True])
    assert len(notify_incidents(firing, receiver.url, state_file=state)) == 1
    assert notify_incidents(firing, receiver.url, state_file=state) == []  # the next run
    resolved = _incidents([False, True, True, False])
    assert len(notify_incidents(resolved, receiver.url, state_file=state)) == 1
    assert notify_incidents(resolved, receiver.url, state_file=state) == []
    assert [(m["status"], m["rule"], m["fired"], m["resolved"]) for m in receiver.received] == [
        ("firing", "burst", "w1", None),
        ("resolved", "burst", "w1", "w3"),
    ]
    assert receiver.received[1]["windows"] == ["w1", "w2"]


def test_a_failing_webhook_is_retried_with_backoff(receiver: Receiver) -> None:
    receiver.fail_first = 2
    sent = notify_incidents(_incidents([True, False]), receiver.url, backoff=0.01)
    assert [m["status"] for m in sent] == ["firing", "resolved"]
    assert [m["status"] for m in receiver.received] == ["firing", "resolved"]


def test_notify_refuses_a_url_that_is_not_http(tmp_path) -> None:
    with pytest.raises(ConfigError, match="must start with http:// or https://"):
        notify_incidents([], "ftp://example.org/hook")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="is not readable JSON"):
        notify_incidents([], "http://127.0.0.1:9/hook", state_file=tmp_path / "bad.json")
