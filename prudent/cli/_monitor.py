"""``prudent monitor``: read the prediction log window by window against the bundle's reference."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from prudent._format import at_least
from prudent.cli._logdb import check_log_exists
from prudent.cli._monitor_alerts import alerts_json, print_alerts, watch_alerts

if TYPE_CHECKING:
    from collections.abc import Sequence

    from prudent.monitor import (
        AlertEvaluator,
        Figure,
        MonitorReport,
        Reference,
        RuleSpec,
        WindowSpec,
        WindowSummary,
    )

__all__ = ["monitor", "print_report", "register"]

Opt = typer.Option


def _fig(value: Figure, digits: int = 3) -> str:
    from prudent.monitor import NotEnoughData

    if isinstance(value, NotEnoughData):
        return f"n/a ({value.n}<{value.minimum})"
    return f"{value.point:.{digits}f} [{value.low:.{digits}f}, {value.high:.{digits}f}]"


def _drifted(w: WindowSummary) -> str:
    from prudent.monitor import NotEnoughData

    if w.drift is None or isinstance(w.drift, NotEnoughData):
        return "n/a" if w.drift is None else f"n/a ({w.drift.n}<{w.drift.minimum})"
    return ", ".join(w.drift.drifted) or "none"


def _estimate(w: WindowSummary) -> str:
    text = _fig(w.accuracy.expected)
    return text if w.accuracy.reliable else f"{text} UNRELIABLE"


def _table(report: MonitorReport) -> Table:
    p = report.reference.promises
    promise = (
        "no accuracy promised" if p.target_accuracy is None
        else f"promise: accepted accuracy ≥ {at_least(p.target_accuracy)}"
    )  # fmt: skip
    table = Table(
        title=f"Windows ({report.window.kind if report.window.size == 0 else report.window.size}"
        f"), {promise}",
        title_justify="left",
    )
    table.add_column("window", no_wrap=True)
    for name in ("n", "accept", "OOD", "conf p50", "set size", "labelled"):
        table.add_column(name)
    for name in ("accepted acc.", "expected acc.", "hi-conf errors", "ECE (p)", "coverage"):
        table.add_column(name)
    table.add_column("drifted")
    for w in report.windows:
        p_text = "" if w.calibration.p_value is None else f" p={w.calibration.p_value:.2f}"
        table.add_row(
            w.key, str(w.n), _fig(w.decisions["accept"]), _fig(w.ood_rate),
            _fig(w.confidence[0.5]), _fig(w.mean_set_size, 2), str(w.labelled),
            _fig(w.accepted_accuracy), _estimate(w), _fig(w.high_confidence_errors),
            _fig(w.calibration.ece) + p_text, _fig(w.coverage), _drifted(w),
        )  # fmt: skip
    return table


def print_report(console: Console, report: MonitorReport) -> None:
    """Print the windows' table and what stands out in them."""
    if not report.windows:
        console.print(f"No predictions of model {report.reference.model_version} in the log.")
        return
    console.print(_table(report))
    _details(console, report)


def _details(console: Console, report: MonitorReport) -> None:
    for w in report.windows:
        for reason in w.accuracy.reasons:
            console.print(f"{w.key}: expected accuracy unreliable: {reason}")
        drift = w.drift
        for s in getattr(drift, "series", ()):
            if s.drifted:
                console.print(
                    f"{w.key}: {s.name} drifted ({s.test} p={s.p_adjusted:.2g} after BH, "
                    f"{s.effect_name} {s.effect:.2f} ≥ {s.floor})"
                )
        for note in w.notes:
            console.print(f"{w.key}: {note}")


