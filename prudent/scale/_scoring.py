"""Batch scoring on a Dask cluster: Parquet partitions in, partitioned Parquet out.

The bundle travels to each worker once, as a :class:`BundlePlugin` (its files' bytes),
and is loaded and verified there on first use, then kept for the worker's life: the
partition tasks carry only the plugin's name, never the model. The client validates the
columns against the schema before anything runs (the same one-line errors as local
predict), then the workers read, score and write their own partitions; no row passes
through the client.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prudent.bundle import Bundle
from prudent.bundle._predicting import check_keep, with_kept
from prudent.data import validate_frame
from prudent.errors import BundleError, ConfigError, DataReadError, SchemaError
from prudent.models import ColumnKind, output_fields
from prudent.scale._plugin import BundlePlugin, worker_bundle

__all__ = ["output_meta", "output_schema", "predict_parquet"]

_KIND_DTYPES = {
    ColumnKind.LABEL: np.dtype(object),
    ColumnKind.NUMBER: np.dtype(np.float64),
    ColumnKind.FLAG: np.dtype(bool),
    ColumnKind.LABELS: np.dtype(object),
    ColumnKind.TEXT: np.dtype(object),
}


def output_meta(classes: list[Any]) -> pd.DataFrame:
    """An empty prediction table with the file form's columns and dtypes (Dask's ``meta``).

    Examples
    --------
    >>> output_meta(["no", "yes"]).dtypes["proba_yes"]
    dtype('float64')
    >>> list(output_meta(["no", "yes"]).columns[:3])
    ['prediction', 'confidence', 'proba_no']
    """
    return pd.DataFrame(
        {f.name: pd.Series([], dtype=_KIND_DTYPES[f.kind]) for f in output_fields(classes)}
    )


def output_schema(classes: list[Any]) -> Any:
    """The Arrow schema of the Parquet parts: the one local predict's files have.

    Examples
    --------
    >>> output_schema([0, 1]).field("prediction").type
    DataType(int64)
    >>> output_schema(["no", "yes"]).field("prediction_set").type
    DataType(large_string)
    """
    import pyarrow as pa

    label = pa.array(np.asarray(classes).tolist()).type
    text = pa.large_string()  # pandas' text columns become large strings in Arrow
    types = {
        ColumnKind.LABEL: text if pa.types.is_string(label) else label,
        ColumnKind.NUMBER: pa.float64(),
        ColumnKind.FLAG: pa.bool_(),
        ColumnKind.LABELS: text,
        ColumnKind.TEXT: text,
    }
    return pa.schema([(f.name, types[f.kind]) for f in output_fields(classes)])


def bundle_files(root: Path) -> dict[str, bytes]:
    """The bytes of every file of a saved bundle: its manifest, hash and listed files."""
    import json

    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    names = ["manifest.json", "manifest.sha256", *manifest.get("files", {})]
    return {name: (root / name).read_bytes() for name in names}


def score_partition(
    part: pd.DataFrame,
    plugin: str,
    rules: Any,
    strict: bool,
    chunk_rows: int,
    keep: tuple[str, ...] = (),
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Score one partition on a worker, ``chunk_rows`` rows at a time (file form), the
    ``keep`` columns of the input first."""
    bundle = worker_bundle(plugin)
    part = _plain_text(part, keep)
    if len(part) == 0:
        return with_kept(part, output_meta(bundle.classes).set_axis(part.index[:0]), keep)
    pieces = []
    for start in range(0, len(part), chunk_rows):
        chunk = part.iloc[start : start + chunk_rows]
        try:
            got = bundle.predictions(chunk, rules=rules, strict=strict)
        except SchemaError as exc:
            number = (partition_info or {}).get("number", "?")
            raise SchemaError(
                f"Partition {number} (rows numbered from 0 in it): {exc}",
                field=exc.field,
                problems=exc.problems,
            ) from None
        pieces.append(with_kept(chunk, got.to_frame(chunk.index), keep))  # sets as JSON text
    return pd.concat(pieces) if len(pieces) > 1 else pieces[0]


def _input_frame(source: str) -> Any:
    """The Parquet input as a Dask frame; a path that matches nothing is named."""
    import glob

    import dask.dataframe as dd

    local = "://" not in source
    if local and not glob.glob(source):
        raise DataReadError(f"No file or folder matches '{source}'; check the path or pattern.")
    if local and not any(p.endswith(".parquet") or os.path.isdir(p) for p in glob.glob(source)):
        raise DataReadError(
            f"'{source}' holds no .parquet file: --dask reads Parquet only "
            "(write CSV or JSON Lines as Parquet first, or predict without --dask)."
        )
    return dd.read_parquet(source)


