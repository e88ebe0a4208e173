"""A bundle's predictions: tables in memory, files streamed in bounded memory.

:class:`~prudent.bundle.Bundle`'s ``predictions``, ``predict`` and ``predict_file`` delegate
here; ``check_keep`` and ``with_kept`` serve the Dask batch scoring too.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from threadpoolctl import threadpool_limits

from prudent.data import TableWriter, iter_table, table_format, validate_frame
from prudent.errors import ConfigError, DataError
from prudent.models._predictions import Predictions, output_columns

if TYPE_CHECKING:
    from prudent.bundle._bundle import Bundle

__all__ = [
    "check_chunk_rows",
    "check_keep",
    "predict",
    "predict_file",
    "predictions",
    "with_kept",
]

Notify = Callable[[str], None] | None

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
    bundle: Bundle, frame: pd.DataFrame, *, rules: Any, on_notice: Notify, strict: bool
) -> Predictions:
    """:meth:`Bundle.predictions <prudent.bundle.Bundle.predictions>`."""
    return bundle.model.predictions(_validated(bundle, frame, on_notice, strict), rules=rules)


def _validated(bundle: Bundle, frame: pd.DataFrame, on_notice: Notify, strict: bool) -> Any:
    """``frame`` read by the bundle's schema, its notices handed to ``on_notice``."""
    X, notices = validate_frame(frame, bundle.schema, strict=strict)
    for n in notices:
        if on_notice is not None:
            on_notice(n)
    return X


def predict(
    bundle: Bundle,
    frame: pd.DataFrame,
    *,
    rules: Any,
    on_notice: Notify,
    strict: bool,
    keep: Sequence[str],
    explain: bool,
) -> pd.DataFrame:
    """:meth:`Bundle.predict <prudent.bundle.Bundle.predict>`."""
    check_keep(frame, keep, bundle.model.classes)
    out = bundle.predictions(frame, rules=rules, on_notice=on_notice, strict=strict)
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
    keep: Sequence[str],
) -> int:
    """:meth:`Bundle.predict_file <prudent.bundle.Bundle.predict_file>`."""
    check_chunk_rows(chunk_rows)
    target = Path(destination)
    if target.resolve() == Path(source).resolve():
        raise ConfigError(f"Output '{target}' is the input file; choose another output path.")
    table_format(target)  # name the real output, not the hidden one, if it is wrong
    partial = target.with_name(f".{target.stem}.partial{target.suffix}")
    try:
        chunks = iter_table(Path(source), chunk_rows=chunk_rows, encoding=encoding)
        total = _stream(bundle, chunks, partial, rules, on_notice, strict, tuple(keep))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return total


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
    with TableWriter(destination) as writer, ThreadPoolExecutor(threads) as pool:
        for chunk in chunks:
            if chunk.shape[1] == 0:
                columns = [*keep, *output_columns(bundle.model.classes)]
                writer.write(pd.DataFrame(columns=columns))
                continue
            check_keep(chunk, keep, bundle.model.classes)
            chunk.index = pd.RangeIndex(total, total + len(chunk))  # file row numbers
            out = _chunk_table(bundle, chunk, rules, once, strict, pool, threads)
            writer.write(with_kept(chunk, out, keep))
            total += len(out)
    return total


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
    X = _validated(bundle, chunk, on_notice, strict)
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
        raise DataError(f"Column(s) {missing} to keep are not in the input (it has: {have}).")
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
