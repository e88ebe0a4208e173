"""``prudent retrain`` and ``prudent recalibrate``: a challenger from the labels that came back."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from prudent.cli._registry import By, Reason, who
from prudent.errors import ConfigError

if TYPE_CHECKING:
    from prudent.cli._console import RichReporter
    from prudent.retrain import Retrained

__all__ = ["register"]

Opt = typer.Option
LogDb = Annotated[
    str | None, Opt("--log-db", help="Prediction log URL (default: PRUDENT_LOG_DB's).")
]
Since = Annotated[
    str | None, Opt("--since", help="Only labels of predictions made at or after this date.")
]


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(
            f"--since {value!r} is not a date; give an ISO date such as 2026-01-31."
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _reporter() -> RichReporter:
    """Notices and bars on stderr, as ``prudent fit`` shows them; out of a terminal (a pipe,
    a log file) each notice stays on one line, whatever its length."""
    from rich.console import Console

    from prudent.cli._console import RichReporter

    terminal = Console(stderr=True).is_terminal
    return RichReporter(
        Console(
            stderr=True, highlight=False, width=None if terminal else 160, soft_wrap=not terminal
        )
    )


def _report(done: Retrained, seconds: float) -> None:
    """The result line on stdout (the notices went to stderr as they came)."""
    counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in done.counts.items())
    promote = "prudent registry promote DIR @challenger"
    then = (
        f"Check it, then promote it: {promote} --force (the gate cannot compare it)"
        if done.needs_force
        else f"Compare and promote it: {promote}"
    )
    typer.echo(
        f"Registered {done.version.name} as challenger (from {done.champion.name}; {counts}; "
        f"{seconds:.0f}s). {then}."
    )


def retrain_command(
    registry: Annotated[Path, Opt("--registry", help="The registry folder.")],
    log_db: LogDb = None,
    data: Annotated[
        Path | None,
        Opt("--data", help="The original training table (bundles do not keep it)."),
    ] = None,
    since: Since = None,
    time_limit: Annotated[
        float | None, Opt("--time-limit", help="Seconds for the fit (default: the champion's).")
    ] = None,
    by: By = None,
    reason: Reason = "",
) -> None:
    """Fit a challenger on the training table and the labelled feedback (the champion's spec)."""
    from prudent.config import Settings
    from prudent.retrain import Registry, retrain

    started = time.monotonic()
    url = Settings.load(log_db=log_db).log_db
    done = retrain(
        Registry(registry), url, by=who(by), data=data, since=_since(since), reason=reason,
        time_limit=time_limit, reporter=_reporter(),
    )  # fmt: skip
    _report(done, time.monotonic() - started)


def recalibrate_command(
    registry: Annotated[Path, Opt("--registry", help="The registry folder.")],
    log_db: LogDb = None,
    since: Since = None,
    by: By = None,
    reason: Reason = "",
) -> None:
    """Register the champion with a new calibrator and thresholds fitted on recent labels."""
    from prudent.config import Settings
    from prudent.retrain import Registry, recalibrate

    started = time.monotonic()
    url = Settings.load(log_db=log_db).log_db
    done = recalibrate(Registry(registry), url, by=who(by), since=_since(since), reason=reason)
    _report(done, time.monotonic() - started)


def register(app: typer.Typer) -> None:
    """Add ``retrain`` and ``recalibrate`` to ``app``."""
    app.command("retrain")(retrain_command)
    app.command("recalibrate")(recalibrate_command)
