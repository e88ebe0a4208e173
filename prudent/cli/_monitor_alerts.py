"""``prudent monitor``'s alerts: each rule's state beside its expected false-alarm rate, and
``--watch``, which evaluates them every few seconds until Ctrl-C."""

from __future__ import annotations

import json
import signal
import threading
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from prudent.cli._console import print_table

if TYPE_CHECKING:
    from prudent.monitor import AlertEvaluator, AlertState, Evaluation, FalseAlarmRate, RuleSpec

__all__ = ["alerts_json", "print_alerts", "watch_alerts"]


def _value(state: AlertState) -> str:
    seen = state.observation
    if seen is None:
        return "not evaluated"
    if seen.value is None or seen.low is None or seen.high is None:
        return seen.note or "no value"
    text = f"{seen.value:.3f} [{seen.low:.3f}, {seen.high:.3f}] n={seen.n}"
    return f"{text} ({seen.note})" if seen.note else text


def _rate(rate: FalseAlarmRate | None) -> str:
    if rate is None or rate.rate is None:
        return "n/a" if rate is None else "not replayed"
    return f"{rate.rate:.1%} of {rate.windows} windows of {rate.rows}"


def _threshold(spec: RuleSpec, state: AlertState) -> str:
    if state.threshold is None:
        return "n/a"
    side = ">" if spec.direction == "above" else "<"
    return "flag" if spec.measure.endswith("_drift") else f"{side} {state.threshold:.3f}"


def not_evaluated_note(holder: str | None) -> str:
    """Why a run's rules and webhook did nothing: another process evaluates the log's alerts.

    Examples
    --------
    >>> not_evaluated_note("vm:42:ab").startswith("Not evaluated here: vm:42:ab holds")
    True
    """
    return (
        f"Not evaluated here: {holder} holds the log's alert evaluator, so the states are its "
        "own, judged by its rules; --alerts and --webhook apply only where the rules are "
        "evaluated (for the service: PRUDENT_ALERTS, PRUDENT_ALERT_WEBHOOK)."
    )


def what_if_note(evaluation: Evaluation) -> str:
    """What a what-if evaluation (``--at``) did not do.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from prudent.monitor import Evaluation
    >>> at = datetime(2026, 12, 8, 12, tzinfo=UTC)
    >>> what_if_note(Evaluation(at, True, None, (), (), {}, what_if=True))[:60]
    'What-if at 2026-12-08T12:00:00Z (--at): no alert state store'
    """
    return (
        f"What-if at {evaluation.at:%Y-%m-%dT%H:%M:%SZ} (--at): no alert state stored, no "
        f"notification sent ({len(evaluation.sent)} would be); add --apply to store and send."
    )


def _sent_lines(evaluation: Evaluation) -> list[str]:
    """One line per notification delivered (or, what-if, that would be)."""
    from prudent.monitor import alert_line

    head = "WOULD SEND" if evaluation.what_if else "ALERT"
    return [f"{head} {alert_line(message)}" for message in evaluation.sent]


def print_alerts(
    console: Console, evaluation: Evaluation, rules: list[RuleSpec], rates: list[FalseAlarmRate]
) -> None:
    """Print one line per rule: its settings, state, last value and expected false alarms."""
    from prudent.monitor import duration_label

    note = "" if evaluation.evaluated else f" (evaluated by {evaluation.holder}; stored states)"
    note = " (what-if: not stored)" if evaluation.what_if else note
    rows = [
        (spec.name, _threshold(spec, state), duration_label(spec.window), duration_label(spec.for_),
         state.state, _value(state), _rate(rate))
        for spec, state, rate in zip(rules, evaluation.states, rates, strict=True)
    ]  # fmt: skip
    columns = ("rule", "threshold", "window", "for", "state", "value [95%]", "false alarms")
    print_table(console, f"Alerts at {evaluation.at:%Y-%m-%dT%H:%M:%SZ}{note}", columns, rows)
    if not evaluation.evaluated:
        console.print(not_evaluated_note(evaluation.holder))
    if evaluation.what_if:
        console.print(what_if_note(evaluation))
    for line in _sent_lines(evaluation):
        console.print(line)


def alerts_json(
    evaluation: Evaluation, rules: list[RuleSpec], rates: list[FalseAlarmRate] | None
) -> dict[str, Any]:
    """Return the evaluation as JSON data: every rule with its state, and what was sent."""
    from prudent.monitor import alert_dict

    replays: list[FalseAlarmRate | None] = list(rates) if rates else [None] * len(rules)
    sent = "would_send" if evaluation.what_if else "sent"
    return {
        "at": evaluation.at.isoformat(),
        "evaluated": evaluation.evaluated,
        "what_if": evaluation.what_if,
        "holder": evaluation.holder,
        "alerts": [alert_dict(spec, state, rate)
                   for spec, state, rate in zip(rules, evaluation.states, replays, strict=True)],
        sent: list(evaluation.sent),
    }  # fmt: skip


def watch_alerts(evaluator: AlertEvaluator, interval: float, as_json: bool) -> None:
    """Evaluate every ``interval`` seconds until Ctrl-C (or SIGTERM): one line (or one JSON
    line) per evaluation; the lease is given up on the way out."""
    stop = threading.Event()

    def interrupted(*_: object) -> None:
        # Ctrl-C stops the loop between evaluations; a KeyboardInterrupt raised inside one
        # could be swallowed by the database driver's clean-up (the loop ran on under CI
        # load), so only a second Ctrl-C interrupts an evaluation itself
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    previous_int = signal.signal(signal.SIGINT, interrupted)
    console = Console(highlight=False)
    rules = list(evaluator.rules)
    try:
        while not stop.is_set():
            result = evaluator.evaluate()
            if as_json:
                typer.echo(json.dumps(alerts_json(result, rules, None), allow_nan=False))
            else:
                states = ", ".join(f"{s.rule}={s.state}" for s in result.states
                                   if s.state != "inactive") or "all inactive"  # fmt: skip
                who = "" if result.evaluated else f" (evaluated by {result.holder})"
                who = " (what-if: not stored)" if result.what_if else who
                console.print(f"{result.at:%Y-%m-%dT%H:%M:%SZ} {states}{who}")
                for line in _sent_lines(result):
                    console.print(line)
            stop.wait(interval)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
