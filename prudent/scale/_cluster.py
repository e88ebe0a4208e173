"""Connect to a Dask cluster, or start a local one, for the length of a command."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prudent.errors import ConfigError

__all__ = ["dask_client"]


@contextmanager
def dask_client(address: str, *, n_workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` on ``address``, or on a new ``LocalCluster`` for ``"local"``.

    The local cluster has one process per worker and one thread per worker (the models
    are not thread-bound, but processes keep one worker's memory from another's), no
    dashboard, and is closed on exit; a remote cluster is left running.

    Parameters
    ----------
    address
        ``tcp://host:port`` of a ``dask scheduler``, or ``local``.
    n_workers
        Workers of the local cluster (default: one per core).

    Raises
    ------
    ConfigError
        The scheduler cannot be reached.
    """
    from distributed import Client, LocalCluster

    if address == "local":
        with (
            LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                # the scheduler, the workers and its HTTP server (a free port): all on 127.0.0.1
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,  # type: ignore[no-untyped-call]
        ):
            yield client
        return
    try:
        client = Client(address, timeout="10s")  # type: ignore[no-untyped-call]
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"Cannot reach the Dask scheduler at '{address}' ({exc}); check the address "
            "(tcp://HOST:PORT of `dask scheduler`) or pass --dask local."
        ) from None
    with client:
        yield client
