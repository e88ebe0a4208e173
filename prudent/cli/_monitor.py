"""``prudent monitor``: read the prediction log window by window against the bundle's reference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from prudent.config import Settings

if TYPE_CHECKING:
    from prudent.monitor import Figure, MonitorReport, WindowSummary

__all__ = ["monitor", "register"]

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
    table = Table(
        title=f"Windows ({report.window.kind if report.window.size == 0 else report.window.size}"
        f"), promise: accepted accuracy ≥ {p.target_accuracy:.3f}",
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
    webhook: Annotated[
        str | None, Opt(help="POST each alert incident here (once firing, once resolved).")
    ] = None,
    alert_state: Annotated[
        Path, Opt(help="Remembers which incidents the webhook was sent.")
    ] = Path("prudent-alerts.json"),
) -> None:
    """Summarise the prediction log by window, with drift against the fit-time reference."""
    from prudent.bundle import load
    from prudent.monitor import (
        Reference,
        WindowSpec,
        default_rules,
        evaluate_rules,
        monitor_log,
        notify_incidents,
        report_dict,
    )

    spec = WindowSpec.parse(window)  # before the (slow) bundle load
    settings = Settings.load(log_db=log_db)
    reference = Reference.from_bundle(load(bundle))
    report = monitor_log(settings.log_db, reference, window=spec, all_versions=all_versions)
    incidents = evaluate_rules(default_rules(reference.promises), report.windows)
    if webhook is not None:
        sent = notify_incidents(incidents, webhook, state_file=alert_state)
        Console(stderr=True, highlight=False).print(f"{len(sent)} alert message(s) sent.")
    if as_json:
        typer.echo(json.dumps(report_dict(report, incidents), indent=2, allow_nan=False))
        return
    console = Console(highlight=False, width=None if Console().is_terminal else 200)
    if not report.windows:
        console.print(f"No predictions of model {reference.model_version} in the log.")
        return
    console.print(_table(report))
    _details(console, report)
    for i in incidents:
        end = "still firing" if i.resolved is None else f"resolved {i.resolved}"
        console.print(f"ALERT {i.rule}: fired {i.fired}, {end} ({len(i.windows)} window(s))")


def register(app: typer.Typer) -> None:
    """Add the ``monitor`` command to ``app``."""
    app.command("monitor")(monitor)
