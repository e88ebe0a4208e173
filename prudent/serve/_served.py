"""What the predictor serves right now: a bundle and its two prediction paths, swapped whole.

A request reads :class:`Served` once and uses it to the end, so a hot swap never mixes two
bundles in one answer. :func:`check_replacement` and :func:`smoke_error` are the checks a new
bundle must pass before it replaces the served one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from prudent.errors import BundleError
from prudent.models import Predictions
from prudent.serve._fallback import backup_answer
from prudent.serve._health import smoke_rows
from prudent.serve._model_process import ModelProcess
from prudent.serve._rows import Rows, rows_frame

if TYPE_CHECKING:
    from prudent.bundle import Bundle

__all__ = ["BackupFn", "PrimaryFn", "Served", "check_replacement", "smoke_error"]

PrimaryFn = Callable[[pd.DataFrame], Predictions]
BackupFn = Callable[[pd.DataFrame, str], Predictions]


@dataclass(frozen=True)
class Served:
    """A bundle with its primary path (``bundle.predict``) and its backup path.

    Attributes
    ----------
    bundle
        The bundle.
    primary
        Predicts and decides rows (``bundle.predictions``).
    backup
        Answers rows with the backup model alone, given why the primary did not.
    """

    bundle: Bundle
    primary: PrimaryFn
    backup: BackupFn

    @classmethod
    def of(
        cls, bundle: Bundle, primary: PrimaryFn | None = None, backup: BackupFn | None = None
    ) -> Served:
        """Serve ``bundle`` with its own paths, or with the ones given (fault-test seams)."""

        def own_backup(frame: pd.DataFrame, why: str) -> Predictions:
            return backup_answer(bundle, frame, why)

        return cls(bundle, primary or bundle.predictions, backup or own_backup)

    def predict_parts(self, parts: Sequence[Rows]) -> Predictions:
        """The primary path's predictions for the rows of ``parts`` together, in order.

        A :class:`~prudent.serve._model_process.ModelProcess` is handed the parts as received
        (records cost less to send than a table); any other path gets one table.
        """
        if isinstance(self.primary, ModelProcess):
            return self.primary.score(parts)
        return self.primary(rows_frame(parts))


def smoke_error(served: Served) -> str | None:
    """Predict one stored example row; return why it failed, or None when it passed; blocks.

    Parameters
    ----------
    served
        The bundle and paths to try.

    Returns
    -------
    str or None
        The failure, named; None on success.
    """
    try:
        out = served.primary(smoke_rows(served.bundle))
        if len(out) != 1:
            raise ValueError(f"{len(out)} rows came back for 1")
    except Exception as exc:
        return f"the smoke prediction failed: {type(exc).__name__}: {exc}"
    return None


def _interface(bundle: Bundle) -> tuple[object, ...]:
    """What the HTTP schemas are built from: the target, and each input's name and role (not
    the dtype pandas read, nor the columns the model drops: a retrained bundle changes them —
    an integer column with a missing value becomes float64, an identifier column is pinned
    as dropped — and a swap was refused for no change a caller could see)."""
    return bundle.schema.target, tuple((c.name, c.role) for c in bundle.schema.features)


def check_replacement(current: Bundle, new: Bundle) -> None:
    """Refuse a new bundle whose inputs or classes differ from the served one's.

    The request and answer schemas of the HTTP APIs are built from the served bundle, so a
    bundle with other columns or classes needs a restart, not a swap.

    Parameters
    ----------
    current
        The bundle served now.
    new
        The bundle that would replace it.

    Raises
    ------
    BundleError
        Naming what differs.
    """
    if _interface(new) != _interface(current):
        before, after = current.schema.feature_names, new.schema.feature_names
        raise BundleError(
            f"The new bundle's input schema differs from the one served (columns {after} vs "
            f"{before}, or their roles); restart the service to serve it."
        )
    if list(new.classes) != list(current.classes):
        raise BundleError(
            f"The new bundle's classes {new.classes} differ from the ones served "
            f"{current.classes}; restart the service to serve it."
        )
