"""``prudent review list | show | label``: the review queue for people without the page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from prudent.cli._logdb import check_log_exists

if TYPE_CHECKING:
    from prudent.bundle import Bundle
    from prudent.feedback import LabelOutcome
    from prudent.store import FeedbackLog, ReviewCase, SqlPredictionLog

__all__ = ["register", "review_app"]

Opt = typer.Option
review_app = typer.Typer(
    name="review",
    no_args_is_help=True,
    help="Work the review queue: list, show, label, skip, flag cases; Label Studio export/import.",
)
LogDb = Annotated[
    str | None, Opt("--log-db", help="Prediction log URL (default: PRUDENT_LOG_DB's).")
]
AsJson = Annotated[bool, Opt("--json", help="Print JSON for scripts.")]


def _open(log_db: str | None) -> SqlPredictionLog:
    from prudent.config import Settings
    from prudent.feedback import QueuePolicy
    from prudent.store import SqlPredictionLog

    settings = Settings.load(log_db=log_db)
    check_log_exists(settings.log_db)
    policy = QueuePolicy(audit_share=settings.review_audit_share)
    return SqlPredictionLog.open(settings.log_db, synchronous=settings.synchronous, triage=policy)


def _console() -> Console:
    return Console(highlight=False, width=None if Console().is_terminal else 200)


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, allow_nan=False))


@review_app.command("list")
def list_cases(
    log_db: LogDb = None,
    limit: Annotated[int, Opt(help="Most cases shown.", min=1)] = 20,
    offset: Annotated[int, Opt(help="Cases skipped first.", min=0)] = 0,
    as_json: AsJson = False,
) -> None:
    """List the cases not yet labelled, by priority (show --next serves only the open ones)."""
    from prudent.feedback import case_dict

    with _open(log_db) as log:
        cases, total = log.list_review(limit=limit, offset=offset), log.count_review()
    if as_json:
        _echo_json({"total": total, "cases": [case_dict(c, inputs=False) for c in cases]})
        return
    table = Table(title=f"{total} case(s) to review", title_justify="left")
    for name in ("prediction_id", "priority", "reason", "status", "held by", "model says"):
        table.add_column(name, no_wrap=name == "prediction_id")
    for c in cases:
        said = f"{c.record.prediction or '-'} ({c.record.confidence or 0:.2f})"
        row = (c.record.id, f"{c.priority:.3f}", c.reason or "-", str(c.status))
        table.add_row(*row, c.claimed_by or "", said)
    _console().print(table)


@review_app.command("show")
def show_case(
    prediction_id: Annotated[
        str | None, typer.Argument(help="The case; omit it with --next.")
    ] = None,
    next_case: Annotated[
        bool, Opt("--next", help="Show the case --reviewer holds, else claim the first free one.")
    ] = False,
    reviewer: Annotated[str | None, Opt(help="Who claims the case (with --next).")] = None,
    log_db: LogDb = None,
    as_json: AsJson = False,
) -> None:
    """Show one case: the input, the model's answer and why it was deferred."""
    from prudent.errors import ConfigError
    from prudent.feedback import case_dict

    if next_case == (prediction_id is not None) or (next_case and reviewer is None):
        raise ConfigError(
            "review show takes a PREDICTION_ID, or --next with --reviewer NAME to claim the "
            "first free case; give one of them."
        )
    with _open(log_db) as log:
        case: ReviewCase | None
        if prediction_id is not None:
            case = log.review_case(prediction_id)
        else:
            case = log.claim_next(str(reviewer), resume=True)
    if as_json:
        _echo_json(None if case is None else case_dict(case))
        return
    if case is None:
        typer.echo("No free case to review.")
        return
    console = _console()
    for key, value in case_dict(case).items():
        shown = json.dumps(value) if isinstance(value, dict | list | tuple) else value
        console.print(f"{key:17s} {shown}")


