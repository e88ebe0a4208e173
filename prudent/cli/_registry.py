"""``prudent registry``: versions of bundles, the champion and challenger aliases, and rollback."""

from __future__ import annotations

import getpass
import json
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from prudent.cli._console import print_table

if TYPE_CHECKING:
    from prudent.retrain import Event

__all__ = ["follow_champion", "register", "registry_app", "watch_burn_in", "who"]

Opt = typer.Option
Arg = typer.Argument
Dir = Annotated[Path, Arg(help="The registry folder.")]
By = Annotated[str | None, Opt("--by", help="Who makes the change (default: your login).")]
Reason = Annotated[str, Opt("--reason", help="Why, kept in the history.")]
Alias = Annotated[str, Opt("--alias", help="The alias to move.")]
AsJson = Annotated[bool, Opt("--json", help="Print JSON for scripts.")]

logger = logging.getLogger("prudent.cli")

registry_app = typer.Typer(
    name="registry",
    no_args_is_help=True,
    help="Bundle versions, the champion/challenger aliases, their history and rollback.",
)


def who(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _console() -> Console:
    return Console(highlight=False, width=None if Console().is_terminal else 160)


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, allow_nan=False))


def _moved(event: Event) -> str:
    forced = " (forced)" if event.forced else ""
    was = f" (was {event.previous})" if event.previous else ""
    return f"{event.alias} -> {event.version}{was}{forced}"


@registry_app.command("register")
def register_version(
    root: Dir,
    bundle: Annotated[Path, Arg(help="The bundle folder to add as the next version.")],
    by: By = None,
    reason: Reason = "",
) -> None:
    """Verify a bundle and copy it in as the next version (v1, v2, ...)."""
    from prudent.retrain import Registry

    version = Registry(root, create=True).register(bundle, by=who(by), reason=reason)
    typer.echo(f"Registered {version.name} (model {version.model_version}).")


@registry_app.command("list")
def list_versions(root: Dir, as_json: AsJson = False) -> None:
    """The versions, with the aliases each holds."""
    from prudent.retrain import Registry

    registry = Registry(root)
    versions, aliases = registry.versions(), registry.aliases()
    held: dict[str, list[str]] = {}
    for alias, name in sorted(aliases.items()):
        held.setdefault(name, []).append(alias)
    if as_json:
        _echo_json([{**v.to_dict(), "aliases": held.get(v.name, [])} for v in versions])
        return
    rows = [
        (v.name, ", ".join(held.get(v.name, [])), v.model_version, v.registered_at, v.by,
         v.reason)
        for v in versions
    ]  # fmt: skip
    columns = ("version", "aliases", "model", "registered", "by", "reason")
    print_table(_console(), f"Registry {root}", columns, rows)


@registry_app.command("promote")
def promote(
    root: Dir,
    version: Annotated[str, Arg(help="The version: v3, 3 or @challenger.")],
    alias: Alias = "champion",
    by: By = None,
    reason: Reason = "",
    force: Annotated[
        bool,
        Opt("--force", help="Skip the gate and the interface check (kept in the history)."),
    ] = False,
    log_db: Annotated[
        str | None,
        Opt("--log-db", help="Prediction log with the recent labels (none: test rows only)."),
    ] = None,
    ood: Annotated[
        Path | None, Opt("--ood", help="Known out-of-distribution rows, for the OOD AUROC.")
    ] = None,
) -> None:
    """Move an alias to a version; a new champion must first pass the promotion gate."""
    from prudent.retrain import Registry

    registry = Registry(root)
    gated = alias == "champion" and not force and "champion" in registry.aliases()
    if not gated:
        event = registry.promote(version, alias=alias, by=who(by), reason=reason, force=force)
        typer.echo(f"Promoted: {_moved(event)}.")
        return
    from prudent.data import read_table
    from prudent.retrain import promote_gated

    rows = None if ood is None else read_table(ood)
    event, result, report = promote_gated(
        registry, version, by=who(by), reason=reason, log_url=log_db, ood=rows
    )
    typer.echo(f"Promoted: {_moved(event)}; {result.reason()}. Gate report: {report}")


@registry_app.command("rollback")
def rollback(root: Dir, alias: Alias = "champion", by: By = None, reason: Reason = "") -> None:
    """Return an alias to the version that held it before its last promotion."""
    from prudent.retrain import Registry

    event = Registry(root).rollback(alias=alias, by=who(by), reason=reason)
    typer.echo(f"Rolled back: {_moved(event)}.")


@registry_app.command("history")
def history(root: Dir, as_json: AsJson = False) -> None:
    """Every registration and alias move, oldest first."""
    from prudent.retrain import Registry

    events = Registry(root).history()
    if as_json:
        _echo_json([e.to_dict() for e in events])
        return
    rows = [
        (e.seq, e.at, e.action, e.alias or "", e.version, e.previous or "", e.by,
         "yes" if e.forced else "", e.reason)
        for e in events
    ]  # fmt: skip
    columns = ("#", "at", "action", "alias", "version", "previous", "by", "forced", "reason")
    print_table(_console(), f"History of {root}", columns, rows)