def _check_destination(destination: Path) -> None:
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise ConfigError(
            f"Output '{destination}' exists and is not an empty folder; "
            "choose a new folder for the partitioned Parquet output."
        )


def _part_name(i: int) -> str:
    return f"part-{i:05d}.parquet"  # zero-padded: the names sort in row order


def rows_written(folder: Path) -> int:
    """Rows in a folder of Parquet parts, read from their footers only."""
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(p).num_rows for p in sorted(folder.glob("*.parquet")))


def predict_parquet(
    bundle: Bundle,
    source: str,
    destination: Path,
    client: Any,
    *,
    chunk_rows: int = 50_000,
    rules: Any = None,
    strict: bool = False,
    on_notice: Callable[[str], None] | None = None,
    show_progress: bool = False,
    keep: Sequence[str] = (),
) -> int:
    """Score Parquet files on a Dask cluster into a folder of Parquet parts, in input order.

    Each input partition becomes ``part-NNNNN.parquet`` in ``destination``, written by the
    worker that scored it, with the columns, order and values of :meth:`Bundle.predict_file`.
    The parts go to a hidden folder renamed to ``destination`` once every one is written.
    The workers must see ``source`` and ``destination`` (a shared or object-store path).

    Parameters
    ----------
    bundle
        A saved bundle (its files are sent to each worker once).
    source
        A Parquet file, folder or glob pattern.
    destination
        A new (or empty) folder.
    client
        A ``distributed.Client``.
    chunk_rows
        Rows a worker predicts at once within a partition.
    rules, strict, on_notice
        As :meth:`Bundle.predict_file`.
    show_progress
        Show Dask's progress bar (on stderr).
    keep
        Input columns (an id, say) copied first into every output row.

    Returns
    -------
    int
        The number of rows predicted.

    Raises
    ------
    DataError
        The input cannot be read, or a value does not fit the schema (named).
    ConfigError
        ``destination`` exists and is not an empty folder.
    """
    if bundle.path is None:
        raise BundleError("Save the bundle before scoring on Dask: the workers load its files.")
    _check_destination(destination)
    frame = _input_frame(source)
    _, notices = validate_frame(frame._meta, bundle.schema, strict=strict)  # columns, early
    for message in notices:
        if on_notice is not None:
            on_notice(message)
    kept = tuple(dict.fromkeys(keep))
    check_keep(frame._meta, kept, bundle.classes)
    name = f"prudent-bundle-{bundle.version}-{uuid.uuid4().hex[:8]}"
    client.register_plugin(BundlePlugin(bundle_files(bundle.path)), name=name)
    partial = destination.with_name(f".{destination.name}.partial")
    try:
        meta = with_kept(_plain_text(frame._meta, kept), output_meta(bundle.classes), kept)
        scored = frame.map_partitions(
            score_partition, name, rules, strict, chunk_rows, kept, meta=meta
        )
        write = scored.to_parquet(
            str(partial),
            write_index=False,
            compute=False,
            name_function=_part_name,
            schema=_schema(frame._meta, kept, bundle.classes),
        )
        future = client.compute(write)
        if show_progress:
            _progress(future)
        future.result()
        shutil.rmtree(destination, ignore_errors=True)  # an empty folder, checked above
        os.replace(partial, destination)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        client.unregister_worker_plugin(name)
    return rows_written(destination)


def _plain_text(part: pd.DataFrame, keep: tuple[str, ...]) -> pd.DataFrame:
    """Kept text columns in pandas' default text dtype (missing as NaN), as a local read
    gives them; Dask reads text as the NA-valued string dtype."""
    nullable = [c for c in keep if isinstance(part[c].dtype, pd.StringDtype)]
    return part.astype(dict.fromkeys(nullable, "str")) if nullable else part


def _schema(meta: pd.DataFrame, keep: tuple[str, ...], classes: list[Any]) -> Any:
    """The parts' Arrow schema: the kept input columns' types, then :func:`output_schema`."""
    import pyarrow as pa

    kept = pa.Schema.from_pandas(meta[list(keep)], preserve_index=False) if keep else []
    return pa.schema([*kept, *output_schema(classes)])


def _progress(future: Any) -> None:
    import sys

    from distributed import progress

    with redirect_stdout(sys.stderr):  # progress on stderr, results on stdout
        progress(future, notebook=False)  # type: ignore[no-untyped-call]
        print(file=sys.stderr)
