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

from typing import Any

import pandas as pd

import prudent.fit as _fit_package
from prudent.bundle import Bundle, load
from prudent.data import load_example
from prudent.errors import PrudentError
from prudent.fit import FitSpec

__version__ = "0.1.0"

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
    spec = FitSpec(target=target, **options)
    result = _fit_package.fit_table(frame, spec, ood_examples=ood_examples)
    return Bundle.from_fit(result)
