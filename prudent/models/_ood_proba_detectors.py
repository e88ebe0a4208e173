"""The OOD detectors on a model's class probabilities ``P``: max-probability and energy.

They share the contract of :class:`~prudent.models._ood_detector_base._Detector`; the
feature-space detectors are in :mod:`prudent.models._ood_detectors`, which re-exports these
two (bundles saved before they moved name them there).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logsumexp

from prudent._typing import FloatArray
from prudent.errors import ConfigError
from prudent.models._ood_detector_base import _Detector

__all__ = ["EnergyScore", "MaxProbabilityScore"]


class MaxProbabilityScore(_Detector):
    """One minus the highest class probability (Hendrycks & Gimpel, 2017); takes ``P``.

    Examples
    --------
    >>> MaxProbabilityScore().fit([[0.5, 0.5]]).unusualness([[0.9, 0.1]]).round(2).tolist()
    [0.1]
    """

    def _score(self, X: FloatArray) -> FloatArray:
        return np.asarray(1.0 - X.max(axis=1), dtype=np.float64)


class EnergyScore(_Detector):
    """The energy score (Liu et al., 2020) with log-probabilities as logits; takes ``P``.

    ``-T * logsumexp(log(p) / T)``. Logits are known from probabilities only up to a shift
    per row, so on ``log p`` the energy equals ``(1 - T)`` times the Rényi entropy of order
    ``1 / T``: it is identically 0 at ``T = 1`` and ranks confident rows as unusual for
    ``T > 1``. Hence ``temperature`` must lie in (0, 1); the default 0.5 gives half the
    collision entropy ``-log(sum(p ** 2))``.

    Parameters
    ----------
    temperature
        ``T``, in (0, 1).

    Examples
    --------
    >>> s = EnergyScore().fit([[0.5, 0.5]]).unusualness([[0.5, 0.5], [0.9, 0.1]])
    >>> s.round(3).tolist()
    [0.347, 0.099]
    """

    def __init__(self, temperature: float = 0.5) -> None:
        self.temperature = temperature

    def _fit(self, X: FloatArray, y: Any) -> None:
        if not 0 < self.temperature < 1:
            raise ConfigError(
                f"EnergyScore got temperature={self.temperature}; on probabilities the energy "
                "is constant at 1 and reversed above it: use a temperature in (0, 1)."
            )

    def _score(self, X: FloatArray) -> FloatArray:
        t = self.temperature
        logp = np.log(np.clip(X, 1e-300, None))
        return np.asarray(-t * logsumexp(logp / t, axis=1), dtype=np.float64)
