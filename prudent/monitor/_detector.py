"""A streaming face over :func:`window_drift`, with river's detector API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import pandas as pd

from prudent.data import validate_frame
from prudent.errors import ConfigError
from prudent.monitor._drift import DriftBaseline, DriftOptions, DriftReport, window_drift
from prudent.monitor._figures import NotEnoughData
from prudent.monitor._reference import Reference

__all__ = ["ReferenceDriftDetector"]


class ReferenceDriftDetector:
    """Feed input rows one at a time; every ``window_size`` rows the window is tested.

    Follows river's drift detectors: :meth:`update` takes one observation and returns the
    detector, and ``drift_detected`` says whether the last completed window drifted.

    Parameters
    ----------
    reference
        The fit-time reference.
    window_size
        Rows per tested window (at least ``options.min_rows``).
    options
        Drift options.

    Attributes
    ----------
    drift_detected : bool
        Whether the last completed window had a flagged feature.
    report : DriftReport or NotEnoughData or None
        The last completed window's report (None before the first).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from prudent.data import infer_schema
    >>> from prudent.monitor import Promises, Reference
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=1000), "y": rng.integers(0, 2, 1000)})
    >>> reference = Reference(schema=infer_schema(ref, "y"), features=ref[["x"]],
    ...                       confidence=np.full(1000, 0.9), promises=Promises(0.8, 0.9, 0.1))
    >>> detector = ReferenceDriftDetector(reference, window_size=200)
    >>> for v in rng.normal(2.0, size=200):
    ...     detector = detector.update({"x": v})
    >>> detector.drift_detected
    True
    """

    def __init__(
        self, reference: Reference, *, window_size: int = 500, options: DriftOptions | None = None
    ) -> None:
        self.options = options or DriftOptions()
        if not isinstance(window_size, int) or window_size < self.options.min_rows:
            raise ConfigError(
                f"window_size must be an integer of at least min_rows={self.options.min_rows}, "
                f"but {window_size!r} was received."
            )
        self.reference = reference
        self._baseline = DriftBaseline.of(reference)
        self.window_size = window_size
        self.drift_detected = False
        self.report: DriftReport | NotEnoughData | None = None
        self._rows: list[Mapping[str, Any]] = []

    def update(self, x: Mapping[str, Any]) -> Self:
        """Add one input row; test the window when it is full.

        Parameters
        ----------
        x
            Feature name → value, as the model receives it.

        Returns
        -------
        ReferenceDriftDetector
            This detector.

        Raises
        ------
        SchemaError
            When the completed window does not fit the model's schema.
        """
        self._rows.append(x)
        if len(self._rows) >= self.window_size:
            frame, _ = validate_frame(pd.DataFrame(self._rows), self.reference.schema)
            self._rows = []
            self.report = window_drift(self._baseline, frame, options=self.options)
            self.drift_detected = isinstance(self.report, DriftReport) and bool(self.report.drifted)
        return self
