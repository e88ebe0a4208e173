"""Promotion through the gate: compare, write the report, then move the champion or refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from prudent.bundle import load
from prudent.errors import RegistryError
from prudent.report import Html, Section, esc, page, table
from prudent.retrain._gate import GateResult, run_gate
from prudent.retrain._gate_checks import GateOptions
from prudent.retrain._interface import check_compatible
from prudent.retrain._records import Event
from prudent.retrain._registry import CHAMPION, Registry

__all__ = ["GateRefused", "gate_report", "promote_gated"]


class GateRefused(RegistryError):
    """The gate refused a promotion; ``result`` holds the comparisons, ``report`` the page."""

    def __init__(self, message: str, result: GateResult, report: Path) -> None:
        super().__init__(message)
        self.result = result
        self.report = report


def gate_report(result: GateResult) -> str:
    """The gate's HTML page, in the style of the fit report."""
    verdict = "passes" if result.passed else "is refused"
    header = Html(
        f"<h1>Promotion gate: {esc(result.challenger)} vs {esc(result.champion)}</h1>"
        f'<p class="meta">{esc(datetime.now(UTC).isoformat(timespec="seconds"))}</p>'
    )
    rows = [
        (c.name, c.rows, c.verdict, _num(c.champion), _num(c.challenger), c.detail)
        for c in result.checks
    ]
    columns = ("check", "rows", "verdict", result.champion, result.challenger, "figures")
    sections = [
        Section(
            "verdict", "Verdict", f"{result.challenger} {verdict}: {result.reason()}.",
            body=[table(columns, rows)],
            banners=[] if result.passed else ["Promotion refused: the champion stays."],
        ),
        Section(
            "rule", "The rule",
            "Promote only when the challenger is worse on no check and better on at least one.",
            body=[_notes(result.notes)],
        ),
    ]  # fmt: skip
    return page(f"Gate {result.challenger} vs {result.champion}", header, sections, "prudent")


def _notes(notes: list[str]) -> Html:
    items = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return Html(f'<ul class="notices">{items}</ul>')


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def promote_gated(
    registry: Registry,
    ref: str,
    *,
    by: str,
    reason: str = "",
    log_url: str | None = None,
    ood: pd.DataFrame | None = None,
    options: GateOptions | None = None,
) -> tuple[Event, GateResult, Path]:
    """Run the gate of version ``ref`` against the champion; promote it when it passes.

    The HTML report is written to ``DIR/gate/<challenger>-vs-<champion>.html`` either way.

    Raises
    ------
    GateRefused
        The challenger is worse on a check or better on none (the message says which).
    RegistryError
        No champion, ``ref`` is unknown, or its target, classes or inputs differ from the
        champion's (the gate cannot compare them: only a forced promotion moves it).
    """
    current, target = registry.version(f"@{CHAMPION}"), registry.version(ref)
    check_compatible(current, target, CHAMPION)
    result = run_gate(
        load(current.path), load(target.path), names=(current.name, target.name),
        log_url=log_url, ood=ood, options=options,
    )  # fmt: skip
    folder = registry.root / "gate"
    folder.mkdir(exist_ok=True)
    report = folder / f"{target.name}-vs-{current.name}.html"
    report.write_text(gate_report(result), encoding="utf-8")
    if not result.passed:
        raise GateRefused(f"Refused: {result.reason()}. Report: {report}", result, report)
    why = reason or f"gate passed: {result.reason()}"
    return registry.promote(target.name, by=by, reason=why), result, report
