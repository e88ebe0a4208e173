"""The command line: one command per stage, each a thin call into the layers."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from prudent.cli._console import RichReporter
from prudent.cli._monitor import register as register_monitor_command
from prudent.cli._quickstart import register as register_quickstart_command
from prudent.cli._registry import register as register_registry_commands
from prudent.cli._retrain import register as register_retrain_commands
from prudent.cli._retune import register as register_retune_command
from prudent.cli._review import register as register_review_commands
from prudent.cli._serve import register as register_service_commands
from prudent.errors import BundleError, ConfigError, DataReadError

if TYPE_CHECKING:  # the layers below are imported by the commands that use them, so that
    from prudent.bundle import Bundle  # `prudent serve` starts without loading scikit-learn

__all__ = ["app"]


def _flags_take_no_value() -> None:
    """Show no value type beside an on/off flag in the help: Typer writes ``--help <bool>``
    and ``--mondrian --no-mondrian <bool>``, which reads as if the flag took a value."""
    option: Any = getattr(typer.core, "TyperOption", None)
    shown = getattr(option, "display_type_rich", None)
    if shown is None or getattr(shown, "prudent_flags", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        return None if getattr(self, "is_flag", False) else shown(self, ctx)

    display_type_rich.prudent_flags = True  # type: ignore[attr-defined]
    setattr(option, "display_type_rich", display_type_rich)  # noqa: B010


_flags_take_no_value()

app = typer.Typer(
    name="prudent",
    no_args_is_help=True,
    add_completion=False,
    help="From labeled data to a classifier people can trust in production.",
)

Opt = typer.Option

COLS = "(repeatable; commas allowed)"


def _version(value: bool) -> None:
    if value:
        from prudent import __version__

        typer.echo(f"prudent {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        Opt("--version", callback=_version, is_eager=True, metavar="", help="Print the version."),
    ] = False,
) -> None:
    """From labeled data to a classifier people can trust in production."""


def _console(stderr: bool = True) -> Console:
    """A console as wide as the terminal, or 160 columns when piped; piped notices stay one
    line each (``soft_wrap``), so that a log keeps each whole for grep."""
    terminal = Console(stderr=stderr).is_terminal
    return Console(
        stderr=stderr,
        highlight=False,
        width=None if terminal else 160,
        soft_wrap=stderr and not terminal,
    )


def _rules_text(path: Path | None) -> str | None:
    from prudent._library import rules_text

    return rules_text(path)


def _process_start() -> float:
    """When this process started, on ``time.monotonic``, when it runs ``prudent`` alone (the
    console script or ``python -m prudent.cli``); otherwise (a test's runner, /proc missing)
    now."""
    now = time.monotonic()
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    if script.name != "prudent" and script.parts[-3:] != ("prudent", "cli", "__main__.py"):
        return now
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        since = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return now
    return now - min(max(since, 0.0), 120.0)


@app.command()
def fit(
    data: Annotated[Path, typer.Argument(help="Training table: .csv, .parquet, .jsonl or .json.")],
    target: Annotated[str, Opt("--target", "-t", help="The label column.")],
    out: Annotated[Path, Opt("--out", "-o", help="Bundle directory to write.")] = Path("model"),
    text: Annotated[
        list[str] | None, Opt("--text", metavar="COL", help=f"Treat COL as free text {COLS}.")
    ] = None,
    categorical: Annotated[
        list[str] | None,
        Opt("--categorical", metavar="COL", help=f"Treat COL as categorical {COLS}."),
    ] = None,
    numeric: Annotated[
        list[str] | None, Opt("--numeric", metavar="COL", help=f"Treat COL as numeric {COLS}.")
    ] = None,
    drop: Annotated[
        list[str] | None, Opt("--drop", metavar="COL", help=f"Ignore COL {COLS}.")
    ] = None,
    group: Annotated[
        str | None,
        Opt(
            "--group",
            metavar="COL",
            help="COL names groups of rows (a person, a firm, a patient's visits): the locked "
            "test and the folds keep each group on one side, so every held-out figure is "
            "measured on groups new to the model. COL is no input.",
        ),
    ] = None,
    candidates: Annotated[
        list[str] | None,
        Opt(
            "--candidates",
            metavar="NAME",
            help=f"Try only these model families, besides the baselines {COLS}: lightgbm, "
            "extra_trees, knn, mlp, lightgbm_shallow, lightgbm_random; with a text column "
            "also naive_bayes, linear_svm, embeddings_logistic.",
        ),
    ] = None,
    encoding: Annotated[
        str, Opt(help="Text encoding of CSV and JSON files, e.g. latin-1 or utf-16.")
    ] = "utf-8",
    time_limit: Annotated[float, Opt(help="Seconds for the whole fit.")] = 120.0,
    wall_guard: Annotated[
        bool,
        Opt(
            help="Let the wall clock cut the fit's plan (made in CPU seconds of the fit) when "
            "the machine runs slower than planned, with a notice; --no-wall-guard: the plan "
            "alone decides, the same families however busy the machine."
        ),
    ] = True,
    test_size: Annotated[float, Opt(help="Share of rows locked for the final test.")] = 0.2,
    folds: Annotated[
        int | None,
        Opt(help="Cross-validation folds (default: 5, or 3 from 20,000 training rows)."),
    ] = None,
    seed: Annotated[int, Opt(help="Random seed.")] = 0,
    drop_suspect_labels: Annotated[bool, Opt(help="Remove rows the label audit flags.")] = False,
    drop_rare_classes: Annotated[
        bool,
        Opt(
            help="Drop the rows of classes with fewer than 3 rows (too few to validate), with "
            "a notice, instead of stopping; the model never predicts those classes."
        ),
    ] = False,
    alpha: Annotated[float, Opt(help="Conformal miscoverage (sets cover 1-alpha).")] = 0.1,
    mondrian: Annotated[bool, Opt(help="Class-conditional conformal coverage.")] = False,
    target_accuracy: Annotated[
        float | None,
        Opt(help="Accuracy accepted predictions must reach (replaces the review budget)."),
    ] = None,
    review_budget: Annotated[
        float | None,
        Opt(
            help="Largest share of in-distribution rows sent to review (the default policy: "
            "0.15 unless --target-accuracy or --costs is given); it must exceed --ood-fpr."
        ),
    ] = None,
    delta: Annotated[
        float, Opt(help="Allowed chance the accept threshold misses the target or budget.")
    ] = 0.1,
    ood_fpr: Annotated[float, Opt(help="Share of normal inputs flagged as unusual.")] = 0.05,
    ood_examples: Annotated[Path | None, Opt(help="Known out-of-distribution rows.")] = None,
    rules: Annotated[Path | None, Opt(help="rules.yaml of business rules.")] = None,
    costs: Annotated[
        str | None,
        Opt(
            help="Cost matrix replacing the review budget: rows = true class, columns = "
            "predicted, in class order, e.g. '0,1;10,0'."
        ),
    ] = None,
    review_cost: Annotated[
        float | None,
        Opt(
            help="Cost of sending a case to review (with --costs; default: half the largest cost)."
        ),
    ] = None,
    ood_over_rules: Annotated[
        bool, Opt(help="Send unusual inputs to review even when a rule matches them.")
    ] = False,
    dask: Annotated[
        str | None,
        Opt(
            metavar="ADDRESS",
            help="Cross-validate the candidates on a Dask cluster (tcp://HOST:PORT, or "
            "'local'); the rest of the fit runs here. The training table must fit in the "
            "memory of this machine and of each worker.",
        ),
    ] = None,
) -> None:
    """Fit baselines and candidates, prove them, and write a bundle."""
    started = _process_start()  # the time limit covers start-up, reading and saving too
    from prudent._compat import import_skops_io

    import_skops_io()  # the save needs it; first, it skips the walk over every estimator
    _check_out(out)  # before the table is read and the fit runs
    from prudent._library import fit as fit_bundle
    from prudent.cli._scale import fit_runner

    console = _console()
    reporter = RichReporter(console)
    replaced = _replaced(out)
    if replaced:
        reporter.notice(replaced)
    with fit_runner(dask) as runner:
        bundle = fit_bundle(
            data,
            target,
            text=text,
            categorical=categorical,
            numeric=numeric,
            drop=drop,
            group=group,
            candidates=candidates,
            test_size=test_size,
            n_folds=folds,
            seed=seed,
            time_limit=time_limit,
            wall_guard=wall_guard,
            drop_suspect_labels=drop_suspect_labels,
            drop_rare_classes=drop_rare_classes,
            alpha=alpha,
            mondrian=mondrian,
            target_accuracy=target_accuracy,
            review_budget=review_budget,
            delta=delta,
            ood_fpr=ood_fpr,
            rules=rules,
            costs=costs,
            review_cost=review_cost,
            ood_over_rules=ood_over_rules,
            ood_examples=ood_examples,
            encoding=encoding,
            reporter=reporter,
            started=started,
            runner=runner,
        )
    bundle.save(out, overwrite=True)
    results = _console(stderr=False)  # results on stdout; progress and notices on stderr
    from prudent.cli._show import show_manifest  # the bundle layer: not for `serve`

    show_manifest(results, bundle.manifest)
    results.print(f"Report: {out / 'report.html'}")
    seconds = bundle.manifest["fit_seconds"]
    results.print(f"[bold green]Bundle written to[/] {out}  ({seconds:.1f}s)")


def _check_out(out: Path) -> None:
    """Refuse an ``--out`` that the save would refuse or fail to write (a file, a folder that
    is not a bundle, a parent where no folder can be made) before the fit, not after it."""
    from prudent.bundle._saving import check_bundle_path

    try:
        check_bundle_path(out, overwrite=True)
    except BundleError as exc:
        raise ConfigError(f"--out: {exc}") from exc


def _replaced(out: Path) -> str | None:
    """The notice that ``--out`` holds a bundle, which the new one replaces once saved."""
    manifest = out / "manifest.json"
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text("utf-8"))
        held = f"bundle {str(data['files']['model.skops'])[:12]} of {data['created_at'][:10]}"
    except (OSError, ValueError, KeyError, TypeError):
        held = "a bundle"
    return (
        f"'{out}' holds {held}: the new bundle replaces it once the fit is saved (keep "
        "versions with `prudent registry`, or choose another --out)."
    )


def _write_report(bundle: Bundle, console: Console) -> Path | None:
    from prudent.report import render_report

    html = render_report(bundle)
    bundle.add_file("report.html", html.encode("utf-8"))
    assert bundle.path is not None
    path = bundle.path / "report.html"
    console.print(f"Report: {path}")
    return path


def _check_paths(data: Path, out: Path) -> None:
    """Fail before the (slow) bundle load when the input or output path cannot work."""
    from prudent.data import table_format

    table_format(data)
    if not data.exists():
        raise DataReadError(f"File '{data}' does not exist; check the path.")
    table_format(out, written=True)


@app.command()
def predict(
    bundle: Annotated[Path, typer.Argument(help="Bundle directory.")],
    data: Annotated[Path, typer.Argument(help="Rows to predict: .csv, .parquet, .jsonl or .json.")],
    out: Annotated[Path, Opt("--out", "-o", help="Output table (.csv, .parquet, .jsonl, .json).")],
    chunk_rows: Annotated[int, Opt(help="Rows held in memory at once.")] = 50_000,
    rules: Annotated[Path | None, Opt(help="rules.yaml replacing the bundle's rules.")] = None,
    strict: Annotated[
        bool, Opt(help="Refuse columns that are not model inputs instead of ignoring them.")
    ] = False,
    encoding: Annotated[
        str, Opt(help="Text encoding of a CSV or JSON input, e.g. latin-1 or utf-16.")
    ] = "utf-8",
    id_column: Annotated[
        str | None, Opt(metavar="COL", help="Copy this input column (an id) first into the output.")
    ] = None,
    keep_columns: Annotated[
        list[str] | None,
        Opt(metavar="COL", help=f"Copy these input columns into the output too {COLS}."),
    ] = None,
    dask: Annotated[
        str | None,
        Opt(
            metavar="ADDRESS",
            help="Score on a Dask cluster (tcp://HOST:PORT, or 'local'): DATA is Parquet (a "
            "file, folder or quoted glob such as 'data/*.parquet') and --out a new folder of "
            "Parquet parts in input order; the workers must see both paths.",
        ),
    ] = None,
) -> None:
    """Predict every row of a file, streaming, in input order."""
    from prudent._compat import import_skops_io

    import_skops_io()  # first: skips skops' import of all scikit-learn, SciPy's doc rewriting
    from prudent.bundle import load
    from prudent.bundle._predicting import check_chunk_rows
    from prudent.data import split_names

    console = _console()
    check_chunk_rows(chunk_rows)
    if dask is None:
        _check_paths(data, out)
    else:
        from prudent.cli._scale import check_dask_out

        check_dask_out(out)
    model = load(bundle)
    rule_set = None
    if rules is not None:
        from prudent.models import RuleSet

        rule_set = RuleSet.from_yaml(
            _rules_text(rules) or "",
            columns=model.schema.feature_names,
            classes=[str(c) for c in model.classes],
        )

    def notice(message: str) -> None:
        console.print(f"• {message}", highlight=False)

    keep = [*([id_column] if id_column else []), *split_names(keep_columns)]
    if dask is not None:
        from prudent.cli._scale import predict_on_dask

        options = {"chunk_rows": chunk_rows, "rules": rule_set, "strict": strict, "keep": keep}
        n = predict_on_dask(
            model, str(data), out, dask, console=console, on_notice=notice, **options
        )
    else:
        n = model.predict_file(
            data,
            out,
            chunk_rows=chunk_rows,
            rules=rule_set,
            on_notice=notice,
            strict=strict,
            encoding=encoding,
            keep=keep,
        )
    where = f"{out} (a folder of Parquet parts)" if dask is not None else str(out)
    console.print(f"Predicted {n} row(s) → {where}")


@app.command()
def show(
    bundle: Annotated[Path, typer.Argument(help="Bundle directory.")],
    as_json: Annotated[
        bool, Opt("--json", metavar="", help="Print the whole manifest as JSON instead.")
    ] = False,
) -> None:
    """Print a bundle's schema, leaderboard, metrics and promises."""
    from prudent.bundle import load

    manifest = load(bundle).manifest
    if as_json:
        import json

        typer.echo(json.dumps(manifest, indent=2))
        return
    from prudent.cli._show import show_manifest

    show_manifest(_console(stderr=False), manifest, notices=True)


@app.command()
def report(
    bundle: Annotated[Path, typer.Argument(help="Bundle directory.")],
    out: Annotated[
        Path | None,
        Opt("--out", "-o", help="Write the report here instead (the bundle is left alone)."),
    ] = None,
) -> None:
    """Regenerate the bundle's HTML report."""
    from prudent.bundle import load

    console = _console()
    model = load(bundle)
    if out is None:
        _write_report(model, console)
        return
    from prudent.report import render_report

    out.parent.mkdir(parents=True, exist_ok=True)  # as fit --out and predict --out do
    out.write_text(render_report(model), encoding="utf-8")
    console.print(f"Report: {out}")


@app.command()
def export(
    bundle: Annotated[Path, typer.Argument(help="Bundle directory.")],
    out: Annotated[Path, Opt("--out", "-o", help="The .skops file to write.")] = Path(
        "model.skops"
    ),
    overwrite: Annotated[bool, Opt("--overwrite", metavar="", help="Replace OUT.")] = False,
) -> None:
    """Save the shipped model alone as a scikit-learn pipeline file (skops).

    Its predict_proba gives the bundle's calibrated probabilities; it has no OOD flag, rules
    or review decisions.
    """
    from prudent.bundle import exported_types, load
    from prudent.bundle._export import check_target

    check_target(out, overwrite=overwrite)  # before the bundle's load
    path = load(bundle).export_sklearn(out, overwrite=overwrite)
    types = exported_types(path)
    typer.echo(f"Wrote {path}. Load it where prudent is installed:")
    typer.echo("  import skops.io as sio")
    typer.echo(f"  model = sio.load({str(path)!r}, trusted={types!r})")
    typer.echo("  model.predict_proba(frame)  # columns: model.classes_")


register_quickstart_command(app)
register_retune_command(app)
register_service_commands(app)  # serve, feedback, token: after the fit commands in --help
register_monitor_command(app)
register_registry_commands(app)
register_retrain_commands(app)
register_review_commands(app)
