"""Degraded answers, used only when the primary path fails or passes its deadline.

The bundle's own cascade (``Bundle.predictions``) decides every normal prediction. When it
cannot answer in time, the backup model answers instead; when that fails too, every row goes
to people. Neither path decides here: both hand the failure to
:func:`prudent.models.decide`, so the bundle's rules still hold (a rule that sends a case to
review does so on every path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from prudent.data import validate_frame
from prudent.errors import ServiceError
from prudent.models import Predictions

if TYPE_CHECKING:
    from prudent.bundle import Bundle

__all__ = ["backup_answer", "review_answer"]


def backup_answer(bundle: Bundle, frame: pd.DataFrame, failure: str) -> Predictions:
    """Answer the rows with the bundle's rules, then its backup model (decision ``backup``).

    Parameters
    ----------
    bundle
        The bundle served.
    frame
        The rows received.
    failure
        Why the primary path did not answer; starts each backup row's ``reason``.

    Returns
    -------
    Predictions
        The backup's probabilities; no OOD score (the detector reads the primary's
        probabilities) and a prediction set of the top label(s).

    Raises
    ------
    SchemaError
        When the rows do not fit the schema.
    ServiceError
        When the bundle has no backup model.
    """
    if bundle.model.backup is None:
        raise ServiceError("The bundle has no backup model to answer in the primary's place.")
    X, _ = validate_frame(frame, bundle.schema)
    return bundle.model.backup_predictions(X, failure)


def review_answer(bundle: Bundle, n_rows: int, failure: str) -> Predictions:
    """Send every row to review, with no prediction (decision ``review``, ``models_failed``).

    Parameters
    ----------
    bundle
        The bundle served.
    n_rows
        How many rows.
    failure
        Why no model answered.

    Returns
    -------
    Predictions
        No label and no probabilities.
    """
    return bundle.model.no_predictions(n_rows, failure)
