"""Dask adapters: batch scoring and fitting on a cluster. Nothing else in prudent imports Dask.

The names are imported on first use: a worker that unpickles :class:`BundlePlugin` (in its
event loop) imports no model library until a task needs the bundle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prudent._lazy import lazy_getattr

if TYPE_CHECKING:
    from prudent.scale._cluster import dask_client
    from prudent.scale._fitting import DaskRunner
    from prudent.scale._plugin import BundlePlugin
    from prudent.scale._scoring import output_meta, output_schema, predict_parquet

_LAZY = {
    "BundlePlugin": "prudent.scale._plugin",
    "DaskRunner": "prudent.scale._fitting",
    "dask_client": "prudent.scale._cluster",
    "output_meta": "prudent.scale._scoring",
    "output_schema": "prudent.scale._scoring",
    "predict_parquet": "prudent.scale._scoring",
}

__all__ = [
    "BundlePlugin",
    "DaskRunner",
    "dask_client",
    "output_meta",
    "output_schema",
    "predict_parquet",
]


__getattr__ = lazy_getattr(__name__, _LAZY)