@registry_app.command("shadow")
def shadow_command(
    root: Dir,
    version: Annotated[
        str | None, Arg(help="Only this shadow version: v3, 3 or @challenger (default: all).")
    ] = None,
    log_db: Annotated[
        str | None, Opt("--log-db", help="Prediction log URL (default: PRUDENT_LOG_DB's).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Champion vs shadow on the labelled live requests both answered (serve --shadow)."""
    from prudent.config import Settings
    from prudent.retrain import Registry, compare_shadow, promised_accuracy

    registry = Registry(root)
    only = None if version is None else registry.version(version).model_version
    promises = {v.model_version: promised_accuracy(v.manifest()) for v in registry.versions()}
    url = Settings.load(log_db=log_db).log_db
    found = compare_shadow(url, shadow_version=only, promises=promises)
    if as_json:
        _echo_json([c.to_dict() for c in found])
        return
    if not found:
        typer.echo("No shadow answers in the log yet: serve with --shadow VERSION first.")
    names = {v.model_version: v.name for v in registry.versions()}
    for c in found:
        champion, shadow = names.get(c.champion, c.champion), names.get(c.shadow, c.shadow)
        title = f"Shadow {shadow} vs {champion}: {c.labelled} labelled of {c.scored} scored"
        rows = [
            (k.name, k.verdict, _num(k.champion), _num(k.challenger), k.detail) for k in c.checks
        ]
        print_table(_console(), title, ("check", "verdict", champion, shadow, "figures"), rows)
        for note in c.notes:
            typer.echo(f"  {note}")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


@registry_app.command("burn-in")
def burn_in_command(
    root: Dir,
    log_db: Annotated[
        str | None, Opt("--log-db", help="Prediction log URL (default: PRUDENT_LOG_DB's).")
    ] = None,
    dry_run: Annotated[
        bool, Opt("--dry-run", help="Say what the rule finds; change nothing.")
    ] = False,
) -> None:
    """Roll the last promotion back if the new champion does worse than the one before."""
    from prudent.config import Settings
    from prudent.retrain import Registry, burn_in

    url = Settings.load(log_db=log_db).log_db
    verdict = burn_in(Registry(root), url, apply=not dry_run)
    done = "Rolled back" if verdict.rollback and not dry_run else "Would roll back"
    typer.echo(f"{done}: {verdict.reason}." if verdict.rollback else f"Kept: {verdict.reason}.")


def watch_burn_in(root: Path, log_url: str, interval_s: float) -> threading.Thread:
    """A thread of ``prudent serve --registry`` that runs the burn-in rule every ``interval_s``;
    a rollback moves the champion, which :func:`follow_champion` then swaps in."""
    thread = threading.Thread(
        target=_burn_in_loop, args=(root, log_url, interval_s), name="prudent-burn-in",
        daemon=True,
    )  # fmt: skip
    thread.start()
    return thread


def _burn_in_loop(root: Path, log_url: str, interval_s: float) -> None:
    from prudent.errors import PrudentError
    from prudent.retrain import Registry, burn_in

    while True:
        time.sleep(interval_s)
        try:
            verdict = burn_in(Registry(root), log_url)
        except (PrudentError, OSError) as exc:  # the next round tries again
            logger.warning("Burn-in check failed: %s", exc)
            continue
        if verdict.rollback:
            logger.warning("Registry: %s; rolled back.", verdict.reason)


def register(app: typer.Typer) -> None:
    """Add the ``registry`` sub-app to ``app``."""
    app.add_typer(registry_app)


def follow_champion(root: Path, interval_s: float = 1.0) -> Path:
    """The link to serve for ``prudent serve --registry``, and a thread that follows it.

    The thread reads the link every ``interval_s``; when the champion moves it sends this
    process SIGHUP, which the service answers with its verified hot swap (R-HOT-SWAP), or
    with uvicorn's worker-by-worker replacement under ``--workers``. A swap that is refused
    (say a forced promotion with other inputs) leaves the old version served and is logged.

    Raises
    ------
    RegistryError
        ``root`` is not a registry or holds no champion.
    """
    from prudent.retrain import Registry

    link = Registry(root).link("champion")
    thread = threading.Thread(
        target=_watch, args=(link, interval_s), name="prudent-registry", daemon=True
    )
    thread.start()
    return link


def _watch(link: Path, interval_s: float) -> None:
    seen = os.readlink(link)
    while True:
        time.sleep(interval_s)
        try:
            now = os.readlink(link)
        except OSError:
            continue
        # SIGHUP's default action ends the process: send it only once the server handles it
        if now != seen and signal.getsignal(signal.SIGHUP) not in (signal.SIG_DFL, None):
            logger.info("Registry: champion moved to %s; reloading.", now)
            os.kill(os.getpid(), signal.SIGHUP)
            seen = now
