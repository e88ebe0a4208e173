"""A bundle's predictions: tables in memory, files streamed in bounded memory.

:class:`~prudent.bundle.Bundle`'s ``predictions``, ``predict`` and ``predict_file`` delegate
here; ``check_keep`` and ``with_kept`` serve the Dask batch scoring too.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from prudent.data import (
    SHORT_ROWS_ATTR,
    Schema,
    TableWriter,
    iter_table,
    table_format,
    validate_frame,
)
from prudent.errors import ConfigError, DataError, RuleError
from prudent.models._predictions import Predictions, output_columns
from prudent.models._rules import RuleSet
from prudent.models._rules_schema import rules_for_schema

if TYPE_CHECKING:
    from prudent.bundle._bundle import Bundle

__all__ = [
    "Rows",
    "as_table",
    "check_chunk_rows",
    "check_keep",
    "checked_rules",
    "kept_columns",
    "predict",
    "predict_file",
    "predictions",
    "typed_rules",
    "with_kept",
]

Notify = Callable[[str], None] | None
Rows = pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any]
"""What ``Bundle.predict`` and ``Bundle.predictions`` take: a table, its rows as dicts, or its
columns as a dict (one row when every value is a single value)."""
_ACCEPTED = "a pandas DataFrame, a list of dicts (one per row) or a dict of columns"

PIECE_ROWS = 5_000
"""Fewest rows a file chunk's piece holds when the chunk is scored on several threads."""


