"""``prudent retune``: new decision thresholds for a fitted bundle, written as a new bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from prudent.errors import ConfigError

__all__ = ["register", "retune"]

Opt = typer.Option


def _destination(bundle: Path, out: Path | None) -> Path:
    target = out if out is not None else bundle.with_name(f"{bundle.name}-retuned")
    if target.resolve() == bundle.resolve():
        raise ConfigError(
            f"--out '{target}' is the bundle being retuned; a retune writes a new bundle, "
            "choose another directory."
        )
    if target.exists():
        raise ConfigError(
            f"--out '{target}' already exists; a retune writes a new bundle and replaces none: "
            "choose another --out, or remove that one first."
        )
    return target


def retune(
    bundle: Annotated[Path, typer.Argument(help="Bundle directory (left unchanged).")],
    target_accuracy: Annotated[
        float | None, Opt(help="Accuracy accepted predictions must reach.")
    ] = None,
    review_budget: Annotated[
        float | None, Opt(help="Instead of a target: largest share of rows sent to review.")
    ] = None,
    costs: Annotated[
        str | None,
        Opt(help="Cost matrix: rows = true class, columns = predicted, in class order."),
    ] = None,
    review_cost: Annotated[
        float | None, Opt(help="Cost of sending a case to review (with --costs).")
    ] = None,
    delta: Annotated[
        float | None,
        Opt(
            help="Allowed chance the promised accuracy or review share is missed (the fit's "
            "by default), with --target-accuracy or --review-budget."
        ),
    ] = None,
    out: Annotated[
        Path | None, Opt("--out", "-o", help="New bundle directory (default: BUNDLE-retuned).")
    ] = None,
) -> None:
    """Choose the decision thresholds again on the fit's held-out rows; write a new bundle."""
    from prudent._library import load

    target = _destination(bundle, out)
    retuned = load(bundle).retune(
        target_accuracy=target_accuracy,
        review_budget=review_budget,
        costs=costs,
        review_cost=review_cost,
        delta=delta,
    )
    retuned.save(target)
    console = Console(highlight=False, width=160)
    from prudent.cli._show import show_decisions

    show_decisions(console, retuned.manifest)
    console.print(f"[bold green]Retuned bundle written to[/] {target} (report: report.html)")


def register(app: typer.Typer) -> None:
    """Add the ``retune`` command to ``app``."""
    app.command("retune")(retune)
