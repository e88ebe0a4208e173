"""``--dask``: the commands' bridge to :mod:`prudent.scale`, imported only when it is given."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console

from prudent.bundle import Bundle

__all__ = ["fit_runner", "predict_on_dask"]


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
