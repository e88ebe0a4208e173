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


def print_alerts(
    console: Console, evaluation: Evaluation, rules: list[RuleSpec], rates: list[FalseAlarmRate]
) -> None:
    """Print one line per rule: its settings, state, last value and expected false alarms."""
    from prudent.monitor import duration_label

    note = "" if evaluation.evaluated else f" (evaluated by {evaluation.holder}; stored states)"
    rows = [
        (spec.name, _threshold(spec, state), duration_label(spec.window), duration_label(spec.for_),
         state.state, _value(state), _rate(rate))
        for spec, state, rate in zip(rules, evaluation.states, rates, strict=True)
    ]  # fmt: skip
    columns = ("rule", "threshold", "window", "for", "state", "value [95%]", "false alarms")
    print_table(console, f"Alerts at {evaluation.at:%Y-%m-%dT%H:%M:%SZ}{note}", columns, rows)
    if not evaluation.evaluated:
        console.print(not_evaluated_note(evaluation.holder))
    for message in evaluation.sent:
        console.print(f"ALERT {message['status']} {message['rule']} ({message['window']})")


def alerts_json(
    evaluation: Evaluation, rules: list[RuleSpec], rates: list[FalseAlarmRate] | None
) -> dict[str, Any]:
    """Return the evaluation as JSON data: every rule with its state, and what was sent."""
    from prudent.monitor import alert_dict

    replays: list[FalseAlarmRate | None] = list(rates) if rates else [None] * len(rules)
    return {
        "at": evaluation.at.isoformat(),
        "evaluated": evaluation.evaluated,
        "holder": evaluation.holder,
        "alerts": [alert_dict(spec, state, rate)
                   for spec, state, rate in zip(rules, evaluation.states, replays, strict=True)],
        "sent": list(evaluation.sent),
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
                console.print(f"{result.at:%Y-%m-%dT%H:%M:%SZ} {states}{who}")
                for message in result.sent:
                    console.print(f"ALERT {message['status']} {message['rule']} "
                                  f"({message['window']})")  # fmt: skip
            stop.wait(interval)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
