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

import importlib as _importlib
from typing import TYPE_CHECKING, Any

from prudent.errors import PrudentError, PrudentWarning

if TYPE_CHECKING:
    from prudent._library import fit, load
    from prudent._sklearn import PrudentClassifier
    from prudent.bundle import Bundle
    from prudent.data import load_example
    from prudent.models import RuleSet
    from prudent.pipeline import FitSpec

__version__ = "0.1.0"

_LAZY = {
    "Bundle": "prudent.bundle",
    "FitSpec": "prudent.pipeline",
    "PrudentClassifier": "prudent._sklearn",
    "RuleSet": "prudent.models",
    "fit": "prudent._library",
    "load": "prudent._library",
    "load_example": "prudent.data",
}

__all__ = [
    "Bundle",
    "FitSpec",
    "PrudentClassifier",
    "PrudentError",
    "PrudentWarning",
    "RuleSet",
    "__version__",
    "fit",
    "load",
    "load_example",
]


def __getattr__(name: str) -> Any:
    """Import the heavy parts on first use, so that ``prudent serve`` starts in a blink."""
    if name not in _LAZY:
        raise AttributeError(f"module 'prudent' has no attribute {name!r}")
    value = getattr(_importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names only (not the helpers used to import lazily)."""
    return sorted(__all__)