@review_app.command("label")
def label_case(
    prediction_id: Annotated[str, typer.Argument(help="The case.")],
    label: Annotated[str, typer.Argument(help="Its true label.")],
    reviewer: Annotated[str, Opt(help="Who gives the label (stored as its source).")],
    bundle: Annotated[
        Path | None,
        Opt(
            help="Bundle directory: refuse labels that are not its classes (by default, the "
            "classes the log's record of the prediction gives probabilities for)."
        ),
    ] = None,
    log_db: LogDb = None,
) -> None:
    """Label a case; the same label again changes nothing, another one is a correction."""
    from prudent.feedback import label_case

    with _open(log_db) as log:
        classes = (
            _logged_classes(log, prediction_id)
            if bundle is None
            else _bundle_classes(log, prediction_id, bundle)
        )
        result = label_case(log, prediction_id, label, reviewer, allowed_labels=classes)
    was = "" if result.previous_label is None else f" (was {result.previous_label!r})"
    typer.echo(
        f"{result.status.value}: {prediction_id} = {result.label!r}{was} at "
        f"{result.received_at.isoformat()}"
    )


def _logged_classes(log: SqlPredictionLog, prediction_id: str) -> list[Any]:
    """The classes of the model that made the prediction, as its logged record gives them."""
    from prudent.errors import FeedbackError

    classes = list(log.get(prediction_id).probabilities)
    if not classes:
        raise FeedbackError(
            f"The log's record of prediction {prediction_id!r} names no classes to check the "
            "label against; pass --bundle with the bundle that made it."
        )
    return classes


def _bundle_classes(log: SqlPredictionLog, prediction_id: str, bundle: Path) -> list[Any]:
    """The classes of ``bundle``, refused when another model made the prediction and the
    record gives it other classes: a label of that bundle would not be one of the model's."""
    from prudent.bundle import load
    from prudent.errors import ConfigError

    model, record = load(bundle), log.get(prediction_id)
    ours, logged = [str(c) for c in model.classes], list(record.probabilities)
    if record.model_version != model.version and logged and sorted(logged) != sorted(ours):
        raise ConfigError(
            f"--bundle '{bundle}' (model {model.version}) did not make prediction "
            f"{prediction_id!r} (model {record.model_version}), whose classes are {logged}, "
            f"not {ours}; pass the bundle that made it, or leave --bundle out."
        )
    return list(model.classes)


Reviewer = Annotated[str, Opt(help="Who sets the case aside (must hold it, or nobody may).")]


def _set_aside(prediction_id: str, reviewer: str, action: str, log_db: str | None) -> None:
    from prudent.feedback import set_aside_case

    with _open(log_db) as log:
        case = set_aside_case(log, prediction_id, reviewer, action)
    typer.echo(f"{case.status}: {prediction_id} (claimable by id; a label still closes it)")


@review_app.command("skip")
def skip_case(
    prediction_id: Annotated[str, typer.Argument(help="The case.")],
    reviewer: Reviewer,
    log_db: LogDb = None,
) -> None:
    """Skip a case: the queue serves the others first (as S on the review page)."""
    _set_aside(prediction_id, reviewer, "skip", log_db)


@review_app.command("flag")
def flag_case(
    prediction_id: Annotated[str, typer.Argument(help="The case.")],
    reviewer: Reviewer,
    log_db: LogDb = None,
) -> None:
    """Flag a case for an administrator (as F on the review page)."""
    _set_aside(prediction_id, reviewer, "flag", log_db)


def _check_logged(log: SqlPredictionLog, loaded: Bundle, bundle: Path) -> None:
    """Refuse a bundle none of whose predictions the log holds, as ``prudent feedback`` does:
    its classes would check, and its schema lay out, another model's cases."""
    from prudent.errors import FeedbackError

    if log.count(model_version=loaded.version) == 0:
        raise FeedbackError(
            f"The prediction log {log.url} holds no prediction of bundle {loaded.version} "
            f"('{bundle}'); pass the bundle `prudent serve` served, or the --log-db it used."
        )


BundleDir = Annotated[Path, Opt(help="The bundle directory (its schema and classes).")]


