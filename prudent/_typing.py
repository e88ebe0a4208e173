"""Shared type aliases used across prudent's layers."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
"""A float array of any shape."""
IntArray: TypeAlias = npt.NDArray[np.int64]
"""An integer array of any shape."""
BoolArray: TypeAlias = npt.NDArray[np.bool_]
"""A boolean array of any shape."""
ProbaMatrix: TypeAlias = npt.NDArray[np.float64]
"""Class probabilities, shape ``(n_samples, n_classes)``, rows summing to 1."""
Labels: TypeAlias = npt.NDArray[Any]
"""Class labels, shape ``(n_samples,)``, of the dtype of ``classes_``."""
EncodedLabels: TypeAlias = npt.NDArray[np.int64]
"""Class indices into ``classes_``, shape ``(n_samples,)``."""