def _at(text: str | None) -> datetime | None:
    if text is None:
        return None
    from prudent.errors import ConfigError

    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(
            f"--at must be an ISO time such as 2024-03-01T12:00:00Z, but {text!r} was received."
        ) from exc
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def monitor(
    bundle: Annotated[Path, typer.Argument(help="Bundle directory of the served model.")],
    log_db: Annotated[
        str | None, Opt("--log-db", help="Prediction log URL (default: PRUDENT_LOG_DB's).")
    ] = None,
    window: Annotated[str, Opt(help="'hour', 'day' or a number of predictions.")] = "day",
    as_json: Annotated[bool, Opt("--json", help="Print JSON for scripts.")] = False,
    all_versions: Annotated[
        bool, Opt(help="Read every model version's predictions, not only this bundle's.")
    ] = False,
    alerts: Annotated[
        Path | None, Opt(help="Alert rules overriding the shipped alerts.yaml, key by key.")
    ] = None,
    webhook: Annotated[
        str | None, Opt(help="POST each alert here (once firing, once resolved), as JSON.")
    ] = None,
    watch: Annotated[
        bool, Opt(help="Keep evaluating the alert rules every --interval seconds (Ctrl-C stops).")
    ] = False,
    interval: Annotated[float, Opt(help="Seconds between evaluations with --watch.")] = 60.0,
    at: Annotated[
        str | None,
        Opt(
            help="Evaluate the alerts as if it were this UTC time (default: now): a what-if "
            "that stores no alert state and sends no notification, unless --apply."
        ),
    ] = None,
    apply: Annotated[
        bool,
        Opt(
            help="With --at: store the states and send the notifications as a real "
            "evaluation at that time would (replaying a past time)."
        ),
    ] = False,
) -> None:
    """Summarise the prediction log by window, with drift against the fit-time reference, and
    evaluate the alert rules (states kept in the log's database, one evaluator at a time).

    Exits 2 with one line when the log holds no prediction of the bundle (or the SQLite file
    is not there): nothing is evaluated, so a script can tell a wrong bundle or --log-db from
    a quiet log."""
    from prudent.bundle import load
    from prudent.config import Settings
    from prudent.monitor import Reference, WindowSpec, load_rules

    spec = WindowSpec.parse(window)  # before the (slow) bundle load
    rules = load_rules(alerts)
    when = _at(at)
    _check_options(watch, interval, when, apply)
    settings = Settings.load(log_db=log_db)
    check_log_exists(settings.log_db)
    model = load(bundle)
    _check_logged(settings.log_db, model.version, bundle)
    reference = Reference.from_bundle(model)
    evaluator = _evaluator(settings.log_db, reference, rules, webhook, when, interval, apply)
    try:
        if watch:
            watch_alerts(evaluator, interval, as_json)
            return
        once(settings.log_db, reference, spec, all_versions, evaluator, as_json)
    finally:
        evaluator.close()


def _check_options(watch: bool, interval: float, when: datetime | None, apply: bool) -> None:
    from prudent.errors import ConfigError

    if watch and not (interval > 0):
        raise ConfigError(f"--interval must be a number of seconds > 0, not {interval!r}.")
    if apply and when is None:
        raise ConfigError(
            "--apply stores and sends what an evaluation --at a given time finds, but no --at "
            "was given; leave --apply out (a run without --at stores and sends as usual)."
        )


def _check_logged(url: str, version: str, bundle: Path) -> None:
    """Refuse a log that holds no prediction of the bundle: its windows would be empty and its
    alerts would carry on the states of whichever model the log's evaluator last judged."""
    from prudent.errors import ConfigError
    from prudent.monitor import logged_versions
    from prudent.store import normalise_url

    counts = logged_versions(url)
    if counts.get(version):
        return
    held = ", ".join(f"{n:,} of model {v}" for v, n in list(counts.items())[:3])
    more = f" and {len(counts) - 3} other models" if len(counts) > 3 else ""
    raise ConfigError(
        f"The prediction log {normalise_url(url).render_as_string()} holds no prediction of "
        f"bundle {version} ('{bundle}'): "
        + (f"it holds {held}{more}" if counts else "it is empty")
        + "; pass the bundle `prudent serve` logs there, or the --log-db it logs to."
    )


def once(
    url: str, reference: Reference, spec: WindowSpec, all_versions: bool,
    evaluator: AlertEvaluator, as_json: bool,
) -> None:  # fmt: skip
    """Print the windows, evaluate the alert rules once and print them with their expected
    false-alarm rates (replayed over the bundle's reference rows)."""
    from prudent.monitor import evaluate_rules, false_alarm_rates, monitor_log, report_dict

    report = monitor_log(url, reference, window=spec, all_versions=all_versions)
    evaluation = evaluator.evaluate()
    rules = list(evaluator.rules)
    rates = false_alarm_rates(reference, rules)
    if as_json:
        length = {"hour": timedelta(hours=1), "day": timedelta(days=1)}.get(spec.kind)
        bound = [rule.bind(reference.promises, length) for rule in rules]
        incidents = evaluate_rules([r for r in bound if r is not None], report.windows)
        data = report_dict(report, incidents) | alerts_json(evaluation, rules, rates)
        typer.echo(json.dumps(data, indent=2, allow_nan=False))
        return
    console = Console(highlight=False, width=None if Console().is_terminal else 200)
    print_report(console, report)
    print_alerts(console, evaluation, rules, rates)


def _evaluator(
    url: str, reference: Reference, rules: Sequence[RuleSpec], webhook: str | None,
    when: datetime | None, interval: float, apply: bool,
) -> AlertEvaluator:  # fmt: skip
    from prudent.monitor import AlertEvaluator
    from prudent.store import utc_now

    ttl = timedelta(seconds=max(60.0, 3 * interval))
    clock = utc_now if when is None else (lambda: when)
    what_if = when is not None and not apply
    return AlertEvaluator(
        url, reference, rules, webhook=webhook, clock=clock, lease_ttl=ttl, what_if=what_if
    )


def register(app: typer.Typer) -> None:
    """Add the ``monitor`` command to ``app``."""
    app.command("monitor")(monitor)