@review_app.command("export")
def export_cases(
    bundle: BundleDir,
    out: Annotated[Path, Opt(help="Folder to write tasks.json and labeling-config.xml into.")],
    fmt: Annotated[str, Opt("--format", help="Only 'label-studio'.")] = "label-studio",
    limit: Annotated[int, Opt(help="Most cases exported, in queue order.", min=1)] = 1000,
    log_db: LogDb = None,
) -> None:
    """Write the cases not yet labelled as Label Studio tasks with the model's predictions
    (open, skipped and flagged ones; not those a reviewer holds now, whose labels the import
    would refuse)."""
    from prudent.bundle import load
    from prudent.errors import ConfigError
    from prudent.feedback import labeling_config, task_of

    if fmt != "label-studio":
        raise ConfigError(f"--format must be 'label-studio', but {fmt!r} was received.")
    loaded = load(bundle)
    with _open(log_db) as log:
        _check_logged(log, loaded, bundle)
        cases, held = _unheld_cases(log, limit)
    out.mkdir(parents=True, exist_ok=True)
    tasks = [task_of(c, loaded.schema) for c in cases]
    (out / "tasks.json").write_text(json.dumps(tasks, indent=2, allow_nan=False), "utf-8")
    config = labeling_config(loaded.schema, loaded.classes)
    (out / "labeling-config.xml").write_text(config + "\n", "utf-8")
    typer.echo(f"{len(tasks)} task(s) -> {out / 'tasks.json'}; config -> labeling-config.xml")
    if held:
        typer.echo(f"{held} case(s) a reviewer holds now left out (export again once released)")


def _unheld_cases(log: SqlPredictionLog, limit: int) -> tuple[list[ReviewCase], int]:
    """Up to ``limit`` cases not yet labelled that nobody holds, in queue order, and how
    many held ones were passed over on the way."""
    cases: list[ReviewCase] = []
    held, offset, page = 0, 0, max(limit, 100)
    while len(cases) < limit:
        batch = log.list_review(limit=page, offset=offset)
        for case in batch:
            if case.claimed_by is not None:
                held += 1
            elif len(cases) < limit:
                cases.append(case)
        if len(batch) < page:
            break
        offset += page
    return cases, held


@review_app.command("import")
def import_labels(
    export: Annotated[Path, typer.Argument(help="A Label Studio JSON export of the tasks.")],
    bundle: BundleDir,
    log_db: LogDb = None,
) -> None:
    """Record the labels of a Label Studio export (cancelled annotations are skipped)."""
    from prudent.bundle import load
    from prudent.errors import DataError
    from prudent.feedback import outcome_counts, read_annotations

    try:
        found = read_annotations(json.loads(export.read_text("utf-8")))
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read the Label Studio export {export}: {exc}") from exc
    loaded = load(bundle)
    with _open(log_db) as log:
        _check_logged(log, loaded, bundle)
        outcomes = _record(log, found.labels, loaded.classes)
    summary = ", ".join(f"{n} {k}" for k, n in outcome_counts(outcomes).items()) or "no label"
    typer.echo(f"{summary}; {len(found.skipped)} task(s) skipped")
    for task, why in found.skipped:
        typer.echo(f"  skipped task {task}: {why}")
    for o in outcomes:
        if o.error is not None:
            typer.echo(f"  {o.status} {o.prediction_id} = {o.label!r}: {o.error}")
    if any(o.error is not None for o in outcomes):
        raise typer.Exit(1)


def _record(
    log: FeedbackLog, labels: list[tuple[str, str, str]], classes: list[Any]
) -> list[LabelOutcome]:
    """Record the labels through ``ingest_labels``, one call per annotator, in file order."""
    from prudent.feedback import ingest_labels

    outcomes: list[LabelOutcome] = []
    for source in dict.fromkeys(s for _, _, s in labels):
        pairs = [(pid, label) for pid, label, s in labels if s == source]
        outcomes += ingest_labels(log, pairs, source=source, allowed_labels=classes)
    return outcomes


def register(app: typer.Typer) -> None:
    """Add the ``review`` command group to ``app``."""
    app.add_typer(review_app)
