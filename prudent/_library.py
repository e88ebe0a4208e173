"""The faces' shared work: turn what a person passes (in Python or on the command line) into a
:class:`~prudent.pipeline.FitSpec`, run the fit, and hand back a bundle that renders its report.

It sits above :mod:`prudent.report` (so a bundle saved from Python holds the same
``report.html`` as one written by ``prudent fit``) and below the command line.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from threadpoolctl import threadpool_limits

from prudent.bundle import Bundle
from prudent.data import split_names
from prudent.errors import ConfigError, DataReadError
from prudent.models._cost_matrix import parse_costs
from prudent.pipeline import FitSpec, LoggingReporter, Reporter, TaskRunner, fit_table
from prudent.pipeline._spec import check_choice

if TYPE_CHECKING:
    import pandas as pd

    from prudent.models import RuleSet

__all__ = [
    "check_rules",
    "fit",
    "load",
    "parse_costs",
    "rules_text",
    "save_seconds",
    "split_names",
    "with_report",
]

_NAMES = ("text", "categorical", "numeric", "drop", "candidates")


def check_rules(
    text: str | None, table: pd.DataFrame | None = None, target: str | None = None
) -> None:
    """Refuse a rules file early: its syntax alone, or also its columns and classes.

    The fit checks the rules again against the final schema; this check only makes a typo
    fail in seconds instead of after the whole fit.

    Raises
    ------
    RuleError
        A syntax error (with line and position), an unknown column or class (with the
        closest names).
    """
    from prudent.data import prepare_target
    from prudent.errors import TargetError
    from prudent.models import RuleSet

    if not text:
        return
    if table is None or target is None or target not in table.columns:
        RuleSet.from_yaml(text)
        return
    try:
        classes: list[str] | None = [str(c) for c in prepare_target(table, target).classes]
    except TargetError:
        classes = None  # the fit names the target's problem itself
    RuleSet.from_yaml(text, columns=[c for c in table.columns if c != target], classes=classes)


def rules_text(rules: str | os.PathLike[str] | RuleSet | None) -> str | None:
    """The YAML text of ``rules``: a rules file's path (as ``--rules``) or a ``RuleSet``.

    Raises
    ------
    ConfigError
        ``rules`` looks like YAML text rather than a path (pass it as ``rules_yaml=``).
    DataReadError
        The file does not exist.
    """
    if rules is None:
        return None
    if hasattr(rules, "to_yaml"):
        return str(rules.to_yaml())
    path = Path(rules)
    if isinstance(rules, str) and ("\n" in rules or ": " in rules) and not path.is_file():
        raise ConfigError(
            "rules= takes the path of a rules file (as --rules does) or a RuleSet; "
            "pass YAML text as rules_yaml=..."
        )
    if not path.is_file():
        raise DataReadError(f"Rules file '{path}' does not exist; check the path.")
    return path.read_text(encoding="utf-8")


def _table(
    value: pd.DataFrame | str | os.PathLike[str] | None,
    encoding: str,
    target: str,
    like: pd.DataFrame | None = None,
) -> pd.DataFrame | None:
    """The table at ``value``, its ``target`` read as the labels written (``01``, ``NA``);
    the columns ``like`` holds as text read as text too (the OOD examples beside the
    training table: its zip codes, ``00501`` as written, wherever the first appears).

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "ood.csv").write_text("zip,x\\n501,1\\n")
    >>> train = pd.DataFrame({"zip": ["00501"], "x": [2]})
    >>> _table(folder / "ood.csv", "utf-8", "y")["zip"].tolist()
    [501]
    >>> _table(folder / "ood.csv", "utf-8", "y", train)["zip"].tolist()
    ['501']
    """
    if value is None or hasattr(value, "columns"):
        return value  # type: ignore[return-value]
    from prudent.data import read_table

    strings = () if like is None else [c for c in like.columns if _is_text(like[c])]
    return read_table(Path(value), encoding=encoding, text=(target,), strings=strings)


def _is_text(column: pd.Series) -> bool:
    """Whether ``column`` holds text (strings), not numbers, booleans or dates."""
    import pandas as pd

    return bool(pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column))


def with_report(bundle: Bundle) -> Bundle:
    """Let ``bundle`` render its HTML report (on :meth:`Bundle.save` and ``report``)."""
    from prudent.report import render_report

    bundle.renderer = render_report
    return bundle


def load(path: str | Path) -> Bundle:
    """:func:`prudent.bundle.load`, with a bundle able to render its report (``.report(path)``)."""
    return with_report(Bundle.load(path))


REPORT_FIGURES = 21.0
"""The save of a bundle, its report and the command's exit, in figures of the report
(:func:`prudent.report.figure_seconds`, the process's first, which also loads the fonts):
the report draws up to 13, each with its share of the page around it; the rest writes the
manifest, the evidence files and a small model. Measured on 2 busy cores (load 4-14): 5.5-6.2
s of CPU after the fit for a first figure of 0.24-0.39 s, 14 to 25 figures' worth."""


def save_seconds() -> float:
    """CPU seconds saving a bundle and its report will take on this machine, measured now.

    Imports what the save needs (skops, matplotlib), so that their cost counts as the fit's
    own time, then times one figure of the report (:data:`REPORT_FIGURES` of them project
    the save; each fitted family adds its model's, ``pipeline._budget.save_seconds``).
    """
    from prudent._compat import import_skops_io

    import_skops_io()
    from prudent.report import figure_seconds

    return REPORT_FIGURES * figure_seconds()


def fit(
    frame: pd.DataFrame | str | os.PathLike[str],
    target: str,
    *,
    ood_examples: pd.DataFrame | str | os.PathLike[str] | None = None,
    rules: str | os.PathLike[str] | RuleSet | None = None,
    rules_yaml: str | None = None,
    progress: bool | None = None,
    encoding: str = "utf-8",
    reporter: Reporter | None = None,
    started: float | None = None,
    runner: TaskRunner | None = None,
    **options: Any,
) -> Bundle:
    """Fit prudent's whole pipeline on a table and return an in-memory bundle.

    Notices (skipped models, the label audit, the chosen model) go to the ``prudent``
    logger; the ones that are likely bugs are also raised as :class:`PrudentWarning`.

    Parameters
    ----------
    frame
        The training table (target column included), or the path of one (as ``prudent fit``).
    target
        The label column.
    ood_examples
        Known out-of-distribution rows (a table or a path), to choose the OOD detector and
        measure it.
    rules
        The path of a rules YAML file (as ``--rules``), or a :class:`RuleSet`.
    rules_yaml
        The rules as YAML text, instead of ``rules``.
    progress
        Draw progress bars on stderr; by default only in a terminal or a notebook.
    encoding
        The text encoding of CSV and JSON files given by path (``--encoding``).
    reporter
        Where notices and progress go instead (the command line passes its own).
    started
        When the time limit began, on ``time.monotonic`` (default: now); ``prudent fit``
        passes its own start, so that importing and reading count. Only the wall guard
        reads it: the decisions are planned in CPU seconds of the fit, with the same
        reserves on both faces (a fixed start-up, the save measured here, whether or not
        the bundle is saved), so the same data, options and seed run the same families
        from here and from ``prudent fit`` (see "The time limit" in ``docs/guide/fit.md``).
    runner
        Runs the cross-validation folds as tasks elsewhere, e.g. on a Dask cluster:
        ``prudent.scale.DaskRunner(client)`` (the data must fit in one machine's memory).
    **options
        Any field of :class:`FitSpec` (``time_limit``, ``text``, ``seed``, …); column lists
        take a list or a comma-separated string, ``costs`` a matrix or ``'0,1;10,0'``.
        Give at most one of ``review_budget``, ``target_accuracy`` and ``costs`` (the
        default is a 15% review budget), and ``review_cost`` only with ``costs``.

    Returns
    -------
    Bundle
        Call ``.predict(df)``, ``.summary()``, ``.report(path)`` or ``.save(path)`` on it.

    Raises
    ------
    DataError
        The table cannot be used (named column, class or value).
    ConfigError
        An option is invalid (named).
    """
    if rules is not None and rules_yaml is not None:
        raise ConfigError("Pass rules= (a path or RuleSet) or rules_yaml= (text), not both.")
    for key in _NAMES:  # candidates=None means every family; the others None means none
        if key in options and (options[key] is not None or key != "candidates"):
            options[key] = split_names(options[key])
    options["costs"] = parse_costs(options.get("costs"))
    check_choice(options)  # one of budget, target and costs; a review cost only with costs
    if options.get("review_budget", 0.0) is None:  # not given: the default budget
        del options["review_budget"]
    started = time.monotonic() if started is None else started
    rules_yaml = rules_yaml or rules_text(rules)
    check_rules(rules_yaml)  # syntax: before any data is read
    spec = FitSpec(target=target, rules=rules_yaml, **options)  # the options, too
    table = _table(frame, encoding, target)
    assert table is not None
    check_rules(rules_yaml, table, target)  # columns and classes: before any model is fitted
    rep = reporter if reporter is not None else LoggingReporter(progress=progress)
    ood = _table(ood_examples, encoding, target, table)
    # one BLAS/OpenMP thread: on 2 shared, busy cores the text logistic baseline took 60 s
    # with 2 (threads spin at every barrier while the other is descheduled) and 1.4 s with one
    with threadpool_limits(limits=1):
        result = fit_table(
            table,
            spec,
            reporter=rep,
            ood_examples=ood,
            started=started,
            runner=runner,
            finish_cpu=save_seconds(),  # saved or not: both faces keep the same reserves
            ood_source=None if ood_examples is None or ood is ood_examples else str(ood_examples),
            source=None if table is frame else str(frame),
        )
    return with_report(Bundle.from_fit(result))
