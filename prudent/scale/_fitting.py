"""Fitting on Dask: the folds of every candidate family as tasks on the cluster.

:class:`DaskRunner` is the :class:`prudent.pipeline.TaskRunner` that ``prudent fit --dask``
passes to the pipeline. The training table, labels and folds are scattered to the cluster
once per fit (each worker fetches them once) and every task names them by reference, so
no task carries the data through the scheduler. The rest of the fit (ensembles,
calibration, OOD, the final test) runs in the client process: the training data must fit
in one machine's memory, the client's and each worker's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["DaskRunner"]


class DaskRunner:
    """Runs a fit's independent tasks on a ``distributed.Client``'s workers.

    Parameters
    ----------
    client
        A connected ``distributed.Client``.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self.workers = max(1, sum(client.nthreads().values()))
        self._scattered: list[tuple[Any, Any]] = []  # (object, its future): kept alive

    def _handle(self, value: Any) -> Any:
        for held, future in self._scattered:
            if held is value:
                return future
        future = self.client.scatter(value, hash=False)
        self._scattered.append((value, future))
        return future

    def map(
        self,
        fn: Callable[..., Any],
        tasks: Sequence[tuple[Any, ...]],
        shared: tuple[Any, ...],
        advance: Callable[[int], None],
    ) -> list[Any]:
        """``[fn(*shared, *task) for task in tasks]`` on the workers, in order.

        ``shared`` values are scattered the first time they are seen and reused after.
        """
        from distributed import as_completed

        handles = [self._handle(v) for v in shared]
        futures = [self.client.submit(fn, *handles, *task, pure=False) for task in tasks]
        for _ in as_completed(futures):  # type: ignore[no-untyped-call]
            advance(1)
        return list(self.client.gather(futures))
