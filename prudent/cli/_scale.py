"""``--dask``: the commands' bridge to :mod:`prudent.scale`, imported only when it is given."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console

from prudent.bundle import Bundle
from prudent.errors import ConfigError

__all__ = ["check_dask_out", "fit_runner", "predict_on_dask"]

NOT_PARQUET = (".csv", ".json", ".jsonl", ".tsv", ".txt")
"""Names of single text files: ``--dask`` writes a folder of Parquet parts, never one."""


def check_dask_out(out: Path) -> None:
    """Refuse an ``--out`` named as a text file, since ``--dask`` writes a folder of Parquet
    parts there (``out.csv`` became such a folder, reported as written).

    Examples
    --------
    >>> check_dask_out(Path("scored"))
    >>> check_dask_out(Path("out.csv"))
    Traceback (most recent call last):
    ...
    prudent.errors.ConfigError: --out 'out.csv' names a .csv file, but with --dask the \
predictions are written as a folder of Parquet parts; give a folder name, e.g. --out 'out'.
    """
    if out.suffix.lower() in NOT_PARQUET:
        raise ConfigError(
            f"--out '{out}' names a {out.suffix} file, but with --dask the predictions are "
            f"written as a folder of Parquet parts; give a folder name, e.g. --out "
            f"'{out.with_suffix('')}'."
        )


def predict_on_dask(
    model: Bundle,
    source: str,
    out: Path,
    address: str,
    *,
    console: Console,
    on_notice: Callable[[str], None],
    **options: Any,
) -> int:
    """Score Parquet ``source`` into the folder ``out`` on the cluster at ``address``."""
    from prudent.scale import dask_client, predict_parquet

    with dask_client(address) as client:
        return predict_parquet(
            model,
            source,
            out,
            client,
            on_notice=on_notice,
            show_progress=console.is_terminal,
            **options,
        )


@contextmanager
def fit_runner(address: str | None) -> Iterator[Any]:
    """A task runner on the Dask cluster at ``address`` for a fit; ``None`` without one."""
    if address is None:
        yield None
        return
    from prudent.scale import DaskRunner, dask_client

    with dask_client(address) as client:
        yield DaskRunner(client)
