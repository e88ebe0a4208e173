"""prudent: from labeled data to a classifier people can trust in production.

Examples
--------
>>> import prudent
>>> df = prudent.load_example("iris")
>>> bundle = prudent.fit(df, target="target", time_limit=20, candidates=("lightgbm",))
>>> list(bundle.predict(df.head(2)).columns[:2])
['prediction', 'confidence']
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from prudent.errors import PrudentError

if TYPE_CHECKING:
    import pandas as pd

    from prudent.bundle import Bundle, load
    from prudent.data import load_example
    from prudent.fit import FitSpec

__version__ = "0.1.0"

_LAZY = {
    "Bundle": "prudent.bundle",
    "FitSpec": "prudent.fit",
    "load": "prudent.bundle",
    "load_example": "prudent.data",
}


def __getattr__(name: str) -> Any:
    """Import the heavy parts on first use, so that ``prudent serve`` starts in a blink."""
    if name not in _LAZY:
        raise AttributeError(f"module 'prudent' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """``prudent.fit`` stays the function when the ``prudent.fit`` package is first imported
    (the import system would record the package under the same name)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "fit" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = ["Bundle", "FitSpec", "PrudentError", "__version__", "fit", "load", "load_example"]


def fit(
    frame: pd.DataFrame, target: str, *, ood_examples: pd.DataFrame | None = None, **options: Any
) -> Bundle:
    """Fit prudent's whole pipeline on a table and return an in-memory bundle.

    Parameters
    ----------
    frame
        The training table, target column included.
    target
        The label column.
    ood_examples
        Known out-of-distribution rows, to choose the OOD detector and measure it.
    **options
        Any field of :class:`FitSpec` (``time_limit``, ``text``, ``seed``, …).

    Returns
    -------
    Bundle
        Call ``.predict(df)`` or ``.save(path)`` on it.
    """
    for key in ("text", "categorical", "numeric", "drop", "candidates"):
        if isinstance(options.get(key), str):
            options[key] = (options[key],)
        elif options.get(key) is not None:
            options[key] = tuple(options[key])
    from prudent.bundle import Bundle
    from prudent.fit import FitSpec, fit_table

    spec = FitSpec(target=target, **options)
    result = fit_table(frame, spec, ood_examples=ood_examples)
    return Bundle.from_fit(result)
