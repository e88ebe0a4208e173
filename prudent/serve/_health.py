"""Health: whether the service lives and whether it is ready, with the reason when not."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from prudent.data import Role

if TYPE_CHECKING:
    from prudent.bundle import Bundle

__all__ = ["SMOKE_FILE", "Health", "smoke_rows"]

SMOKE_FILE = "test_rows.parquet"


@dataclass(frozen=True)
class Health:
    """The service's state, as the health routes report it.

    Attributes
    ----------
    live
        The process answers.
    ready
        The bundle is loaded, its smoke prediction passed and the log is writable.
    reason
        ``"ready"``, or why the service is not ready.
    """

    live: bool
    ready: bool
    reason: str


def smoke_rows(bundle: Bundle) -> pd.DataFrame:
    """Return one input row to smoke-test a bundle with.

    The first of the rows the bundle stores as evidence (``test_rows.parquet``); when it
    stores none, a row of missing values, which every fitted pipeline imputes.

    Parameters
    ----------
    bundle
        The loaded bundle.

    Returns
    -------
    pandas.DataFrame
        One row with the schema's feature columns.
    """
    names = bundle.schema.feature_names
    data = bundle.extras.get(SMOKE_FILE)
    if data is not None:
        rows = pd.read_parquet(io.BytesIO(data))
        if len(rows) and set(names) <= set(rows.columns):
            return rows.loc[:0, names].reset_index(drop=True)
    numeric = set(bundle.schema.names(Role.numeric, Role.boolean))
    return pd.DataFrame({n: [float("nan") if n in numeric else None] for n in names})