def _threads() -> int:
    """The cores this process may use (at most 4 threads score a chunk's pieces)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def predictions(
    bundle: Bundle, frame: Rows, *, rules: Any, on_notice: Notify, strict: bool
) -> Predictions:
    """:meth:`Bundle.predictions <prudent.bundle.Bundle.predictions>`."""
    table, checked = as_table(frame, bundle.schema), checked_rules(bundle, rules)
    return bundle.model.predictions(_validated(bundle, table, on_notice, strict), rules=checked)


def checked_rules(bundle: Bundle, rules: Any) -> RuleSet | None:
    """The rules given for a call (a RuleSet or a rules file's path) checked against the
    bundle's inputs, their kinds and its classes, as the fit checks its own; None for the
    bundle's own (read with those kinds when it was loaded, :func:`typed_rules`).

    Raises
    ------
    RuleError
        A rule names an unknown column or class, or compares a column with a value of
        another kind (``Home > 5`` on a categorical column), with the rule's line.
    TypeError
        ``rules`` is neither a RuleSet, a path nor None.
    """
    if rules is None:
        return None
    return rules_for_schema(rules, bundle.schema, bundle.model.classes)


def typed_rules(bundle: Bundle) -> RuleSet | None:
    """The bundle's own rules read with its inputs' kinds, or None when it has none or they
    no longer pass the checks (then they are used as saved).

    A bundle saved before the rules knew the kinds holds ``Records == true`` untyped: on
    the validated column of 1.0/0.0 it matched no row. Loading reads them once, so that
    every path that decides with them (predictions, the backup's, retune) has them typed.
    """
    stored = bundle.model.rules
    if stored is None or not len(stored):
        return None
    try:
        return rules_for_schema(stored, bundle.schema, bundle.model.classes)
    except RuleError:  # checked by the fit that saved them, under older checks: as saved
        return None


def as_table(rows: Any, schema: Schema) -> pd.DataFrame:
    """``rows`` (:data:`Rows`) as a table; anything else refused, saying what is accepted.

    Raises
    ------
    TypeError
        ``rows`` is not one of :data:`Rows` (a path, a Series, an array, None…): the fix named.
    DataError
        A dict's columns have different lengths.

    Examples
    --------
    >>> from prudent.data import ColumnSpec, Role
    >>> schema = Schema((ColumnSpec("age", Role.numeric, "float64"),), target="y")
    >>> as_table([{"age": 41}, {"age": "52"}], schema).shape
    (2, 1)
    >>> as_table({"age": 41, "city": "Lyon"}, schema).to_dict(orient="records")
    [{'age': 41, 'city': 'Lyon'}]
    >>> as_table("new.csv", schema)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: Rows to predict are a pandas DataFrame, ... not a path ('new.csv'): ...
    """
    if isinstance(rows, pd.DataFrame):
        return rows
    if isinstance(rows, Mapping):
        return _from_columns(rows)
    is_list = isinstance(rows, Sequence) and not isinstance(rows, str | bytes)
    if is_list and all(isinstance(row, Mapping) for row in rows):
        return pd.DataFrame(list(rows)) if rows else pd.DataFrame(columns=schema.feature_names)
    raise TypeError(f"Rows to predict are {_ACCEPTED}, not {_what(rows, schema)}.")


def _from_columns(columns: Mapping[str, Any]) -> pd.DataFrame:
    """A dict of columns as a table; a dict of single values as one row."""
    if not any(pd.api.types.is_list_like(v) for v in columns.values()):
        return pd.DataFrame([dict(columns)])
    try:
        return pd.DataFrame(dict(columns))
    except ValueError as exc:
        sizes = {k: len(v) for k, v in columns.items() if pd.api.types.is_list_like(v)}
        raise DataError(
            f"The dict's columns have different lengths {sizes}; give every column one value "
            "per row (or the rows as a list of dicts, a key left out is missing)."
        ) from exc


def _what(rows: Any, schema: Schema) -> str:
    """What ``rows`` is, and how to pass it instead."""
    if isinstance(rows, str | os.PathLike):
        return (
            f"a path ({str(rows)!r}): predict a file with bundle.predict_file(path, out_path) "
            "(streamed, any size), or read it into a DataFrame first"
        )
    if isinstance(rows, pd.Series):
        return "a Series: pass one row as series.to_frame().T, or a dict"
    if isinstance(rows, np.ndarray):
        return (
            f"a numpy array, which has no column names: name its {len(schema.features)} "
            "columns, pd.DataFrame(array, columns=bundle.schema.feature_names)"
        )
    if isinstance(rows, Sequence) and not isinstance(rows, str | bytes):
        first = next(i for i, row in enumerate(rows) if not isinstance(row, Mapping))
        return f"a {type(rows).__name__} whose item {first} is a {type(rows[first]).__name__}"
    return "None" if rows is None else f"a {type(rows).__module__}.{type(rows).__qualname__}"


def kept_columns(keep: str | Sequence[str]) -> tuple[str, ...]:
    """The columns ``keep`` names: a string is one column (never its letters).

    Examples
    --------
    >>> kept_columns("city"), kept_columns(["id", "city"])
    (('city',), ('id', 'city'))
    """
    return (keep,) if isinstance(keep, str) else tuple(keep)


def _validated(
    bundle: Bundle, frame: pd.DataFrame, on_notice: Notify, strict: bool, rows: str = "row"
) -> Any:
    """``frame`` read by the bundle's schema, its notices handed to ``on_notice``."""
    X, notices = validate_frame(frame, bundle.schema, strict=strict, rows=rows)
    for n in notices:
        if on_notice is not None:
            on_notice(n)
    return X


def _logged_notice(message: str) -> None:
    """A notice no ``on_notice`` receives, to the ``prudent`` logger (INFO, as the fit's
    notices go): an absent input read as missing in every row said nothing in Python."""
    logging.getLogger("prudent").info(message)


def predict(
    bundle: Bundle,
    rows: Rows,
    *,
    rules: Any,
    on_notice: Notify,
    strict: bool,
    keep: str | Sequence[str],
    explain: bool,
) -> pd.DataFrame:
    """:meth:`Bundle.predict <prudent.bundle.Bundle.predict>`."""
    frame, keep = as_table(rows, bundle.schema), kept_columns(keep)
    check_keep(frame, keep, bundle.model.classes)
    notify = on_notice or _logged_notice
    out = bundle.predictions(frame, rules=rules, on_notice=notify, strict=strict)
    # the input's index, so that df["prediction"] = bundle.predict(df)[...] aligns
    table = out.to_frame(frame.index, lists=True)  # prediction_set: lists in Python
    if explain:
        from prudent.models._explain import explain_predictions

        X = validate_frame(frame, bundle.schema, strict=strict)[0]
        found = explain_predictions(bundle.model, X, out)
        values = found if found is not None else [None] * len(table)
        table["explanation"] = pd.Series(values, index=table.index, dtype=object)
    return with_kept(frame, table, keep)


def check_chunk_rows(chunk_rows: int) -> None:
    """Refuse a number of rows per chunk that is not a positive integer (the file readers
    reported it as a file that could not be read).

    Examples
    --------
    >>> check_chunk_rows(0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    prudent.errors.ConfigError: chunk_rows (--chunk-rows) must be a positive integer, ...
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, Integral) or chunk_rows < 1:
        raise ConfigError(
            f"chunk_rows (--chunk-rows) must be a positive integer, the rows held in memory "
            f"at once (e.g. 50000); got {chunk_rows!r}."
        )


def predict_file(
    bundle: Bundle,
    source: str | Path,
    destination: str | Path,
    *,
    chunk_rows: int,
    rules: Any,
    on_notice: Notify,
    strict: bool,
    encoding: str,
    keep: str | Sequence[str],
) -> int:
    """:meth:`Bundle.predict_file <prudent.bundle.Bundle.predict_file>`."""
    check_chunk_rows(chunk_rows)
    rules = checked_rules(bundle, rules)  # once, before the file is read
    target = Path(destination)
    if target.resolve() == Path(source).resolve():
        raise ConfigError(f"Output '{target}' is the input file; choose another output path.")
    table_format(target, written=True)  # name the real output, not the hidden one, if it is wrong
    partial = target.with_name(f".{target.stem}.partial{target.suffix}")
    try:
        chunks = iter_table(
            Path(source), chunk_rows=chunk_rows, encoding=encoding, **_read_as(bundle, keep)
        )
        notify = on_notice or _logged_notice
        total = _stream(bundle, chunks, partial, rules, notify, strict, kept_columns(keep))
        os.replace(partial, target)
    except BaseException as exc:
        partial.unlink(missing_ok=True)
        ours = {str(partial), *(str(folder) for folder in partial.parents)}
        if isinstance(exc, OSError) and exc.filename in ours:  # the file, or a folder made
            raise _unwritable(exc, target) from None
        raise
    return total


def _read_as(bundle: Bundle, keep: str | Sequence[str]) -> dict[str, list[str]]:
    """How a CSV file's columns are read for ``bundle``: the columns the fit held as strings
    as strings (``02134`` stays a code, not 2134), columns only copied to the output as
    written (an id ``000123`` is copied as ``000123``)."""
    features = set(bundle.schema.feature_names)
    copied = [name for name in kept_columns(keep) if name not in features]
    return {"text": copied, "strings": bundle.schema.string_names}


def _unwritable(exc: OSError, target: Path) -> OSError:
    """``exc`` (about the hidden file the rows go to first) told of ``target``, the path given.

    Examples
    --------
    >>> _unwritable(FileNotFoundError(2, "No such file or directory", "/x/.o.partial.csv"),
    ...             Path("/x/o.csv"))
    FileNotFoundError(2, 'Cannot write the output (No such file or directory)')
    """
    return type(exc)(exc.errno, f"Cannot write the output ({exc.strerror})", str(target))


def _stream(
    bundle: Bundle,
    chunks: Iterator[pd.DataFrame],
    destination: Path,
    rules: Any,
    on_notice: Notify,
    strict: bool,
    keep: tuple[str, ...] = (),
) -> int:
    seen: set[str] = set()

    def once(message: str) -> None:
        if message not in seen and on_notice is not None:
            on_notice(message)
        seen.add(message)

    total = 0
    threads = _threads()
    with (
        TableWriter(destination) as writer,
        ThreadPoolExecutor(threads) as pool,
        _Behind(writer) as behind,
    ):
        for chunk in chunks:
            if chunk.shape[1] == 0:
                columns = [*keep, *output_columns(bundle.model.classes)]
                behind.write(pd.DataFrame(columns=columns))
                continue
            check_keep(chunk, keep, bundle.model.classes)
            if chunk.attrs.get(SHORT_ROWS_ATTR):  # a file cut short: its rows are still scored
                once(chunk.attrs[SHORT_ROWS_ATTR])
            chunk.index = pd.RangeIndex(total + 1, total + 1 + len(chunk))  # data rows, from 1
            out = _chunk_table(bundle, chunk, rules, once, strict, pool, threads)
            behind.write(with_kept(chunk, out, keep))
            total += len(out)
    return total


class _Behind:
    """Writes a file's chunks one behind: a chunk's table is written on a thread of its own
    while the next chunk is scored, in order (each write waits for the one before).

    Writing 100,000 rows of predictions takes about a quarter of a second that the scoring's
    threads, which wait on one another for the GIL, leave partly idle. Leaving the block
    waits for the last write; a failed write is raised at the next write, or on leaving.
    """

    def __init__(self, writer: TableWriter) -> None:
        self._writer = writer
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="prudent-write")
        self._pending: Future[None] | None = None

    def write(self, table: pd.DataFrame) -> None:
        """Write ``table`` after the tables before it."""
        self._wait()
        self._pending = self._thread.submit(self._writer.write, table)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> _Behind:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        try:
            if kind is None:
                self._wait()
            elif self._pending is not None:  # the file is being abandoned: let it finish
                wait([self._pending])
        finally:
            self._thread.shutdown(wait=True)


def _chunk_table(
    bundle: Bundle,
    chunk: pd.DataFrame,
    rules: Any,
    on_notice: Notify,
    strict: bool,
    pool: ThreadPoolExecutor,
    threads: int,
) -> pd.DataFrame:
    """The prediction table of a file chunk, validated once and scored in pieces on the
    pool's threads (of at least :data:`PIECE_ROWS` rows each; one piece when smaller).

    The models' numeric work (trees, matrix products, neighbour searches) releases the GIL,
    so the pieces of a chunk use the machine's cores; each thread runs its native code on one
    core (``threadpool_limits(1)``), so the threads do not oversubscribe the cores. Each row's
    prediction does not depend on the other rows of its piece.
    """
    X = _validated(bundle, chunk, on_notice, strict, rows="data row")
    pieces = max(1, min(threads, len(X) // PIECE_ROWS))
    bounds = [len(X) * i // pieces for i in range(pieces + 1)]

    def piece(i: int) -> pd.DataFrame:
        rows = slice(bounds[i], bounds[i + 1])
        got = bundle.model.predictions(X.iloc[rows], rules=rules)
        return got.to_frame(chunk.index[rows])  # files keep the prediction set's JSON text

    if pieces == 1:
        return piece(0)
    with _ONE_NATIVE_THREAD, threadpool_limits(limits=1):
        return pd.concat(list(pool.map(piece, range(pieces))))


_ONE_NATIVE_THREAD = threading.Lock()
"""Held while a chunk's pieces run under ``threadpool_limits(1)``: the limit is the whole
process's, so two files scored at once in one process set and restore it one at a time."""


def check_keep(frame: pd.DataFrame, keep: Sequence[str], classes: Any) -> None:
    """Refuse columns to keep that the input lacks, or that an output column would hide.

    Raises
    ------
    DataError
        Naming the columns and the fix.
    """
    missing = [c for c in keep if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, list(frame.columns)[:20]))
        raise DataError(
            f"Column(s) {missing} to copy into the output (--id-column, --keep-columns; keep= "
            f"in Python) are not in the input (it has: {have}); check their spelling."
        )
    clash = [c for c in keep if c in set(output_columns(classes))]
    if clash:
        raise DataError(
            f"Column(s) {clash} to keep have the name of an output column; rename them first."
        )


def with_kept(frame: pd.DataFrame, out: pd.DataFrame, keep: Sequence[str]) -> pd.DataFrame:
    """``out`` with the ``keep`` columns of ``frame`` (same index) in front."""
    if not keep:
        return out
    return pd.concat([frame[list(dict.fromkeys(keep))], out], axis=1)
