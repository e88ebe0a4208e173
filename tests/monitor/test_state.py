"""An alert's life: pending for `for`, firing once, repeated, resolved, cooling down."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from prudent.monitor import AlertState, Observation, RuleSpec
from prudent.monitor._state import due, step
from prudent.store import StoredAlert
from tests.monitor.conftest import T0

SPEC = RuleSpec(
    "r", "ood_rate", for_=timedelta(minutes=10), cooldown=timedelta(minutes=30),
    repeat_interval=timedelta(hours=1), labels={"severity": "page"},
)  # fmt: skip


def _run(
    flags: list[bool | None], every: timedelta = timedelta(minutes=5)
) -> list[tuple[str, str | None]]:
    state, out = AlertState("r"), []
    for i, flag in enumerate(flags):
        now = T0 + every * i
        state = step(SPEC, state, Observation("w", breaching=flag), now)
        owed = due(SPEC, state, now)
        if owed is not None:
            state = dataclasses.replace(state, sent=owed, last_sent_at=now)
        out.append((state.state, owed))
        back = AlertState.from_stored(StoredAlert(**vars(state.stored())))
        assert back == state  # what the store keeps round-trips
    return out


def test_a_rule_fires_after_for_and_resolves_once() -> None:
    got = _run([True, True, None, True, True, False, False])
    assert got == [
        ("pending", None), ("pending", None), ("pending", None),  # no evidence: no change
        ("firing", "firing"), ("firing", None), ("resolved", "resolved"), ("resolved", None),
    ]  # fmt: skip


def test_a_short_breach_never_fires_and_cooldown_holds_it_back() -> None:
    assert [s for s, _ in _run([True, False, True, False])] == ["pending", "inactive"] * 2
    flags = [True, True, True, False, True, True, True, True, True, True, True, True, True]
    got = _run(flags)
    fired = [i for i, (_, owed) in enumerate(got) if owed == "firing"]
    assert fired[0] == 2  # pending at 0, 10 min later it fires
    assert got[3] == ("resolved", "resolved")
    # resolved at 15 min: breaches from 20 min wait out the cooldown (until 45 min), then `for`
    assert fired[1] == 11


def test_a_firing_alert_is_repeated_after_the_repeat_interval() -> None:
    got = _run([True] * 16, every=timedelta(minutes=10))
    assert [i for i, (_, owed) in enumerate(got) if owed == "firing"] == [1, 7, 13]
